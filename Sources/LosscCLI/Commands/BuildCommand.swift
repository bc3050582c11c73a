import Codegen
import Foundation
import LossDSL

/// `lossc build FILE -o libNAME.so`: emit the C kernels and build them into a shared library
/// with the system C compiler (for ctypes, dlopen, or linking into a C/C++ trainer).
enum BuildCommand {
    static let spec = CommandSpec(
        name: "build", summary: "Build the loss's C kernels into a shared library with the system C compiler.",
        usage: "build FILE -o libNAME.so [--header NAME.h] [--name NAME] [--param k=v] [--cc PATH] [--fma | --flags \"FLAGS\"]",
        options: [
            OptionSpec(name: "output", value: "PATH", help: "The shared library to write (required).", short: "o"),
            OptionSpec(name: "header", value: "PATH", help: "Also write the C header there."),
            OptionSpec(name: "name", value: "NAME", help: "Symbol prefix (default: the loss name; sanitized)."),
            OptionSpec(name: "param", value: "NAME=VALUE", help: "Override a param's built-in default (repeatable).", repeatable: true),
            OptionSpec(name: "protected", value: nil, help: "CSE-Autoloss's protected log/div/exp."),
            OptionSpec(name: "cc", value: "PATH", help: "C compiler (default $CC, else cc, gcc or clang on PATH)."),
            OptionSpec(name: "fma", value: nil, help: "Let the AVX2/AVX-512 code fuse a*b+c (-ffp-contract=fast -DLOSSC_FMA): faster; those paths then differ from the baseline path in the last bits."),
            OptionSpec(name: "flags", value: "\"FLAGS\"", help: "Compiler flags (default -O3 -fno-math-errno -ffp-contract=off -std=c99; the library picks its AVX2/AVX-512 code at run time)."),
        ],
        details: """
        The library exports NAME_f32, NAME_f64, NAME_mean_f32, NAME_mean_f64,
        NAME_default_params, NAME_set_threads(n) (0 = all cores, default 1; same sum bits
        for any n) and NAME_set_isa(level) (ranking losses: NAME_f32 and NAME_f64 only, params
        fixed at build); see 'lossc emit --target c' for the header and the layouts. It picks its
        baseline, AVX2+FMA or AVX-512 code at the first call ($LOSSC_ISA=baseline|avx2|avx512 caps it).
        -fPIC -shared, -lm and -pthread are always added. Never pass -ffast-math: it deletes NaN checks.
        """)

    static func run(_ a: Arguments) throws -> ExitStatus {
        let path = a.positionals[0]
        guard let output = a.value("output"), !output.isEmpty else {
            throw UsageError("missing -o PATH", hint: "e.g. lossc build \(path) -o libloss.so")
        }
        let params = try parseParams(a.values["param"] ?? [])
        let ranking = try RankingCLI.rankingFile(path)
        if ranking != nil, a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
        if let name = a.value("name"), name.isEmpty { throw UsageError("--name must not be empty") }
        // A library written to a path may be copied to other machines: portable flags by default
        // (the emitted C carries its own AVX2 and AVX-512 copies, chosen at run time).
        var loader = NativeLoader(flags: SystemCompiler.optimizeFlags)
        if let cc = a.value("cc") {
            guard let c = SystemCompiler.named(cc) else { throw UsageError("--cc: '\(cc)' not found") }
            loader.compiler = c
        }
        guard loader.compiler != nil else {
            throw UsageError("no C compiler found", hint: "install cc, gcc or clang, set CC, or pass --cc PATH")
        }
        if a.has("fma") {
            guard a.value("flags") == nil else {
                throw UsageError("--fma and --flags together", hint: "add -ffp-contract=fast -DLOSSC_FMA to --flags instead")
            }
            loader.flags = SystemCompiler.fmaFlags
        }
        if let f = a.value("flags") {
            loader.flags = f.split(separator: " ").map(String.init)
            guard loader.flags.allSatisfy({ $0.hasPrefix("-") }) else { throw UsageError("--flags: every flag must start with '-'") }
        }
        // The compiler writes into a private directory; the library (and the header) are then
        // installed together, all or nothing, through OutputFile.
        let work = try privateDirectory("build")
        defer { removeTree(work) }
        let built = work + "/lib.so"
        // The formula is loaded (usage errors) before anything is built.
        let build: () throws(NativeError) -> CSource
        if let file = ranking {
            let f = try RankingCLI.load(file, params: params)
            build = { () throws(NativeError) in try loader.buildRankingLibrary(f, name: a.value("name"), output: built, command: a.commandLine) }
        } else {
            let formula = try loadFormula(path, params: params)
            guard formula.kind.isSupported else { throw UsageError("\(path): '\(formula.kind.rawValue)' losses cannot be built yet") }
            let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected")))
            build = { () throws(NativeError) in try loader.buildLibrary(loss, name: a.value("name"), output: built, command: a.commandLine) }
        }
        let pair: CSource
        do { pair = try build() } catch {
            Terminal.error("lossc build: error: \(error.message)\n")
            return .badInput
        }
        guard let library = FileManager.default.contents(atPath: built) else { throw UsageError("the compiler wrote no library") }
        var files = [(path: output, bytes: [UInt8](library))]
        if let header = a.value("header") { files.append((header, Array(pair.header.utf8))) }
        try writeOutputs(files, newFileMode: 0o777)
        let p = pair.prefix
        Terminal.error("wrote \(output) (" + (ranking != nil ? "\(p)_f32, \(p)_f64: ranking loss, see the header"
                                                           : "\(p)_f32, \(p)_f64, \(p)_mean_f32, \(p)_mean_f64, \(p)_set_threads") + ")\n")
        return .success
    }
}

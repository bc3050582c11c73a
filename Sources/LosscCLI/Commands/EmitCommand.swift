import Codegen
import Foundation
import LossDSL
import LossRanking

/// `lossc emit FILE --target c|swift`: write the loss as C kernels (a `.h/.c` pair) or as one
/// standalone Swift file.
enum EmitCommand {
    static let spec = CommandSpec(
        name: "emit", summary: "Emit the loss and its gradient as C kernels or a standalone Swift file.",
        usage: "emit FILE --target c|swift [-o PATH] [--precision f32|f64|both] [--name NAME] [--param k=v]",
        options: [
            OptionSpec(name: "target", value: "c|swift", help: "Backend (default c)."),
            OptionSpec(name: "output", value: "PATH", help: "c: writes PATH.h and PATH.c (a .c/.h suffix is dropped); swift: PATH. Default: stdout.", short: "o"),
            OptionSpec(name: "precision", value: "f32|f64|both", help: "Kernel precisions (default both)."),
            OptionSpec(name: "name", value: "NAME", help: "Symbol prefix (default: the loss name; sanitized)."),
            OptionSpec(name: "param", value: "NAME=VALUE", help: "Override a param's emitted default (repeatable).", repeatable: true),
            OptionSpec(name: "protected", value: nil, help: "CSE-Autoloss's protected log/div/exp."),
        ],
        details: """
        C: without -o the self-contained .c is printed. The kernels are
          double NAME_f32(size_t n, <inputs>, const NAME_params *params, float *loss, float *grad)
        (and _f64, and NAME_mean_f32/_f64); see the header comment for the layouts.
        Ranking losses (C only):
          double NAME_f32(int64_t n, const float *s, const float *y, const float *u, float *d_s, float *d_u)
        returns the batch loss and writes the gradient (O(n log n): sort + prefix sums); params
        are fixed at emission (--param), --protected does not apply.
        Build with e.g. 'cc -O3 -fno-math-errno -c NAME.c' (never -ffast-math).
        """)

    enum Target: String { case c, swift }
    enum Precisions: String { case f32, f64, both }

    static func run(_ a: Arguments) throws -> ExitStatus {
        let target = try a.choice("target", default: Target.c)
        let precisions: [CPrecision]
        switch try a.choice("precision", default: Precisions.both) {
        case .f32: precisions = [.f32]
        case .f64: precisions = [.f64]
        case .both: precisions = [.f32, .f64]
        }
        let path = a.positionals[0]
        let name = a.value("name")
        if let name, name.isEmpty { throw UsageError("--name must not be empty") }
        if let file = try RankingCLI.rankingFile(path) {
            return try emitRanking(a, file: file, name: name, target: target, precisions: precisions)
        }
        let formula = try loadFormula(path, params: try parseParams(a.values["param"] ?? []))
        guard formula.kind.isSupported else {
            throw UsageError("\(path): '\(formula.kind.rawValue)' losses cannot be emitted yet")
        }
        let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected")))
        switch target {
        case .c:
            try write(CEmitter.emit(loss, name: name, precisions: precisions, sourcePath: path), a)
        case .swift:
            let text = SwiftEmitter.emit(loss, name: name, precisions: precisions, sourcePath: path)
            guard let out = a.value("output") else { Terminal.write(text); return .success }
            try writeFileAtomically(out, text)
            Terminal.error("wrote \(out)\n")
        }
        return .success
    }

    /// A ranking loss: C only (the Swift backend for ranking losses is the library's `RankingKernel`).
    static func emitRanking(_ a: Arguments, file: SourceFile, name: String?, target: Target, precisions: [CPrecision]) throws -> ExitStatus {
        guard target == .c else {
            throw UsageError("\(file.path): ranking losses have no standalone Swift emitter",
                             hint: "use --target c, or the library's RankingKernel from Swift")
        }
        if a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
        let f = try RankingCLI.load(file, params: try parseParams(a.values["param"] ?? []))
        let out: CSource
        do { out = try CRankingEmitter.emit(f, name: name, precisions: precisions, sourcePath: file.path) } catch {
            throw UsageError("\(file.path): \(error.message)")
        }
        try write(out, a)
        return .success
    }

    /// The C pair: the `.c` on stdout without -o, else `BASE.h` and `BASE.c` (a `.c`/`.h` suffix on -o dropped).
    static func write(_ out: CSource, _ a: Arguments) throws {
        guard var base = a.value("output") else { return Terminal.write(out.source) }
        if base.hasSuffix(".c") || base.hasSuffix(".h") { base.removeLast(2) }
        guard !base.isEmpty, !base.hasSuffix("/") else { throw UsageError("-o: '\(a.value("output")!)' names no file") }
        try writeFileAtomically(base + ".h", out.header)
        try writeFileAtomically(base + ".c", out.source)
        Terminal.error("wrote \(base).h and \(base).c (prefix '\(out.prefix)')\n")
    }
}

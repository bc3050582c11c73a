import Codegen
import Foundation
import LossDSL
import LossRanking

/// `lossc emit FILE --target c|swift|torch`: write the loss as C kernels (a `.h/.c` pair), as one
/// standalone Swift file, or as a PyTorch module (one `.py` file).
enum EmitCommand {
    static let spec = CommandSpec(
        name: "emit", summary: "Emit the loss and its gradient as C kernels, a standalone Swift file or a PyTorch module.",
        usage: "emit FILE --target c|swift|torch [-o PATH] [--precision f32|f64|both] [--name NAME] [--param k=v]",
        options: [
            OptionSpec(name: "target", value: "c|swift|torch", help: "Backend (default c)."),
            OptionSpec(name: "output", value: "PATH", help: "c: writes PATH.h and PATH.c (a .c/.h suffix is dropped); swift, torch: PATH. Default: stdout.", short: "o"),
            OptionSpec(name: "precision", value: "f32|f64|both", help: "Kernel precisions (default both; c and swift only)."),
            OptionSpec(name: "name", value: "NAME", help: "Symbol prefix, or torch class name stem (default: the loss name; sanitized)."),
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
        torch: one Python module (imports torch and math only) with NAMELoss, an nn.Module
        (params as keyword arguments, reduction='none'|'mean'|'sum'), whose backward is lossc's
        gradient; e.g. FocalLoss(alpha=0.25, gamma=2.0)(x, y). See docs/torch.md.
        """)

    enum Target: String { case c, swift, torch }
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
            try write(CEmitter.emit(loss, name: name, precisions: precisions, command: a.commandLine), a)
        case .swift:
            try writeText(SwiftEmitter.emit(loss, name: name, precisions: precisions, command: a.commandLine), a)
        case .torch:
            if a.value("precision") != nil { throw UsageError("--precision does not apply to --target torch", hint: "the module computes in its inputs' dtype") }
            try writeText(TorchEmitter.emit(loss, name: name, command: a.commandLine).text, a)
        }
        return .success
    }

    /// One file: stdout without -o (or with '-o -'), else PATH.
    static func writeText(_ text: String, _ a: Arguments) throws {
        guard let out = a.value("output") else { return Terminal.write(text) }
        try writeOutput(out, text)
        if out != "-" { Terminal.error("wrote \(out)\n") }
    }

    /// A ranking loss: C, or torch (`TorchRankingEmitter`); the Swift backend for ranking losses is the library's `RankingKernel`.
    static func emitRanking(_ a: Arguments, file: SourceFile, name: String?, target: Target, precisions: [CPrecision]) throws -> ExitStatus {
        if target == .torch {
            if a.value("precision") != nil { throw UsageError("--precision does not apply to --target torch", hint: "the module computes in its inputs' dtype") }
            if a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
            let f = try RankingCLI.load(file, params: try parseParams(a.values["param"] ?? []))
            let out: TorchSource
            do { out = try TorchRankingEmitter.emit(f, name: name, command: a.commandLine) } catch {
                throw UsageError("\(file.path): \(error.message)")
            }
            try writeText(out.text, a)
            return .success
        }
        guard target == .c else {
            throw UsageError("\(file.path): ranking losses have no standalone Swift emitter",
                             hint: "use --target c, or the library's RankingKernel from Swift")
        }
        if a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
        let f = try RankingCLI.load(file, params: try parseParams(a.values["param"] ?? []))
        let out: CSource
        do { out = try CRankingEmitter.emit(f, name: name, precisions: precisions, command: a.commandLine) } catch {
            throw UsageError("\(file.path): \(error.message)")
        }
        try write(out, a)
        return .success
    }

    /// The C pair: the `.c` on stdout without -o, else `BASE.h` and `BASE.c` (a `.c`/`.h` suffix on -o dropped).
    static func write(_ out: CSource, _ a: Arguments) throws {
        guard var base = a.value("output") else { return Terminal.write(out.source) }
        if base != "-", !isSpecialFile(base), base.hasSuffix(".c") || base.hasSuffix(".h") { base.removeLast(2) }
        guard !base.isEmpty, !base.hasSuffix("/") else { throw UsageError("-o: '\(a.value("output")!)' names no file") }
        // stdout, a device or a FIFO takes the .c alone (as without -o), never PATH.h/PATH.c beside it.
        if base == "-" { return Terminal.write(out.source) }
        if isSpecialFile(base) { return try writeOutput(base, out.source) }
        try writeOutputs([(base + ".h", Array(out.header.utf8)), (base + ".c", Array(out.source.utf8))])
        Terminal.error("wrote \(base).h and \(base).c (prefix '\(out.prefix)')\n")
    }
}

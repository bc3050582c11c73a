import LossDSL
import LossCheck

/// `lossc check FILE`: parse, resolve, check shapes and numeric hazards, then the two
/// convergence-simulation stages (properties, proved or refuted; a tiny training run); report.
enum CheckCommand {
    static let spec = CommandSpec(
        name: "check", summary: "Check that a loss file is a sane loss, and say why not.",
        usage: "check FILE [--param NAME=VALUE]... [--protected] [--stage 1|2|all] [--seed N] [--proof-budget N] [--json]",
        options: [
            .param,
            .protected,
            OptionSpec(name: "stage", value: "1|2|all", help: "Convergence stages to run (default all)."),
            OptionSpec(name: "seed", value: "N", help: "Seed of stage 2's synthetic data (default 1)."),
            OptionSpec(name: "proof-budget", value: "N", help: "Interval boxes per property proof (default 4000; 0: sample only)."),
            OptionSpec(name: "json", value: nil, help: "Print the report as JSON."),
        ],
        details: """
        Stage 1 reports each convergence property as PROVED (interval arithmetic over the whole region),
        REFUTED (with a counterexample) or UNDECIDED (with the region left open). Stage 2 trains a tiny
        model with the loss and compares it with the standard loss (BCE, cross-entropy, GIoU); it runs
        only when stage 1 refutes nothing, unless --stage 2 asks for it alone.
        Exit status 0 when nothing fails (warnings and undecided properties allowed), 1 when a check
        fails or a property is refuted, 2 on bad input.
        Example: lossc check examples/focal.loss --param gamma=1.5
        """)

    static func run(_ a: Arguments) throws -> ExitStatus {
        diagnosticsAsJSON = a.has("json")
        if let file = try RankingCLI.rankingFile(a.positionals[0]) { return try CheckRanking.run(a, file: file) }
        let formula = try loadFormula(a.positionals[0], params: try parseParams(a.values["param"] ?? []))
        let stages: CheckPipeline.Stages = try a.choice("stage", default: .all)
        guard let seed = UInt64(a.value("seed") ?? "1") else { throw UsageError("--seed: expected a non-negative integer") }
        guard let proofBoxes = Int(a.value("proof-budget") ?? "4000"), proofBoxes >= 0 else {
            throw UsageError("--proof-budget: expected a non-negative integer")
        }
        let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected")))
        let outcome = CheckPipeline.run(loss, stages: stages, budget: Stage1Budget(proofBoxes: proofBoxes), seed: seed)
        let report = outcome.report
        if a.has("json") {
            Terminal.write(JSON.report(report, loss, extra: CheckJSON.pairs(outcome)) + "\n")
        } else {
            Terminal.write(text(outcome, loss))
            for s in report.sections where !s.diagnostics.isEmpty { Terminal.error(render(s.diagnostics, formula.file)) }
        }
        return report.passed ? .success : .checkFailed
    }

    static func text(_ outcome: CheckPipeline.Outcome, _ loss: CompiledLoss) -> String {
        let r = outcome.report, f = loss.formula
        let propertyIDs = Set(outcome.properties.map(\.id))
        var s = "\(f.file.path): \(f.name) (\(f.kind.rawValue))"
        if !f.params.isEmpty { s += ", " + f.params.map { "\($0.name) = \(formatNumber($0.value))" }.joined(separator: ", ") }
        s += "\n"
        for sec in r.sections where !propertyIDs.contains(sec.name) && sec.name != "model optimization simulation" {
            s += "  \(sec.status.rawValue.uppercased().padded(8)) \(sec.name)\n"
            for d in sec.details { s += "           \(d)\n" }
            if !sec.diagnostics.isEmpty {
                let e = sec.diagnostics.filter { $0.severity == .error }.count
                let w = sec.diagnostics.filter { $0.severity == .warning }.count
                s += "           \(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s") (below, on stderr)\n"
            }
        }
        if !outcome.properties.isEmpty {
            s += "  stage 1: convergence properties\n"
            let width = outcome.properties.map(\.id.count).max() ?? 0
            for p in outcome.properties {
                s += "  \(p.verdict.word.uppercased().padded(10)) \(p.id.padded(width))  [\(p.region)]  \(p.detail)\n"
            }
        }
        if let sim = r.sections.first(where: { $0.name == "model optimization simulation" }) {
            s += "  stage 2: model optimization simulation\n"
            s += "  \(sim.status.rawValue.uppercased().padded(10)) \(sim.details.joined(separator: "\n             "))\n"
        }
        s += r.passed ? "result: pass\n" : "result: FAIL\n"
        return s
    }
}

extension String {
    func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

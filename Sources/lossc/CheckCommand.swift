import LossDSL

/// `lossc check FILE`: parse, resolve, check shapes and numeric hazards; report.
enum CheckCommand {
    static let spec = CommandSpec(
        name: "check", summary: "Check that a loss file is a sane loss, and say why not.",
        usage: "check FILE [--param NAME=VALUE]... [--protected] [--json]",
        options: [
            OptionSpec(name: "param", value: "NAME=VALUE", help: "Override a param's default.", repeatable: true),
            OptionSpec(name: "protected", value: nil, help: "Use CSE-Autoloss's protected log/div/exp."),
            OptionSpec(name: "json", value: nil, help: "Print the report as JSON."),
        ],
        details: "Exit status 0 when every check passes (warnings allowed), 1 when one fails, 2 on bad input.")

    static func run(_ a: Arguments) throws -> ExitStatus {
        if let file = try RankingCLI.rankingFile(a.positionals[0]) { return try CheckRanking.run(a, file: file) }
        let formula = try loadFormula(a.positionals[0], params: try parseParams(a.values["param"] ?? []))
        let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected")))
        let report = CheckReport.staticChecks(loss)
        if a.has("json") {
            Terminal.write(JSON.report(report, loss) + "\n")
        } else {
            Terminal.write(text(report, loss))
            for s in report.sections where !s.diagnostics.isEmpty { Terminal.error(render(s.diagnostics, formula.file)) }
        }
        return report.passed ? .success : .checkFailed
    }

    static func text(_ r: CheckReport, _ loss: CompiledLoss) -> String {
        let f = loss.formula
        var s = "\(f.file.path): \(f.name) (\(f.kind.rawValue))"
        if !f.params.isEmpty { s += ", " + f.params.map { "\($0.name) = \(formatNumber($0.value))" }.joined(separator: ", ") }
        s += "\n"
        for sec in r.sections {
            s += "  \(sec.status.rawValue.uppercased().padded(8)) \(sec.name)\n"
            for d in sec.details { s += "           \(d)\n" }
            if !sec.diagnostics.isEmpty {
                let e = sec.diagnostics.filter { $0.severity == .error }.count
                let w = sec.diagnostics.filter { $0.severity == .warning }.count
                s += "           \(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s") (below, on stderr)\n"
            }
        }
        s += r.passed ? "result: pass\n" : "result: FAIL\n"
        return s
    }
}

extension String {
    func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

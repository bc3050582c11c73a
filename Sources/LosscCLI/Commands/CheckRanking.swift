import LossDSL
import LossRanking

/// `lossc check` for a ranking loss: `RankingCheck`'s sections, printed like the per-sample report.
enum CheckRanking {
    static func run(_ a: Arguments, file: SourceFile) throws -> ExitStatus {
        if a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
        let f = try RankingCLI.load(file, params: try parseParams(a.values["param"] ?? []))
        let report = RankingCheck.report(f)
        if a.has("json") {
            Terminal.write(json(report, f) + "\n")
        } else {
            Terminal.write(text(report, f))
            for s in report.sections where !s.diagnostics.isEmpty { Terminal.error(render(s.diagnostics, f.formula.file)) }
        }
        return report.passed ? .success : .checkFailed
    }

    static func header(_ f: RankingFormula) -> String {
        var s = "\(f.formula.file.path): \(f.name) (ranking)"
        if !f.params.isEmpty { s += ", " + f.params.map { "\($0.name) = \(formatNumber($0.value))" }.joined(separator: ", ") }
        return s + "\n"
    }

    static func text(_ r: CheckReport, _ f: RankingFormula) -> String {
        var s = header(f)
        for sec in r.sections {
            s += "  \(sec.status.rawValue.uppercased().padded(8)) \(sec.name)\n"
            for d in sec.details { s += "           \(d)\n" }
            if !sec.diagnostics.isEmpty { s += "           \(sec.diagnostics.count) diagnostic\(sec.diagnostics.count == 1 ? "" : "s") (below, on stderr)\n" }
        }
        return s + (r.passed ? "result: pass\n" : "result: FAIL\n")
    }

    static func json(_ r: CheckReport, _ f: RankingFormula) -> String {
        let sections = r.sections.map { s in
            JSON.object([("name", JSON.string(s.name)), ("status", JSON.string(s.status.rawValue)),
                         ("details", JSON.array(s.details.map(JSON.string))),
                         ("diagnostics", JSON.array(s.diagnostics.map { JSON.diagnostic($0, f.formula.file) }))])
        }
        return JSON.object([("file", JSON.string(f.formula.file.path)), ("name", JSON.string(f.name)), ("kind", JSON.string("ranking")),
                            ("params", JSON.object(f.params.map { ($0.name, JSON.number($0.value)) })),
                            ("passed", r.passed ? "true" : "false"), ("sections", JSON.array(sections))])
    }
}

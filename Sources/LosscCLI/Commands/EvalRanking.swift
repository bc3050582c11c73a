import Foundation
import LossDSL
import LossRanking

/// `lossc eval` for a ranking loss: the whole file is one batch. Columns `s,y[,u]` (u defaults
/// to 0); output one row per input row with `d_s` (and `d_u` when the gradient reaches u), then
/// `# loss,<value>`. The fast kernel by default; `--oracle` uses the O(P·N) reference evaluator.
enum EvalRanking {
    static func run(_ a: Arguments, file: SourceFile) throws -> ExitStatus {
        guard let data = a.value("data") else { throw UsageError("missing --data DATA.csv") }
        if a.has("protected") { throw UsageError("--protected does not apply to ranking losses") }
        let f = try RankingCLI.load(file, params: try parseParams(a.values["param"] ?? []))
        let precision: Precision = try a.choice("precision", default: .f64)
        let format: OutputFormat = try a.choice("format", default: .csv)
        guard format != .text else { throw UsageError("--format is csv or json") }
        var sink = OutputSink(path: a.value("output"))
        switch precision {
        case .f64: try evaluate(f, data: data, format: format, oracle: a.has("oracle"), as: Double.self, into: &sink)
        case .f32: try evaluate(f, data: data, format: format, oracle: a.has("oracle"), as: Float.self, into: &sink)
        }
        try sink.finish()
        return .success
    }

    /// Reads the batch; every malformed value is `DATA.csv:LINE:FIELD: error: ...`.
    static func read<T: LossReal>(_ data: String, as: T.Type) throws -> RankingBatch<T> {
        let reader = try CSVReader(path: data)
        guard let header = try reader.nextRow()?.map({ String($0).trimmingCharacters(in: .whitespaces) }) else {
            throw UsageError("'\(data)' is empty: expected a header row s,y[,u]")
        }
        var column: [String: Int] = [:]
        for (i, h) in header.enumerated() {
            guard ["s", "y", "u"].contains(h) else {
                throw reader.error(column: i + 1, "unknown column '\(h)' for a ranking loss",
                                   hint: nearestNames(to: h, in: ["s", "y", "u"]).first.map { "did you mean '\($0)'?" } ?? "the columns are s,y[,u]")
            }
            if column[h] != nil { throw reader.error(column: i + 1, "column '\(h)' appears twice") }
            column[h] = i
        }
        guard let sc = column["s"], let yc = column["y"] else {
            throw reader.error(column: 1, "missing column '\(column["s"] == nil ? "s" : "y")' for a ranking loss",
                               hint: "the columns are s (score), y (1 positive, 0 negative, -1 ignored) and optionally u (quality in [0, 1])")
        }
        let uc = column["u"]
        var s: [T] = [], y: [T] = [], u: [T] = []
        while let row = try reader.nextRow() {
            guard row.count == header.count else { throw reader.error(column: 1, "expected \(header.count) values, found \(row.count)") }
            func num(_ c: Int) throws -> Double {
                let text = row[c].trimmingCharacters(in: .whitespaces)
                guard let d = CLINumber.cell(text[...]) else { throw reader.error(column: c + 1, "'\(truncateText(text))' is not a number") }
                return d
            }
            let score = try num(sc), label = try num(yc), quality = try uc.map(num) ?? 0
            guard score.isFinite else { throw reader.error(column: sc + 1, "the score \(score) is not finite") }
            guard label == 1 || label == 0 || label == -1 else {
                throw reader.error(column: yc + 1, "the label \(formatNumber(label)) is not 1 (positive), 0 (negative) or -1 (ignored)")
            }
            guard quality.isFinite else { throw reader.error(column: uc! + 1, "the quality \(quality) is not finite") }
            guard (0...1).contains(quality) else { throw reader.error(column: uc! + 1, "the quality \(formatNumber(quality)) is outside [0, 1]") }
            s.append(T(score)); y.append(T(label)); u.append(T(quality))
        }
        if s.isEmpty { Terminal.error("lossc eval: warning: '\(data)' has a header but no rows\n") }
        return RankingBatch(s: s, y: y, u: u)
    }

    static func evaluate<T: LossReal & CustomStringConvertible>(_ f: RankingFormula, data: String, format: OutputFormat, oracle: Bool,
                                                                as: T.Type, into out: inout OutputSink) throws {
        let batch = try read(data, as: T.self)
        let r = oracle ? RankingReference<T>(f).evaluate(batch) : RankingKernel<T>(f).evaluate(batch)
        let columns = r.du == nil ? ["d_s"] : ["d_s", "d_u"]
        func text(_ v: T) -> String { v.isFinite ? "\(v)" : (v.isNaN ? "nan" : (v < 0 ? "-inf" : "inf")) }
        func json(_ v: T) -> String { v.isFinite ? "\(v)" : JSON.string(text(v)) }
        if format == .csv {
            out.write(columns.joined(separator: ",") + "\n")
            for k in 0..<batch.count { out.write(text(r.ds[k]) + (r.du.map { "," + text($0[k]) } ?? "") + "\n") }
            out.write("# loss,\(text(r.loss))\n")
        } else {
            let rows = (0..<batch.count).map { k in "[" + json(r.ds[k]) + (r.du.map { ", " + json($0[k]) } ?? "") + "]" }
            out.write("{\"columns\": " + JSON.array(columns.map(JSON.string)) + ", \"rows\": " + JSON.array(rows)
                      + ", \"count\": \(batch.count), \"loss\": \(json(r.loss))}\n")
        }
    }
}

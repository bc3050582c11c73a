#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LossDSL

/// `lossc eval FILE --data DATA.csv`: per-row loss and gradient with the reference evaluator.
enum EvalCommand {
    static let spec = CommandSpec(
        name: "eval", summary: "Evaluate a loss and its gradient on data from a CSV file.",
        usage: "eval FILE --data DATA.csv [--param NAME=VALUE]... [--precision f32|f64] [--format csv|json] [-o OUT]",
        options: [
            OptionSpec(name: "data", value: "DATA.csv", help: "Input rows (a header naming the inputs); '-' reads stdin."),
            .param,
            OptionSpec(name: "precision", value: "f32|f64", help: "Evaluate in float or double (default f64)."),
            OptionSpec(name: "format", value: "csv|json", help: "Output format (default csv)."),
            .protected,
            OptionSpec(name: "allow-nonfinite", value: nil, help: "Accept nan/inf input cells (an error otherwise)."),
            .output,
            OptionSpec(name: "oracle", value: nil, help: "Ranking losses: use the O(P·N) reference evaluator, not the fast kernel."),
        ],
        details: """
        Columns: binary x,y[,w]; multiclass x0..x<C-1>, then y (class index) or y0..y<C-1>, [w];
        box x1,y1,x2,y2 (predicted) and tx1,ty1,tx2,ty2 (target). w defaults to 1.
        Output: a header, one row per input row (loss, then d_x / d_x0.. / d_x1,d_y1,d_x2,d_y2),
        then '# mean,<value>'.
        Ranking losses: the file is one batch, columns s,y[,u] (y: 1 positive, 0 negative, -1 ignored;
        u defaults to 0); rows carry d_s (and d_u where the loss reaches u), then '# loss,<value>'.
        Example: lossc eval examples/focal.loss --data points.csv --precision f32
        """)

    static func run(_ a: Arguments) throws -> ExitStatus {
        if let file = try RankingCLI.rankingFile(a.positionals[0]) { return try EvalRanking.run(a, file: file) }
        guard let data = a.value("data") else { throw UsageError("missing --data DATA.csv") }
        let formula = try loadFormula(a.positionals[0], params: try parseParams(a.values["param"] ?? []))
        let loss = CompiledLoss.compile(formula, options: CompileOptions(protected: a.has("protected")))
        let precision: Precision = try a.choice("precision", default: .f64)
        let format: OutputFormat = try a.choice("format", default: .csv)
        guard format != .text else { throw UsageError("--format is csv or json") }
        var sink = OutputSink(path: a.value("output"))
        do {
            switch precision {
            case .f64: try evaluate(loss, data: data, format: format, allowNonFinite: a.has("allow-nonfinite"), as: Double.self, into: &sink)
            case .f32: try evaluate(loss, data: data, format: format, allowNonFinite: a.has("allow-nonfinite"), as: Float.self, into: &sink)
            }
        } catch {
            sink.abandon()
            throw error
        }
        try sink.finish()
        return .success
    }

    static func evaluate<T: LossReal & CustomStringConvertible>(_ loss: CompiledLoss, data: String, format: OutputFormat,
                                                                allowNonFinite: Bool, as: T.Type, into out: inout OutputSink) throws {
        let reader = try CSVReader(path: data)
        guard let header = try reader.nextRow() else { throw UsageError("'\(data)' is empty: expected a header row") }
        let layout = try DataLayout(kind: loss.kind, header: header.map { String($0).trimmingCharacters(in: .whitespaces) }, reader: reader)
        let ev = loss.evaluator(T.self)
        let columns = ["loss"] + layout.gradientColumns(loss.gradientNames)
        if format == .csv { out.write(columns.joined(separator: ",") + "\n") }
        else { out.write("{\"columns\": " + JSON.array(columns.map(JSON.string)) + ", \"rows\": [") }
        var sum = 0.0, count = 0
        while let row = try reader.nextRow() {
            let inputs: [InputValue<T>] = try layout.inputs(row, reader: reader, allowNonFinite: allowNonFinite)
            let (l, g) = CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
            sum += Double(l); count += 1
            let values = ([l] + g).map { v -> String in
                let s = v.isFinite ? "\(v)" : (v.isNaN ? "nan" : (v < 0 ? "-inf" : "inf"))
                return format == .json && !v.isFinite ? "\"\(s)\"" : s
            }
            if format == .csv { out.write(values.joined(separator: ",") + "\n") }
            else { out.write((count > 1 ? ", " : "") + "[" + values.joined(separator: ", ") + "]") }
        }
        let mean = count == 0 ? Double.nan : sum / Double(count)
        let meanText = "\(T(mean))"
        if format == .csv { out.write("# mean,\(meanText)\n") }
        else { out.write("], \"count\": \(count), \"mean\": \(mean.isFinite ? meanText : JSON.string(meanText))}\n") }
        if count == 0 { Terminal.error("lossc eval: warning: '\(data)' has a header but no rows\n") }
    }
}

/// Where command output goes: stdout (streamed, also for `-o -`), or an `OutputFile`
/// streamed to a temporary file and installed only when everything succeeded, so memory stays
/// bounded and an error never leaves half a file.
struct OutputSink {
    let path: String?
    private var file: OutputFile?
    private var opened = false

    init(path: String?) { self.path = path == "-" ? nil : path }

    mutating func write(_ s: String) {
        guard let path else { Terminal.write(s); return }
        if !opened {
            opened = true
            file = try? OutputFile(path)
        }
        file?.write(s)
    }

    mutating func finish() throws {
        guard let path else { return }
        if !opened {
            opened = true
            do { file = try OutputFile(path) } catch { throw UsageError(error.description) }
        }
        guard let f = file else {
            // Opening failed at the first write: report why.
            do { _ = try OutputFile(path) } catch { throw UsageError(error.description) }
            throw UsageError("cannot write '\(path)'")
        }
        file = nil
        do { try f.commit() } catch { throw UsageError(error.description) }
    }

    /// Removes the temporary file of an output that will not be finished.
    mutating func abandon() {
        file?.abandon()
        file = nil
    }
}

import LossDSL
import LossRanking

/// The contract every fuzz input is held to: it ends in a `DiagnosticError` or in a valid
/// formula that compiles and evaluates. A crash, a trap, an ASan report, a timeout or the rss
/// limit is a finding; so is a failed `check` below (libFuzzer saves the input).
public enum FuzzCheck {
    /// Like `precondition`, but the message is printed in release builds too.
    public static func check(_ ok: Bool, _ message: @autoclosure () -> String) {
        if !ok { fatalError("fuzz check failed: " + message()) }
    }

    /// A diagnostic must carry at least one error, and render (line, caret, hint) without trapping.
    public static func diagnosed(_ e: DiagnosticError) {
        check(!e.diagnostics.isEmpty, "a DiagnosticError with no diagnostic")
        check(e.diagnostics.contains { $0.severity == .error }, "a DiagnosticError with no error")
        for d in e.diagnostics {
            if let span = d.span {
                check(span.start >= 0 && span.length >= 0 && span.start <= e.file.bytes.count,
                             "diagnostic span \(span) outside the \(e.file.bytes.count)-byte input")
            }
        }
        _ = e.render()
        _ = e.diagnostics.first!.summary(in: e.file)
    }

    /// A per-sample formula: the rest of the pipeline (canonicalize, stabilize, differentiate,
    /// canonicalize + stabilize again), then one evaluation of value and gradient at a fixed point.
    public static func compileAndEvaluate(_ f: Formula) {
        for w in f.warnings { _ = w.render(in: f.file) }
        let c = CompiledLoss.compile(f)
        check(c.gradient.count == c.gradientNames.count, "gradient outputs and names disagree")
        let (loss, gradient) = c.evaluate(fixedPoint(f.kind), as: Double.self)
        _ = loss
        let expected = f.kind == .box ? 4 : (f.kind == .multiclass ? 3 : 1)
        check(gradient.count == expected, "\(gradient.count) gradient entries for a \(f.kind) loss, expected \(expected)")
    }

    /// `lossc fmt`: the canonical printer's output parses back to the same graph and params.
    /// (`ranking`: through `RankingFormula.parse`.)
    public static func formatRoundTrips(_ f: Formula, ranking: Bool = false) {
        guard case .success(let ast) = Parser.parse(f.file) else { return check(false, "a valid formula whose file does not parse") }
        let text = SourcePrinter.format(ast)
        let back: Formula
        do { back = ranking ? try RankingFormula.parse(text, path: "<fmt>").formula : try Formula.parse(text, path: "<fmt>") } catch {
            return check(false, "fmt printed a file that does not parse:\n\(text)\n\(error.render())")
        }
        check(GraphPrinter.canonicalText(f.graph, root: f.root) == GraphPrinter.canonicalText(back.graph, root: back.root),
              "fmt changed the graph:\n\(text)")
        check(f.params.map(\.name) == back.params.map(\.name) && f.paramValues == back.paramValues, "fmt changed the params:\n\(text)")
    }

    /// A DEAP import printed as a `.loss` file parses back to the same graph (after canonicalize).
    public static func deapSourceRoundTrips(_ text: String, _ f: Formula) {
        let source: String
        do { source = try DEAPImport.source(text, kind: f.kind) } catch { return check(false, "DEAPImport.source refused what formula accepted") }
        let back: Formula
        do { back = try Formula.parse(source, path: "<deap source>") } catch {
            return check(false, "an imported DEAP string printed as a file that does not parse:\n\(source)\n\(error.render())")
        }
        let a = Canonicalize.run(f.graph, roots: [f.root]), b = Canonicalize.run(back.graph, roots: [back.root])
        check(GraphPrinter.canonicalText(a.graph, root: a.roots[0]) == GraphPrinter.canonicalText(b.graph, root: b.roots[0]),
              "an imported DEAP string printed as a different formula:\n\(source)")
    }

    /// A batch-level (`ranking`) formula: the reference evaluator and the kernel on a fixed batch.
    public static func evaluate(_ f: RankingFormula) {
        for w in f.formula.warnings { _ = w.render(in: f.formula.file) }
        let batch = RankingBatch<Double>(s: [0.3, -1, 2, 0.5, 2], y: [1, 0, 1, -1, 0], u: [0.8, 0, 0.6, 0, 0])
        let r = RankingReference<Double>(f).evaluate(batch)
        check(r.ds.count == batch.count, "reference: \(r.ds.count) score gradients for \(batch.count) entries")
        let k = RankingKernel<Double>(f).evaluate(batch)
        check(k.ds.count == batch.count, "kernel: \(k.ds.count) score gradients for \(batch.count) entries")
    }

    /// The inputs of one sample of each kind (box: i, u, e are computed from the boxes).
    public static func fixedPoint(_ kind: LossKind) -> [InputValue<Double>] {
        switch kind {
        case .multiclass: return [.vector([0.3, -2, 5]), .vector([0, 1, 0]), .scalar(0.5)]
        case .box: return [.scalar(0), .scalar(0), .scalar(0)] + [1, 2, 8, 9, 0, 0, 10, 10].map { .scalar($0) }
        case .binary, .ranking: return [.scalar(-1.5), .scalar(1), .scalar(0.5)]
        }
    }
}

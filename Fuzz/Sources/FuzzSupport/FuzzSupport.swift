import LossDSL

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

import LossDSL

/// Stage 1 of CSE-Autoloss's convergence simulation: *convergence property verification*,
/// with no training. The entry point `lossc check` and the search call.
///
/// Every property is sampled first (a concrete counterexample refutes it), then, if it
/// survives, interval arithmetic over the loss's tangent graph tries to prove it on its whole
/// region, with subdivision. README ("Convergence properties") lists the properties.
public enum ConvergenceCheck {
    /// Checks every property of the loss's kind. With `budget.stopAtFirstRefutation`, returns
    /// as soon as one property is refuted (the last result is the refuted one).
    public static func stage1(_ loss: CompiledLoss, budget: Stage1Budget = .thorough) -> [PropertyResult] {
        // A proof bounds the whole graph once per box: cap boxes x nodes at about 4e7 per
        // property, so a 100k-node formula still gets a short proof and answers in seconds.
        var budget = budget
        let nodes = loss.graph.liveCount(from: [loss.value] + loss.gradient)
        budget.proofBoxes = Swift.min(budget.proofBoxes, Swift.max(16, 40_000_000 / Swift.max(nodes, 1)))
        switch loss.kind {
        case .binary: return BinaryProperties.check(loss, budget: budget)
        case .multiclass: return MulticlassProperties.check(loss, budget: budget)
        case .box: return BoxProperties.check(loss, budget: budget)
        case .ranking: return []
        }
    }

    /// True when no property is refuted (undecided ones pass: only a counterexample rejects).
    public static func passes(_ results: [PropertyResult]) -> Bool {
        !results.contains { $0.verdict.isRefuted }
    }
}

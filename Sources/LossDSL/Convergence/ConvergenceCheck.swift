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

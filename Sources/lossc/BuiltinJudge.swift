import LossDSL
import LossSearch

/// The search's built-in filters and proxy task.
struct BuiltinJudge: CandidateFilter, FitnessEvaluator {
    let kind: LossKind

    func stage1(_ c: Candidate) -> StageResult { .pass() }
    func stage2(_ c: Candidate) -> StageResult { .pass(0) }
    func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult { .fail("no built-in proxy task yet") }

    /// The emitted C of a candidate, for external evaluators (nil until the C emitter is available).
    static let emitC: @Sendable (Candidate) -> String? = { _ in nil }
}

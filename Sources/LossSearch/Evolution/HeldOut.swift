import Foundation
import LossDSL

/// One of the search's best candidates, re-evaluated on seeds the search never selected on.
///
/// A search keeps the candidates whose fitness came out highest, so the best fitness it saw is
/// the maximum of noisy numbers: biased upwards, more so the more candidates were tried. The
/// held-out values are fresh draws of the same measurement (other data sets for the built-in
/// proxy; `{seed}` = 1, 2, … for an external evaluator, which saw 0 during the search), the
/// number to report.
public struct HeldOutResult: Sendable, Equatable {
    /// The candidate (its genome) and the fitness the search selected it with.
    public let genome: String
    public let selected: Double
    /// One value per held-out seed; nil where that evaluation failed.
    public let values: [Double?]

    /// The mean of the values that did not fail (nil when all failed).
    public var mean: Double? {
        let ok = values.compactMap { $0 }
        return ok.isEmpty ? nil : ok.reduce(0, +) / Double(ok.count)
    }
}

extension Search {
    /// Re-evaluates the best `count` candidates of the run with `evaluators` (one per held-out
    /// seed), in parallel over the search's workers; in the order of `state.best`. A SIGINT or
    /// SIGTERM (`Interruption`) stops it: the evaluations in flight are signalled, none is
    /// started after, and it throws `SearchError.interrupted` (the run itself is complete).
    public func heldOut(count: Int, evaluators: [FitnessEvaluator]) throws -> [HeldOutResult] {
        guard count > 0, !evaluators.isEmpty else { return [] }
        let best = state.best(count)
        let candidates: [Candidate?] = best.map { Genome(text: $0.record.genome, kind: kind).flatMap { Candidate($0) } }
        let jobs = candidates.indices.flatMap { i in evaluators.indices.map { (i, $0) } }
        let results = parallelMap(jobs) { (job: (Int, Int)) -> Double? in
            guard Interruption.requested == nil, let c = candidates[job.0] else { return nil }
            let r = evaluators[job.1].fitness(c, generation: 0, index: job.0)
            return r.passed ? r.score : nil
        }
        if let sig = Interruption.requested { throw SearchError.interrupted(sig) }
        return best.indices.map { i in
            HeldOutResult(genome: best[i].record.genome, selected: best[i].record.fitness ?? .nan,
                          values: evaluators.indices.map { results[i * evaluators.count + $0] })
        }
    }
}

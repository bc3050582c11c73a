import Codegen
import LossDSL
import LossCheck

/// The search's built-in filters and proxy task, from the convergence simulation:
/// stage 1 is `ConvergenceCheck.stage1` with the search budget (stop at the first refuted
/// property, short proofs); stage 2 is `Simulation.stage2` on the kind's proxy task; the
/// fitness is the same trainer on three other data sets (held out from stage 2's, three times
/// its data), averaged — the metric that matters: AP (binary), accuracy (multiclass), mean IoU (box).
public struct BuiltinJudge: CandidateFilter, FitnessEvaluator {
    public let kind: LossKind
    let stage2Task: ProxyTask
    let fitnessTasks: [ProxyTask]

    /// Builds the tasks (each trains the kind's standard loss once, as its reference).
    /// `alphaT`: CSE-Autoloss's binary conventions on every task (see `ProxyTask`).
    public init?(kind: LossKind, seed: UInt64 = 1, alphaT: Double? = nil) {
        guard let t = ProxyTask(kind: kind, seed: seed, alphaT: alphaT) else { return nil }
        self.kind = kind
        stage2Task = t
        fitnessTasks = (1...3).compactMap { ProxyTask(kind: kind, seed: seed &+ 1000 &+ UInt64($0), alphaT: alphaT) }
    }

    /// The standard loss's fitness on the same tasks (BCE, cross-entropy, GIoU): the bar to beat.
    public var referenceFitness: Double { fitnessTasks.map(\.reference).reduce(0, +) / Double(fitnessTasks.count) }
    public var referenceName: String { stage2Task.referenceName }
    public var metric: String { stage2Task.metric }

    public func stage1(_ c: Candidate) -> StageResult {
        let results = ConvergenceCheck.stage1(c.compiled, budget: .search)
        if let bad = results.first(where: { $0.verdict.isRefuted }) { return .fail("\(bad.id): \(bad.detail)") }
        return .pass()
    }

    /// The fastest evaluation available for the trainers: compiled closures, else the reference.
    static func batchLoss(_ loss: CompiledLoss) -> BatchLoss {
        KernelBatchLoss(loss) ?? ColumnBatchLoss(loss)
    }

    public func stage2(_ c: Candidate) -> StageResult {
        let r = Simulation.stage2(Self.batchLoss(c.compiled), task: stage2Task)
        return r.passed ? .pass(r.score) : .fail(r.summary)
    }

    public func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult {
        fitness(c.compiled)
    }

    /// The proxy fitness of any compiled loss of this kind.
    public func fitness(_ loss: CompiledLoss) -> StageResult {
        var sum = 0.0
        let batch = Self.batchLoss(loss)
        for t in fitnessTasks {
            let run = t.run(batch)
            if let f = run.failure { return .fail(f) }
            guard run.score.isFinite else { return .fail("non-finite score") }
            sum += run.score
        }
        return .pass(sum / Double(fitnessTasks.count))
    }

    /// The emitted C of a candidate, for external evaluators: one self-contained `.c` file
    /// (kernels `candidate_f32` / `candidate_f64`, see the C backend's calling convention).
    public static let emitC: @Sendable (Candidate) -> String? = { c in
        CEmitter.emit(c.compiled, name: "candidate").source
    }

    /// The emitted PyTorch module of a candidate, for external evaluators: `CandidateLoss`
    /// (also bound to `Loss`), an `nn.Module` whose backward is lossc's gradient.
    public static let emitTorch: @Sendable (Candidate) -> String? = { c in
        c.compiled.kind == .ranking ? nil : TorchEmitter.emit(c.compiled, name: "candidate").text
    }
}

import LossDSL

/// The outcome of one proxy training run.
public struct ProxyRun: Sendable {
    /// AP (binary), accuracy (multiclass) or mean IoU (box) on held-out data.
    public let score: Double
    /// Why training stopped early (a non-finite gradient), or nil.
    public let failure: String?
}

/// A proxy task of stage 2: a data set generated from a seed, a trainer, and the score the
/// kind's standard loss reaches with the same budget (BCE, cross-entropy, GIoU). Build it once
/// and run many candidates on it: the data and the reference run are computed at init.
public struct ProxyTask: Sendable {
    enum Trainer: Sendable {
        case binary(BinaryProxy), multiclass(MulticlassProxy), box(BoxProxy)
    }

    /// The kind of loss the task trains with.
    public let kind: LossKind
    /// The seed the data were generated from.
    public let seed: UInt64
    let trainer: Trainer
    /// The standard loss the candidate is compared with.
    public let referenceName: String
    /// Its score with the same data and budget.
    public let reference: Double
    /// The standard loss itself.
    public let referenceLoss: CompiledLoss
    /// The score of the untrained model (what zero weights give).
    public let floor: Double

    /// A candidate passes when its gain over the floor is at least this share of the
    /// reference's: (score - floor) >= 0.8 (reference - floor).
    public static let passRatio = 0.8

    static let references: [LossKind: (String, String)] = [
        .binary: ("BCE", "loss bce: binary\nreturn -(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))\n"),
        .multiclass: ("cross-entropy", "loss ce: multiclass\nreturn -dot(y, log(softmax(x)))\n"),
        .box: ("GIoU", "loss giou: box\nreturn 1 - (i / u - (e - u) / e)\n"),
    ]

    /// The task for a kind (nil for kinds without one: ranking). `alphaT` (binary only):
    /// CSE-Autoloss's conventions, α_t outside the formula and w = 0 for negatives (`BinaryProxy`).
    public init?(kind: LossKind, seed: UInt64 = 1, alphaT: Double? = nil) {
        guard let (name, text) = Self.references[kind] else { return nil }
        guard let formula = try? Formula.parse(text, path: "<\(name)>") else {
            preconditionFailure("the built-in \(name) loss does not parse")
        }
        self.kind = kind
        self.seed = seed
        switch kind {
        case .binary: trainer = .binary(BinaryProxy(seed: seed, alphaT: alphaT))
        case .multiclass: trainer = .multiclass(MulticlassProxy(seed: seed))
        default: trainer = .box(BoxProxy(seed: seed))
        }
        referenceName = name
        switch trainer {
        case .binary(let t): floor = t.floor
        case .multiclass(let t): floor = t.floor
        case .box(let t): floor = t.floor
        }
        referenceLoss = CompiledLoss.compile(formula)
        reference = Self.run(trainer, ColumnBatchLoss(referenceLoss)).score
    }

    /// Trains the model with `loss` and scores it.
    public func run(_ loss: BatchLoss) -> ProxyRun { Self.run(trainer, loss) }

    static func run(_ trainer: Trainer, _ loss: BatchLoss) -> ProxyRun {
        switch trainer {
        case .binary(let t): return t.run(loss)
        case .multiclass(let t): return t.run(loss)
        case .box(let t): return t.run(loss)
        }
    }

    /// What the score measures, for reports.
    public var metric: String {
        switch kind {
        case .binary: return "AP"
        case .multiclass: return "accuracy"
        default: return "mean IoU"
        }
    }
}

/// The verdict of stage 2 on one candidate.
public struct SimulationResult: Sendable {
    /// The candidate's kind.
    public let kind: LossKind
    /// What the score measures (AP, accuracy, mean IoU).
    public let metric: String
    /// The candidate's score on held-out data.
    public let score: Double
    /// The standard loss's score with the same data and budget.
    public let reference: Double
    /// The standard loss's name.
    public let referenceName: String
    /// The untrained model's score.
    public let floor: Double
    /// (score - floor) / (reference - floor).
    public let ratio: Double
    /// Whether the candidate reached the pass ratio (and trained to the end).
    public let passed: Bool
    /// Why it failed to train, if it did not finish.
    public let failure: String?

    /// One line for reports.
    public var summary: String {
        if let failure { return "training failed: \(failure)" }
        let r = ratio.isFinite ? shortNumber((ratio * 1000).rounded() / 1000) : "n/a"
        return "\(metric) \(fmt(score)) vs \(referenceName) \(fmt(reference)) (untrained \(fmt(floor))): \(r) of \(referenceName)'s gain, \(passed ? "≥" : "<") \(shortNumber(ProxyTask.passRatio))"
    }

    private func fmt(_ v: Double) -> String { shortNumber((v * 1e4).rounded() / 1e4) }
}

/// Stage 2 of CSE-Autoloss's convergence simulation: *model optimization simulation*.
public enum Simulation {
    /// Trains the kind's proxy model with the candidate and compares it with the standard loss.
    public static func stage2(_ loss: BatchLoss, task: ProxyTask) -> SimulationResult {
        let run = task.run(loss)
        let gain = task.reference - task.floor
        let ratio = gain > 0 ? (run.score - task.floor) / gain : .nan
        let passed = run.failure == nil && (gain > 0 ? ratio >= ProxyTask.passRatio : run.score >= task.reference)
        return SimulationResult(kind: task.kind, metric: task.metric, score: run.score, reference: task.reference,
                                referenceName: task.referenceName, floor: task.floor, ratio: ratio, passed: passed,
                                failure: run.failure)
    }

    /// `stage2` for a compiled loss, evaluated with the column-wise reference evaluator.
    public static func stage2(_ loss: CompiledLoss, task: ProxyTask) -> SimulationResult {
        stage2(ColumnBatchLoss(loss), task: task)
    }
}

/// Scores of stage 2.
public enum Metrics {
    /// Average precision of a ranking: the mean, over positives, of the precision at each
    /// positive's rank. Ties are broken pessimistically (negatives first), so a constant score
    /// earns no credit.
    public static func averagePrecision(scores: [Double], labels: [Double]) -> Double {
        let order = scores.indices.sorted { a, b in
            let sa = scores[a].isNaN ? -Double.infinity : scores[a], sb = scores[b].isNaN ? -Double.infinity : scores[b]
            if sa != sb { return sa > sb }
            if labels[a] != labels[b] { return labels[a] < labels[b] }
            return a < b
        }
        var hits = 0.0, sum = 0.0
        for (rank, i) in order.enumerated() where labels[i] == 1 {
            hits += 1
            sum += hits / Double(rank + 1)
        }
        return hits > 0 ? sum / hits : 0
    }
}

extension ProxyTask {
    /// The number of trained parameters.
    var parameterCount: Int {
        switch trainer {
        case .binary: return BinaryProxy.features + 1
        case .multiclass: return MulticlassProxy.classes * (MulticlassProxy.features + 1)
        case .box: return 4 * (BoxProxy.features + 1)
        }
    }

    /// The mean training loss and its gradient in the parameters at `p` (what each Adam step uses).
    func objective(_ loss: BatchLoss, _ p: [Double]) -> (value: Double, gradient: [Double], failure: String?) {
        switch trainer {
        case .binary(let t): return t.objective(loss, p)
        case .multiclass(let t): return t.objective(loss, p)
        case .box(let t): return t.objective(loss, p)
        }
    }
}

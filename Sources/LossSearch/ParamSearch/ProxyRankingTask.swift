import LossDSL
import LossCheck
import LossRanking

/// The proxy task of the parameter search, a miniature of PAP's (train a detector for one
/// epoch on part of COCO, reward = its mAP on a held-out split): a linear scorer on synthetic
/// detection-like features is trained with the candidate ranking loss, and rewarded with a
/// COCO-style AP on held-out data. Deterministic for a seed; about 0.1 s per candidate.
///
/// Data: D features per entry, standard normal; positives (4%) are shifted along a direction m,
/// 10% of negatives ("hard negatives") half as far; ignored entries (5%) are noise. A
/// positive's quality u (its box's IoU-like score) is 0.65 + 0.2·(q·x) + noise, clamped to
/// [0, 1], for a direction q orthogonal to m: ranking good boxes first needs q, which also
/// mixes in negatives, the trade-off a quality-aware loss (PAP) is about.
///
/// Reward: the mean over IoU-like thresholds τ = 0.5, 0.55, …, 0.95 of the interpolated AP
/// where a positive counts as a true positive only when u >= τ (COCO's AP@[.5:.95]); 0 when
/// training produced a non-finite loss or gradient (PAP aborts such runs with reward 0).
public struct ProxyRankingTask: Sendable {
    /// One data split: features, labels, qualities.
    public struct Split: Sendable {
        /// Row-major entries × features.
        public let x: [Double]
        /// Labels (1, 0, -1) and qualities.
        public let y: [Double]
        public let u: [Double]
        /// The number of entries.
        public var count: Int { y.count }
    }

    /// Features per entry.
    public let features: Int
    /// The split the scorer is trained on (one pooled batch) and the one it is rewarded on.
    public let train: Split
    public let validation: Split
    /// Adam steps per candidate and their learning rate.
    public let steps: Int
    public let learningRate: Double

    /// Generates both splits (`entries` each) from `seed`.
    public init(seed: UInt64, entries: Int = 3000, features: Int = 16, steps: Int = 50, learningRate: Double = 0.05) {
        var rng = SeededGenerator(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func normal() -> Double { (-2 * Double.log(Swift.max(uniform(), 1e-300))).squareRoot() * Double.cos(2 * Double.pi * uniform()) }
        func unit(_ v: [Double]) -> [Double] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }
        let m = unit((0..<features).map { _ in normal() })
        var q = (0..<features).map { _ in normal() }
        let dot = zip(q, m).reduce(0) { $0 + $1.0 * $1.1 }
        q = unit(zip(q, m).map { $0 - dot * $1 })
        func split() -> Split {
            var x: [Double] = [], y: [Double] = [], u: [Double] = []
            for _ in 0..<entries {
                let c = uniform()
                let label: Double = c < 0.04 ? 1 : (c < 0.09 ? -1 : 0)
                var v = (0..<features).map { _ in normal() }
                let shift: Double = label == 1 ? 3 : (label == 0 && uniform() < 0.1 ? 2 : 0)
                for k in 0..<features { v[k] += shift * m[k] }
                let quality = label == 1 ? Swift.min(1, Swift.max(0, 0.65 + 0.2 * zip(q, v).reduce(0) { $0 + $1.0 * $1.1 } + 0.1 * normal())) : 0
                x += v; y.append(label); u.append(quality)
            }
            return Split(x: x, y: y, u: u)
        }
        self.features = features
        train = split()
        validation = split()
        self.steps = steps
        self.learningRate = learningRate
    }

    func scores(_ s: Split, _ w: [Double], _ b: Double) -> [Double] {
        (0..<s.count).map { k in
            var v = b
            for j in 0..<features { v += s.x[k * features + j] * w[j] }
            return v
        }
    }

    /// Trains a fresh linear scorer (Adam, full batch: the training split is one pooled
    /// ranking) with the loss, and returns the validation reward.
    public func reward(_ f: RankingFormula) -> Double {
        let kernel = RankingKernel<Double>(f)
        var w = [Double](repeating: 0, count: features), b = 0.0
        var m1 = [Double](repeating: 0, count: features + 1), m2 = m1
        for t in 1...Swift.max(1, steps) {
            let r = kernel.evaluate(RankingBatch(s: scores(train, w, b), y: train.y, u: train.u))
            guard r.loss.isFinite, r.ds.allSatisfy(\.isFinite) else { return 0 }
            var g = [Double](repeating: 0, count: features + 1)
            for k in 0..<train.count where r.ds[k] != 0 {
                for j in 0..<features { g[j] += r.ds[k] * train.x[k * features + j] }
                g[features] += r.ds[k]
            }
            // Adam (beta 0.9, 0.999).
            for j in 0...features {
                m1[j] = 0.9 * m1[j] + 0.1 * g[j]
                m2[j] = 0.999 * m2[j] + 0.001 * g[j] * g[j]
                let step = learningRate * (m1[j] / (1 - Double.pow(0.9, Double(t)))) / ((m2[j] / (1 - Double.pow(0.999, Double(t)))).squareRoot() + 1e-8)
                if j == features { b -= step } else { w[j] -= step }
            }
        }
        let s = scores(validation, w, b)
        guard s.allSatisfy(\.isFinite) else { return 0 }
        return Self.cocoAP(scores: s, y: validation.y, u: validation.u)
    }

    /// COCO-style AP@[.5:.95] of a ranking: for each threshold τ, the interpolated AP with the
    /// positives of quality >= τ as true positives and every positive as ground truth.
    public static func cocoAP(scores: [Double], y: [Double], u: [Double]) -> Double {
        let order = scores.indices.filter { y[$0] != -1 }.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let positives = y.filter { $0 == 1 }.count
        guard positives > 0 else { return 0 }
        var total = 0.0
        let thresholds = (0..<10).map { 0.5 + 0.05 * Double($0) }
        for tau in thresholds {
            var tp = 0.0
            var precision: [Double] = [], hit: [Bool] = []
            for (rank, k) in order.enumerated() {
                let isTP = y[k] == 1 && u[k] >= tau - 1e-12
                if isTP { tp += 1 }
                precision.append(tp / Double(rank + 1)); hit.append(isTP)
            }
            // Interpolated: the best precision at this rank or any later one.
            var best = 0.0, ap = 0.0
            for r in stride(from: order.count - 1, through: 0, by: -1) {
                best = Swift.max(best, precision[r])
                if hit[r] { ap += best }
            }
            total += ap / Double(positives)
        }
        return total / Double(thresholds.count)
    }
}

import LossDSL

/// Stage 2 for `binary` losses: a linear classifier on a synthetic, heavily imbalanced data
/// set (one positive in 40, a tenth of the negatives hard: drawn close to the positives),
/// trained full-batch with Adam from zero weights; scored by AP on held-out data.
///
/// Positives carry a quality w ~ U(0.5, 1) (the IoU of their box, as in one-stage detectors);
/// negatives w = 1 (the two-stage convention for background, so w-weighted losses see
/// a defined value). With `alphaT` (CSE-Autoloss's one-stage conventions, which their searched
/// B_cls assumes): each sample's loss is multiplied by α_t = A·y + (1 − A)(1 − y) outside the
/// formula, and the negatives' w is 0 (the IoU target: only a positive has a matched box).
struct BinaryProxy: Sendable {
    static let features = 8, trainCount = 800, testCount = 1600, steps = 60
    static let positiveEvery = 40, learningRate = 0.05

    struct Split: Sendable {
        var f: [Double] = []   // count * features, sample-major
        var y: [Double] = []
        var w: [Double] = []
        var count: Int { y.count }
    }

    let train: Split, test: Split
    let alphaT: Double?

    init(seed: UInt64, alphaT: Double? = nil) {
        self.alphaT = alphaT
        var g = Gaussian(seed: seed &+ 0xB1)
        let d = Self.features
        // The positives' mean: 3 along a random direction; hard negatives halfway.
        var dir = g.vector(d)
        let norm = dir.map { $0 * $0 }.reduce(0, +).squareRoot()
        dir = dir.map { 3.0 * $0 / norm }
        func split(_ n: Int) -> Split {
            var s = Split()
            for i in 0..<n {
                let positive = i % Self.positiveEvery == 0
                let hard = !positive && i % 10 == 3
                let center = positive ? 1.0 : (hard ? 0.5 : 0)
                s.f += (0..<d).map { center * dir[$0] + g.next() }
                s.y.append(positive ? 1 : 0)
                s.w.append(positive ? g.uniform(0.5, 1) : 1)
            }
            return s
        }
        train = split(Self.trainCount)
        test = split(Self.testCount)
    }

    func logits(_ s: Split, _ p: [Double]) -> [Double] {
        let d = Self.features
        return (0..<s.count).map { i in
            var z = p[d]
            for j in 0..<d { z += p[j] * s.f[i * d + j] }
            return z
        }
    }

    /// The mean training loss and its gradient in the parameters (w then b), by the chain rule
    /// through the candidate's per-sample gradient; or why it is not finite.
    func objective(_ loss: BatchLoss, _ p: [Double]) -> (value: Double, gradient: [Double], failure: String?) {
        let d = Self.features, n = train.count
        let x = logits(train, p)
        let w = alphaT == nil ? train.w : zip(train.y, train.w).map { $0 > 0 ? $1 : 0 }
        let r = loss.evaluate([x, train.y, w], rows: n, classes: 1)
        // α_t outside the formula (1 without alphaT)
        let factor = train.y.map { y in alphaT.map { y > 0 ? $0 : 1 - $0 } ?? 1 }
        var grad = [Double](repeating: 0, count: d + 1)
        for i in 0..<n {
            let g = r.gradient[i] * factor[i]
            guard g.isFinite else {
                return (.nan, grad, "non-finite gradient \(shortNumber(g)) (x = \(shortNumber(x[i])), y = \(shortNumber(train.y[i])))")
            }
            for j in 0..<d { grad[j] += g * train.f[i * d + j] }
            grad[d] += g
        }
        return (zip(r.loss, factor).reduce(0) { $0 + $1.0 * $1.1 } / Double(n), grad.map { $0 / Double(n) }, nil)
    }

    func run(_ loss: BatchLoss) -> ProxyRun {
        var p = [Double](repeating: 0, count: Self.features + 1)
        var adam = Adam(count: p.count, learningRate: Self.learningRate)
        for step in 0..<Self.steps {
            let o = objective(loss, p)
            if let f = o.failure { return ProxyRun(score: 0, failure: f + " at step \(step)") }
            adam.step(&p, o.gradient)
        }
        return ProxyRun(score: Metrics.averagePrecision(scores: logits(test, p), labels: test.y), failure: nil)
    }

    /// AP of an uninformative ranking: the share of positives.
    var floor: Double { test.y.reduce(0, +) / Double(test.count) }
}

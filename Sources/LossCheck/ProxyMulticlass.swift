import LossDSL

/// Stage 2 for `multiclass` losses: softmax regression (a linear layer of C logits) on
/// synthetic C-class data, half of it background (class 0, as in two-stage detectors), trained
/// full-batch with Adam from zero weights; scored by accuracy on held-out data.
///
/// Foreground samples carry w ~ U(0.5, 1) (the IoU of their box), background w = 1 (the
/// published two-stage convention).
struct MulticlassProxy: Sendable {
    static let classes = 5, features = 8, trainCount = 400, testCount = 800, steps = 60
    static let learningRate = 0.05

    struct Split: Sendable {
        var f: [Double] = []      // count * features
        var label: [Int] = []
        var y: [Double] = []      // count * classes, one-hot
        var w: [Double] = []
        var count: Int { label.count }
    }

    let train: Split, test: Split

    init(seed: UInt64) {
        var g = Gaussian(seed: seed &+ 0x3C)
        let d = Self.features, c = Self.classes
        let means = (0..<c).map { _ in g.vector(d, scale: 0.9) }
        func split(_ n: Int) -> Split {
            var s = Split()
            for i in 0..<n {
                // Every other sample is background; the rest cycle through the foreground classes.
                let k = i % 2 == 0 ? 0 : 1 + (i / 2) % (c - 1)
                s.f += (0..<d).map { means[k][$0] + g.next() }
                s.label.append(k)
                s.y += (0..<c).map { $0 == k ? 1 : 0 }
                s.w.append(k == 0 ? 1 : g.uniform(0.5, 1))
            }
            return s
        }
        train = split(Self.trainCount)
        test = split(Self.testCount)
    }

    /// Logits, count * classes; parameters are W (classes * features) then b (classes).
    func logits(_ s: Split, _ p: [Double]) -> [Double] {
        let d = Self.features, c = Self.classes
        var out = [Double](repeating: 0, count: s.count * c)
        for i in 0..<s.count {
            for k in 0..<c {
                var z = p[c * d + k]
                for j in 0..<d { z += p[k * d + j] * s.f[i * d + j] }
                out[i * c + k] = z
            }
        }
        return out
    }

    /// The mean training loss and its gradient in the parameters (W then b).
    func objective(_ loss: BatchLoss, _ p: [Double]) -> (value: Double, gradient: [Double], failure: String?) {
        let d = Self.features, c = Self.classes, n = train.count
        let r = loss.evaluate([logits(train, p), train.y, train.w], rows: n, classes: c)
        var grad = [Double](repeating: 0, count: p.count)
        for i in 0..<n {
            for k in 0..<c {
                let g = r.gradient[i * c + k]
                guard g.isFinite else { return (.nan, grad, "non-finite gradient \(shortNumber(g)) (sample \(i), class \(k))") }
                for j in 0..<d { grad[k * d + j] += g * train.f[i * d + j] }
                grad[c * d + k] += g
            }
        }
        return (r.loss.reduce(0, +) / Double(n), grad.map { $0 / Double(n) }, nil)
    }

    func run(_ loss: BatchLoss) -> ProxyRun {
        let c = Self.classes
        var p = [Double](repeating: 0, count: c * Self.features + c)
        var adam = Adam(count: p.count, learningRate: Self.learningRate)
        for step in 0..<Self.steps {
            let o = objective(loss, p)
            if let f = o.failure { return ProxyRun(score: 0, failure: f + " at step \(step)") }
            adam.step(&p, o.gradient)
        }
        let x = logits(test, p)
        var correct = 0
        for i in 0..<test.count {
            var best = 0
            for k in 1..<c where x[i * c + k] > x[i * c + best] { best = k }
            if best == test.label[i] { correct += 1 }
        }
        return ProxyRun(score: Double(correct) / Double(test.count), failure: nil)
    }

    /// Accuracy of always answering the most common class (what zero weights do).
    var floor: Double { Double(test.label.filter { $0 == 0 }.count) / Double(test.count) }
}

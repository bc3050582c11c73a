import Foundation
import LossDSL

/// Stage 2 for `box` losses: a linear regressor predicting the four corner offsets of a box
/// from features, relative to an anchor (pred = anchor + scale · (W f + b)), on synthetic
/// anchors and targets (scales 16–256 px, aspect 1:2 to 2:1, targets with IoU ≥ 0.3 to their
/// anchor, as detectors assign them). Trained full-batch with Adam from zero weights (the
/// prediction starts at the anchor); scored by the mean IoU on held-out pairs.
struct BoxProxy: Sendable {
    static let features = 6, trainCount = 300, testCount = 600, steps = 60
    static let learningRate = 0.02

    struct Split: Sendable {
        var f: [Double] = []        // count * features
        var anchor: [[Double]] = []
        var scale: [Double] = []
        var target: [[Double]] = []
        var count: Int { scale.count }
    }

    let train: Split, test: Split

    init(seed: UInt64) {
        var g = Gaussian(seed: seed &+ 0xB0)
        let d = Self.features
        let m = (0..<4).map { _ in g.vector(d, scale: 0.12) }
        func split(_ n: Int) -> Split {
            var s = Split()
            while s.count < n {
                let f = g.vector(d)
                let size = Foundation.exp(g.uniform(Foundation.log(16), Foundation.log(256)))
                let aspect = Foundation.exp(g.uniform(Foundation.log(0.5), Foundation.log(2))).squareRoot()
                let cx = g.uniform(0, 600), cy = g.uniform(0, 600)
                let a = [cx - size * aspect / 2, cy - size / aspect / 2, cx + size * aspect / 2, cy + size / aspect / 2]
                let t = (0..<4).map { k in a[k] + size * ((0..<d).map { m[k][$0] * f[$0] }.reduce(0, +) + 0.02 * g.next()) }
                guard t[2] > t[0], t[3] > t[1], BoxProbe.iou(a, t) >= 0.3 else { continue }
                s.f += f; s.anchor.append(a); s.scale.append(size); s.target.append(t)
            }
            return s
        }
        train = split(Self.trainCount)
        test = split(Self.testCount)
    }

    /// Predicted boxes; parameters are W (4 * features) then b (4).
    func predict(_ s: Split, _ p: [Double]) -> [[Double]] {
        let d = Self.features
        return (0..<s.count).map { i in
            (0..<4).map { k in
                var o = p[4 * d + k]
                for j in 0..<d { o += p[k * d + j] * s.f[i * d + j] }
                return s.anchor[i][k] + s.scale[i] * o
            }
        }
    }

    static func meanIoU(_ pred: [[Double]], _ target: [[Double]]) -> Double {
        var sum = 0.0
        for (p, t) in zip(pred, target) where p[2] > p[0] && p[3] > p[1] { sum += BoxProbe.iou(p, t) }
        return sum / Double(pred.count)
    }

    /// The mean training loss and its gradient in the parameters (W then b): d/dW_kj is the
    /// loss's d/d(coordinate k) times the anchor's scale times feature j.
    func objective(_ loss: BatchLoss, _ p: [Double]) -> (value: Double, gradient: [Double], failure: String?) {
        let d = Self.features, n = train.count
        var cols = [[Double]](repeating: [], count: 11)
        let pred = predict(train, p)
        for k in 0..<4 {
            cols[3 + k] = pred.map { $0[k] }
            cols[7 + k] = train.target.map { $0[k] }
        }
        let r = loss.evaluate(cols, rows: n, classes: 1)
        var grad = [Double](repeating: 0, count: p.count)
        for i in 0..<n {
            for k in 0..<4 {
                let g = r.gradient[i * 4 + k] * train.scale[i]
                guard g.isFinite else {
                    return (.nan, grad, "non-finite gradient \(shortNumber(r.gradient[i * 4 + k])) (sample \(i), coordinate \(k))")
                }
                for j in 0..<d { grad[k * d + j] += g * train.f[i * d + j] }
                grad[4 * d + k] += g
            }
        }
        return (r.loss.reduce(0, +) / Double(n), grad.map { $0 / Double(n) }, nil)
    }

    func run(_ loss: BatchLoss) -> ProxyRun {
        var p = [Double](repeating: 0, count: 4 * Self.features + 4)
        var adam = Adam(count: p.count, learningRate: Self.learningRate)
        for step in 0..<Self.steps {
            let o = objective(loss, p)
            if let f = o.failure { return ProxyRun(score: 0, failure: f + " at step \(step)") }
            adam.step(&p, o.gradient)
        }
        return ProxyRun(score: Self.meanIoU(predict(test, p), test.target), failure: nil)
    }

    /// The anchors' mean IoU: what zero weights predict.
    var floor: Double { Self.meanIoU(test.anchor, test.target) }
}

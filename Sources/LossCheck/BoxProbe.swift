import Foundation
import LossDSL

/// Concrete evaluation of a compiled box loss on pairs of boxes (Double, reference semantics),
/// and the IoU as the published code computes it.
struct BoxProbe: Sendable {
    let loss: CompiledLoss
    let columns: ColumnEvaluator<Double>
    /// The value alone: most box properties compare loss values, and the value is a fraction
    /// of the graph (the gradient through the box front end is most of it).
    let values: ColumnEvaluator<Double>

    init(_ loss: CompiledLoss) {
        self.loss = loss
        columns = ColumnEvaluator(graph: loss.graph, roots: [loss.value] + loss.gradient, params: loss.formula.paramValues)
        values = ColumnEvaluator(graph: loss.graph, roots: [loss.value], params: loss.formula.paramValues)
    }

    static func columns(_ pairs: [(p: [Double], t: [Double])]) -> [[Double]] {
        var cols = [[Double]](repeating: [], count: 11)
        for k in 0..<4 {
            cols[3 + k] = pairs.map { $0.p[k] }
            cols[7 + k] = pairs.map { $0.t[k] }
        }
        return cols
    }

    /// Loss and gradient (d/dx1, d/dy1, d/dx2, d/dy2) for each (predicted, target) pair.
    func evaluate(_ pairs: [(p: [Double], t: [Double])]) -> [(l: Double, g: [Double])] {
        let out = columns.evaluate(Self.columns(pairs), rows: pairs.count)
        return pairs.indices.map { r in (out[0].at(r, 0, classes: 1), (1...4).map { out[$0].at(r, 0, classes: 1) }) }
    }

    /// The loss alone for each pair.
    func losses(_ pairs: [(p: [Double], t: [Double])]) -> [Double] {
        let out = values.evaluate(Self.columns(pairs), rows: pairs.count)
        return pairs.indices.map { out[0].at($0, 0, classes: 1) }
    }

    /// Intersection over union, with the published +1e-7 on the union.
    static func iou(_ p: [Double], _ t: [Double]) -> Double {
        let iw = Swift.max(0, Swift.min(p[2], t[2]) - Swift.max(p[0], t[0]))
        let ih = Swift.max(0, Swift.min(p[3], t[3]) - Swift.max(p[1], t[1]))
        let i = iw * ih
        let u = (p[2] - p[0]) * (p[3] - p[1]) + (t[2] - t[0]) * (t[3] - t[1]) - i + BoxFrontEnd.epsilon
        return i / u
    }

    static func named(_ p: [Double], _ t: [Double]) -> [NamedValue] {
        zip(["x1", "y1", "x2", "y2", "tx1", "ty1", "tx2", "ty2"], p + t).map { NamedValue($0, $1) }
    }

    static func text(_ b: [Double]) -> String { "[" + b.map(shortNumber).joined(separator: ", ") + "]" }

    /// Random (predicted, target) pairs: scales log-uniform in 1–1000 px, targets anywhere in
    /// [0, 100]^2, predictions jittered around the target by up to 40% of the scale with sides
    /// 0.5–1.5 times it. Deterministic for a seed.
    static func randomPairs(_ count: Int, seed: UInt64) -> [(p: [Double], t: [Double])] {
        var rng = SeededGenerator(seed: seed)
        func u(_ a: Double, _ b: Double) -> Double { Double.random(in: a..<b, using: &rng) }
        return (0..<count).map { _ in
            let s = Foundation.exp(u(0, Foundation.log(1000)))
            let tx = u(0, 100), ty = u(0, 100)
            let t = [tx, ty, tx + s * u(0.5, 2), ty + s * u(0.5, 2)]
            let px = t[0] + s * u(-0.4, 0.4), py = t[1] + s * u(-0.4, 0.4)
            let p = [px, py, px + s * u(0.5, 1.5), py + s * u(0.5, 1.5)]
            return (p, t)
        }
    }

    /// Pairs at the edges of the domain: identical, degenerate (zero width), nested, tiny in
    /// huge, touching, and far apart, at coordinates up to 1e4.
    static let edgePairs: [(p: [Double], t: [Double])] = [
        ([0, 0, 1, 1], [0, 0, 1, 1]), ([0, 0, 1e4, 1e4], [0, 0, 1e4, 1e4]), ([5, 5, 5, 5], [5, 5, 5, 5]),
        ([3, 0, 3, 10], [0, 0, 10, 10]), ([0, 0, 10, 10], [3, 0, 3, 10]), ([0, 0, 100, 100], [100, 0, 200, 100]),
        ([-1e4, -1e4, -9999, -9999], [9999, 9999, 1e4, 1e4]), ([4, 4, 5, 5], [-1e4, -1e4, 1e4, 1e4]),
        ([-1e4, -1e4, 1e4, 1e4], [4, 4, 5, 5]), ([0, 0, 10, 10], [2, 2, 8, 8]), ([2, 2, 8, 8], [0, 0, 10, 10]),
        ([0, 0, 1e-3, 1e-3], [0, 0, 1e-3, 1e-3]),
    ]
}

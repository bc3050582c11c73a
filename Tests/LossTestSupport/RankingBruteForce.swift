import Foundation
import LossDSL

/// Independent brute-force transcriptions of the published ranking losses, written straight
/// from the official code (cccorn/AP-loss `lib/model/aploss.py`; fundamentalvision/
/// Parameterized-AP-Loss `mmdet/models/losses/paploss.py`; Andrew-Brown1/Smooth_AP
/// `src/Smooth_AP_loss.py`), not from the .loss files: the oracles
/// the language's evaluator is tested against.
public enum BruteForce {
    /// AP-Loss as the official code computes it (§1.8, `AP_loss`), interpolated AP on:
    /// returns the loss and the error-driven gradient g.
    public static func apLoss(s: [Double], t: [Double], delta: Double) -> (loss: Double, g: [Double]) {
        func f(_ x: Double) -> Double { min(max(x / (2 * delta) + 0.5, 0), 1) }
        var g = [Double](repeating: 0, count: s.count)
        let P = s.indices.filter { t[$0] == 1 }
        guard !P.isEmpty else { return (0, g) }
        let thr = P.map { s[$0] }.min()! - delta
        let Nv = s.indices.filter { t[$0] == 0 && s[$0] >= thr }
        var gN = [Double](repeating: 0, count: Nv.count)
        var prec = [Double](repeating: 0, count: s.count)
        var maxp = 0.0
        for i in P.sorted(by: { s[$0] < s[$1] }) {
            let a = P.reduce(0.0) { $0 + f(s[$1] - s[i]) } + 0.5
            let r = Nv.map { f(s[$0] - s[i]) }
            let b = r.reduce(0, +)
            let cur = a / (a + b)
            var w = r.map { $0 / (a + b) }
            if maxp <= cur { maxp = cur } else { w = w.map { $0 * (1 - maxp) / (1 - cur) } }
            for k in gN.indices { gN[k] += w[k] }
            prec[i] = maxp
        }
        for (k, j) in Nv.enumerated() { g[j] = gN[k] / Double(P.count) }
        for i in P { g[i] = -(1 - prec[i]) / Double(P.count) }
        return (1 - P.reduce(0.0) { $0 + prec[$1] } / Double(P.count), g)
    }

    /// PAP's `_linear(x, cp)` (§2.3): segment index #{k : x > x_k} + #{k : x_k = 0}·[x = 0] - 1.
    public static func linear(_ x: Double, _ cp: [(Double, Double)]) -> Double {
        let idx = cp.filter { x > $0.0 }.count + (x == 0 ? cp.filter { $0.0 == 0 }.count : 0) - 1
        let (x0, y0) = cp[idx], (x1, y1) = cp[idx + 1]
        return y0 + (y1 - y0) / (x1 - x0) * (x - x0)
    }

    /// PAP's loss (§2.2, `paploss()`), functions in the order [H2, I2, I3, I1, H1] (4 rows: H1 is
    /// the hard step sign(s_j - s_i)/2 + 1/2). Value only (its gradient is autodiff). With
    /// `frozen`, the denominators (stop-gradient in the code) are those values, per entry index.
    public static func pap(s: [Double], t: [Double], u: [Double], cp: [[(Double, Double)]], topk: Int,
                    frozen: [Int: Double]? = nil) -> Double { papDetail(s: s, t: t, u: u, cp: cp, topk: topk, frozen: frozen).loss }

    public static func papDetail(s: [Double], t: [Double], u: [Double], cp: [[(Double, Double)]], topk: Int,
                          frozen: [Int: Double]? = nil) -> (loss: Double, den: [Int: Double]) {
        let P = s.indices.filter { t[$0] == 1 }
        var V = s.indices.filter { t[$0] != -1 }
        if V.count > topk { V = Array(V.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }.prefix(topk)) }
        let H2 = cp[0], I2 = cp[1], I3 = cp[2], I1 = cp[3]
        var total = 0.0
        var dens: [Int: Double] = [:]
        for i in P {
            var num = 0.0, den = 0.0
            for j in V {
                let dji = min(max((s[j] - s[i]) / 2 + 0.5, 0), 1)
                num += linear(dji, H2) * (1 - linear(u[j], I2))
                den += cp.count == 5 ? linear(dji, cp[4]) : (s[j] == s[i] ? 0.5 : (s[j] > s[i] ? 1 : 0))
            }
            dens[i] = den
            total += (1 - linear(u[i], I1)) + linear(u[i], I3) * num / (frozen?[i] ?? den)
        }
        return (total / (Double(P.count) + 1e-8), dens)
    }

    /// Smooth-AP (§3.1) on one pooled ranking: sigmoid with temperature, exponent clamped to
    /// [-50, 50]; j runs over the other positives / the other valid entries.
    public static func smoothAP(s: [Double], t: [Double], tau: Double) -> Double {
        func G(_ x: Double) -> Double { 1 / (1 + exp(min(max(-x / tau, -50), 50))) }
        let P = s.indices.filter { t[$0] == 1 }, V = s.indices.filter { t[$0] != -1 }
        guard !P.isEmpty else { return 0 }
        var ap = 0.0
        for i in P {
            let pos = 1 + P.filter { $0 != i }.reduce(0.0) { $0 + G(s[$1] - s[i]) }
            let all = 1 + V.filter { $0 != i }.reduce(0.0) { $0 + G(s[$1] - s[i]) }
            ap += pos / all
        }
        return 1 - ap / Double(P.count)
    }

    /// The published RetinaNet control points (§2.6), rows [H2, I2, I3, I1, H1].
    public static let retinaNet: [[(Double, Double)]] = [
        [(0, 0), (0.4182, 0.0277), (0.4948, 0.2187), (0.6882, 0.2624), (0.802, 0.6688), (1, 1)],
        [(0, 0), (0.1279, 0.3696), (0.3056, 0.4708), (0.5198, 0.529), (0.6983, 0.6709), (1, 1)],
        [(0, 0), (0.0931, 0.0289), (0.3607, 0.5585), (0.4823, 0.7131), (0.6291, 0.8162), (1, 1)],
        [(0, 0), (0.4914, 0.1499), (0.5492, 0.1664), (0.6259, 0.3051), (0.7945, 0.6195), (1, 1)],
        [(0, 0), (0.413, 0.0798), (0.4356, 0.3571), (0.5361, 0.7063), (0.8097, 0.9083), (1, 1)],
    ]
}

/// A random ranking batch: scores on a grid of `step` (so ties and exact breakpoints occur)
/// or continuous, labels with the given fractions, qualities for positives.
public func randomBatch(_ n: Int, seed: UInt64, positives: Double = 0.2, ignored: Double = 0.1,
                 scale: Double = 2, grid: Double? = nil) -> RankingBatch<Double> {
    var r = TestRandom(seed)
    var s: [Double] = [], y: [Double] = [], u: [Double] = []
    for _ in 0..<n {
        var v = r.uniform(-scale, scale)
        if let grid { v = (v / grid).rounded() * grid }
        let c = r.next()
        let label: Double = c < positives ? 1 : (c < positives + ignored ? -1 : 0)
        s.append(v); y.append(label); u.append(label == 1 ? r.uniform(0, 1) : 0)
    }
    return RankingBatch(s: s, y: y, u: u)
}

import Foundation

/// Average precision of scores against binary labels: sort by score (highest first), take the
/// precision at the rank of each positive, and average over the positives (the area under the
/// precision-recall curve without interpolation).
func averagePrecision(scores: [Float], labels: [Float]) -> Double {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    let positives = Double(labels.filter { $0 > 0.5 }.count)
    guard positives > 0 else { return 0 }
    var hits = 0.0, sum = 0.0
    for (rank, i) in order.enumerated() where labels[i] > 0.5 {
        hits += 1
        sum += hits / Double(rank + 1)
    }
    return sum / positives
}

/// Intersection over union of two boxes (x1, y1, x2, y2).
func iou(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    let a = Array(a), b = Array(b)
    let iw = max(0, min(a[2], b[2]) - max(a[0], b[0])), ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    let i = iw * ih
    let u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return u > 0 ? i / u : 0
}

/// Adam (Kingma & Ba) on a flat parameter vector.
struct Adam {
    var rate: Float
    var m: [Float], v: [Float]
    var step = 0
    init(count: Int, rate: Float) { self.rate = rate; m = .init(repeating: 0, count: count); v = m }

    mutating func update(_ params: inout [Float], _ grad: [Float]) {
        step += 1
        let b1: Float = 0.9, b2: Float = 0.999
        let c1 = 1 - pow(b1, Float(step)), c2 = 1 - pow(b2, Float(step))
        for i in params.indices {
            m[i] = b1 * m[i] + (1 - b1) * grad[i]
            v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i]
            params[i] -= rate * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
        }
    }
}

import Codegen
import LossDSL

/// Training settings shared by every loss, so runs with different losses are comparable.
struct Settings {
    var epochs = 10
    var batch = 8192
    var rate: Float = 0.01
    var seed: UInt64 = 1
    var trainCount = 500_000
    var testCount = 200_000

    /// The step schedule of detectors (Detectron's "1x" drops 10x at 8/12 and 11/12 of
    /// training): 10x lower after 2/3 of the epochs and again after 8/9.
    func rate(epoch e: Int) -> Float {
        let t = Double(e - 1) / Double(epochs)
        return rate * (t >= 2.0 / 3 ? 0.1 : 1) * (t >= 8.0 / 9 ? 0.1 : 1)
    }
}

/// A linear classification head (one logit per class, or one for binary) on the anchor
/// features, trained with the compiled loss's gradient: d loss / d weights = Σ (d loss / d logit)
/// × feature, the chain rule through the linear layer.
struct Classifier {
    let classes: Int      // 1: a binary logit; C: softmax logits (class 0 background, C-1 object)
    var params: [Float]   // per logit: featureCount weights then a bias
    static let width = AnchorSet.featureCount + 1

    init(classes: Int) {
        self.classes = classes
        params = [Float](repeating: 0, count: classes * Self.width)
        // The prior-probability initialization of RetinaNet: objects start at p = 0.01, so the
        // first steps are not dominated by the loss of the background.
        let prior: Float = 0.01, bias = -Float.log((1 - prior) / prior)
        params[classes * Self.width - 1] = bias
    }

    /// The logits of anchors `rows` (row-major, `classes` per anchor).
    func logits(_ data: AnchorSet, _ rows: ArraySlice<Int>) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * classes)
        let d = AnchorSet.featureCount
        for (r, i) in rows.enumerated() {
            for c in 0..<classes {
                let p = c * Self.width
                var s = params[p + d]
                for j in 0..<d { s += params[p + j] * data.features[i * d + j] }
                out[r * classes + c] = s
            }
        }
        return out
    }

    /// The score that ranks anchors (the object logit, or its margin over background).
    func scores(_ data: AnchorSet) -> [Float] {
        let x = logits(data, Array(0..<data.count)[...])
        return classes == 1 ? x : (0..<data.count).map { x[$0 * classes + classes - 1] - x[$0 * classes] }
    }

    /// One epoch of minibatch Adam; returns the mean loss per batch (normalized by objects).
    mutating func epoch(_ k: LossKernel<Float>, _ data: AnchorSet, _ order: [Int], _ opt: inout Adam, _ s: Settings) throws -> Double {
        var total = 0.0, batches = 0
        let d = AnchorSet.featureCount
        for start in stride(from: 0, to: order.count, by: s.batch) {
            let rows = order[start..<min(order.count, start + s.batch)]
            let x = logits(data, rows)
            var y = [Float](repeating: 0, count: x.count), w = [Float]()
            var objects: Float = 0
            for (r, i) in rows.enumerated() {
                let label = data.labels[i]
                objects += label
                if classes == 1 { y[r] = label } else { y[r * classes + (label > 0.5 ? classes - 1 : 0)] = 1 }
                w.append(data.quality[i])
            }
            let result = try k.evaluate(x: x, y: y, w: w, classes: classes == 1 ? nil : classes, reduction: .sum, gradient: true)
            // Normalized by the number of objects in the batch, as detectors do (Lin et al.).
            let norm = 1 / max(objects, 1)
            total += Double(result.value * norm)
            batches += 1
            var grad = [Float](repeating: 0, count: params.count)
            let g = result.gradient ?? []
            for (r, i) in rows.enumerated() {
                for c in 0..<classes {
                    let gi = g[r * classes + c] * norm, p = c * Self.width
                    for j in 0..<d { grad[p + j] += gi * data.features[i * d + j] }
                    grad[p + d] += gi
                }
            }
            opt.update(&params, grad)
        }
        return total / Double(max(batches, 1))
    }
}

/// A linear box head: predicts the offsets of the four box sides from features 4...7,
/// trained with the box loss's gradient with respect to the predicted box.
struct BoxRegressor {
    var params = [Float](repeating: 0, count: 4 * 5)  // per side: 4 weights then a bias

    func predict(_ data: AnchorSet, _ i: Int) -> [Float] {
        let f = data.features[(i * AnchorSet.featureCount + 4)..<(i * AnchorSet.featureCount + 8)].map { $0 }
        return (0..<4).map { side in
            var o = params[side * 5 + 4]
            for j in 0..<4 { o += params[side * 5 + j] * f[j] }
            return data.anchors[i * 4 + side] + o
        }
    }

    func meanIoU(_ data: AnchorSet) -> Double {
        var s = 0.0
        for i in 0..<data.count { s += Double(iou(predict(data, i)[...], data.targets[(i * 4)..<(i * 4 + 4)])) }
        return s / Double(max(data.count, 1))
    }

    mutating func epoch(_ k: LossKernel<Float>, _ data: AnchorSet, _ order: [Int], _ opt: inout Adam, _ s: Settings) throws -> Double {
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: s.batch) {
            let rows = order[start..<min(order.count, start + s.batch)]
            var pred: [Float] = [], target: [Float] = []
            for i in rows { pred += predict(data, i); target += data.targets[(i * 4)..<(i * 4 + 4)] }
            let r = try k.evaluate(predicted: pred, target: target, reduction: .mean, gradient: true)
            total += Double(r.value)
            batches += 1
            var grad = [Float](repeating: 0, count: params.count)
            let g = r.gradient ?? []
            for (n, i) in rows.enumerated() {
                let f = data.features[(i * AnchorSet.featureCount + 4)..<(i * AnchorSet.featureCount + 8)].map { $0 }
                for side in 0..<4 {
                    let gi = g[n * 4 + side]
                    for j in 0..<4 { grad[side * 5 + j] += gi * f[j] }
                    grad[side * 5 + 4] += gi
                }
            }
            opt.update(&params, grad)
        }
        return total / Double(max(batches, 1))
    }
}

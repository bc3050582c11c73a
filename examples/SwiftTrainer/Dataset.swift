import Foundation

/// A generated, detection-like set of anchors: a few objects (1.5%), hard negatives (5%) and a
/// mass of easy negatives (93.5%), with 8 features (the first two informative).
///
/// Feature 0 is objectness: objects ≈ 2, hard negatives ≈ 1, easy negatives ≈ -2. Feature 1
/// separates objects (≈ 0) from hard negatives (≈ -2), but the easy negatives sit out at
/// feature 1 ≈ +4, so the weight on feature 1 is a trade-off: objects above hard negatives
/// want more of it, keeping the easy negatives far below the objects wants less. The best
/// held-out AP (≈ 0.59) is at a feature-1/feature-0 weight ratio of about 0.2. Cross-entropy's
/// gradient is dominated by the summed small losses of the many easy negatives, which keep
/// that ratio low (≈ 0.09); focal loss scales them down by p^gamma and reaches the good
/// region within a few epochs. This is the situation of dense detectors that Lin et al.
/// describe: most anchors are easy, and their summed loss dominates training.
struct AnchorSet {
    /// Features per anchor.
    static let featureCount = 8
    var features: [Float] = []  // count × featureCount, row-major
    var labels: [Float] = []     // 1 object, 0 background
    var quality: [Float] = []    // IoU of the anchor with its object (0 for background)
    /// Box regression data: each anchor's box and its target box (x1, y1, x2, y2).
    var anchors: [Float] = []
    var targets: [Float] = []
    var count: Int { labels.count }

    /// `count` anchors from the generator seeded with `seed`.
    init(count: Int, seed: UInt64) {
        var rng = Random(seed: seed)
        features.reserveCapacity(count * Self.featureCount)
        for _ in 0..<count {
            let r = rng.uniform()
            let f0: Float, f1: Float, label: Float
            if r < 0.015 {                  // object
                (f0, f1, label) = (rng.normal(2, 1), rng.normal(0, 1), 1)
            } else if r < 0.065 {           // hard negative: nearly as object-like on feature 0
                (f0, f1, label) = (rng.normal(1, 1), rng.normal(-2, 1), 0)
            } else {                        // easy negative: clearly background on feature 0
                (f0, f1, label) = (rng.normal(-2, 1), rng.normal(4, 1), 0)
            }
            features += [f0, f1] + (2..<Self.featureCount).map { _ in rng.normal(0, 1) }
            labels.append(label)
            quality.append(label == 1 ? 0.5 + 0.5 * rng.uniform() : 0.4 * rng.uniform())

            // Box regression: the target is the anchor moved by an offset that depends
            // linearly on features 4...7, plus noise; a linear head can learn it.
            let x = 100 * rng.uniform(), y = 100 * rng.uniform(), w = 10 + 40 * rng.uniform(), h = 10 + 40 * rng.uniform()
            anchors += [x, y, x + w, y + h]
            let f = features.suffix(4).map { $0 }
            let dx = 3 * f[0] + rng.normal(0, 0.5), dy = 3 * f[1] + rng.normal(0, 0.5)
            let dw = 2 * f[2] + rng.normal(0, 0.5), dh = 2 * f[3] + rng.normal(0, 0.5)
            targets += [x + dx, y + dy, x + w + dx + dw, y + h + dy + dh]
        }
    }
}

/// A small seedable generator (SplitMix64) with uniform and normal draws.
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Normal by Box-Muller.
    mutating func normal(_ mean: Float, _ sd: Float) -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

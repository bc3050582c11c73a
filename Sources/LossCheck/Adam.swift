import Foundation
import LossDSL

/// The Adam optimizer (Kingma & Ba, 2015) over a flat parameter vector. Stage 2 trains with it
/// because its step does not depend on the loss's scale: a candidate that is a multiple of a
/// good loss trains as well as that loss, as it would with a tuned learning rate.
struct Adam {
    var learningRate: Double
    var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    private var m: [Double], v: [Double]
    private var t = 0

    init(count: Int, learningRate: Double) {
        self.learningRate = learningRate
        m = [Double](repeating: 0, count: count)
        v = [Double](repeating: 0, count: count)
    }

    /// Updates `params` in place with the gradient `g` (same length).
    mutating func step(_ params: inout [Double], _ g: [Double]) {
        t += 1
        let c1 = 1 - Foundation.pow(beta1, Double(t)), c2 = 1 - Foundation.pow(beta2, Double(t))
        for k in params.indices {
            m[k] = beta1 * m[k] + (1 - beta1) * g[k]
            v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k]
            params[k] -= learningRate * (m[k] / c1) / ((v[k] / c2).squareRoot() + epsilon)
        }
    }
}

/// Normal deviates from a `SeededGenerator` (Box-Muller), for reproducible synthetic data.
struct Gaussian {
    var rng: SeededGenerator
    private var spare: Double?

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func uniform(_ lo: Double = 0, _ hi: Double = 1) -> Double { Double.random(in: lo..<hi, using: &rng) }

    mutating func next() -> Double {
        if let s = spare { spare = nil; return s }
        let u1 = Swift.max(uniform(), 1e-300), u2 = uniform()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spare = r * Foundation.sin(2 * Double.pi * u2)
        return r * Foundation.cos(2 * Double.pi * u2)
    }

    mutating func vector(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in scale * next() } }
}

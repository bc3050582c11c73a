import LossDSL
import LossCheck

/// PAP's search policy (Tao et al., NeurIPS 2021, arXiv 2112.05138; the official
/// fundamentalvision/Parameterized-AP-Loss, `tools/search.py`): an independent
/// truncated normal on [0, 1] per dimension with mean sigmoid(μ_x), sampled by inverse CDF,
/// updated by clipped PPO on the round's rewards:
///
/// - advantages A = reward - mean reward of the round;
/// - σ is annealed linearly to 0 before the update, σ ← σ (T - t - 1)/(T - t), except in the
///   last round;
/// - 100 Adam steps on μ_x (lr 0.01, 30-step linear warm-up then linear decay) maximizing
///   mean(min(r A, r_clip A)), r = exp(Σ_d log π_new - log π_old), r_clip with each dimension's
///   log-ratio clamped to [log(1 - ε), log(1 + ε)], ε = 0.1.
public struct TruncatedNormalPolicy: Sendable, Equatable {
    /// μ_x per dimension: the mean is sigmoid(μ_x).
    public var meanLogit: [Double]
    /// The standard deviation, shared by every dimension.
    public var sigma: Double
    /// PPO's clip range.
    public static let epsilon = 0.1

    /// Starts at the given means (clamped into (0.01, 0.99)) with PAP's initial σ = 0.2.
    public init(mean: [Double], sigma: Double = 0.2) {
        meanLogit = mean.map { m in let p = Swift.min(0.99, Swift.max(0.01, m)); return Double.log(p / (1 - p)) }
        self.sigma = sigma
    }

    /// A policy with the given state (as stored in a checkpoint).
    public init(meanLogit: [Double], sigma: Double) { self.meanLogit = meanLogit; self.sigma = sigma }

    /// The mean of each dimension, in (0, 1).
    public var mean: [Double] { meanLogit.map { 1 / (1 + Double.exp(-$0)) } }

    /// Standard normal CDF.
    static func phi(_ z: Double) -> Double { 0.5 * Double.erfc(-z / 2.0.squareRoot()) }
    static func density(_ z: Double) -> Double { Double.exp(-0.5 * z * z) / (2 * Double.pi).squareRoot() }

    /// Standard normal quantile: Acklam's rational approximation refined by one Halley step.
    static func quantile(_ p: Double) -> Double {
        let q = Swift.min(1 - 1e-16, Swift.max(1e-16, p))
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if q < 0.02425 {
            let t = (-2 * Double.log(q)).squareRoot()
            x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1)
        } else if q > 1 - 0.02425 {
            let t = (-2 * Double.log(1 - q)).squareRoot()
            x = -(((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1)
        } else {
            let t = q - 0.5, r = t * t
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * t / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = phi(x) - q, u = e * (2 * Double.pi).squareRoot() * Double.exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }

    /// log π(x) of one dimension, and its derivative with respect to μ (not μ_x).
    static func logProb(_ x: Double, mu: Double, sigma: Double) -> (value: Double, dMu: Double) {
        let alpha = -mu / sigma, beta = (1 - mu) / sigma, z = (x - mu) / sigma
        let mass = Swift.max(phi(beta) - phi(alpha), 1e-300)
        let value = -Double.log(sigma) + Double.log(density(z)) - Double.log(mass)
        let dMu = z / sigma + (density(beta) - density(alpha)) / (sigma * mass)
        return (value, dMu)
    }

    /// One sample and the log-probability of each of its dimensions.
    public func sample<R: RandomNumberGenerator>(using rng: inout R) -> (theta: [Double], logProbs: [Double]) {
        var theta: [Double] = [], lp: [Double] = []
        for mu in mean {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            let lo = Self.phi(-mu / sigma), hi = Self.phi((1 - mu) / sigma)
            let x = Swift.min(1, Swift.max(0, mu + sigma * Self.quantile(lo + u * (hi - lo))))
            theta.append(x); lp.append(Self.logProb(x, mu: mu, sigma: sigma).value)
        }
        return (theta, lp)
    }

    /// The PPO update after round `round` (0-based) of `rounds`.
    public mutating func update(samples: [[Double]], logProbs old: [[Double]], rewards: [Double], round: Int, rounds: Int) {
        if round < rounds - 1 { sigma *= Double(rounds - round - 1) / Double(rounds - round) }
        let baseline = rewards.reduce(0, +) / Double(Swift.max(1, rewards.count))
        let advantage = rewards.map { $0 - baseline }
        let lo = Double.log(1 - Self.epsilon), hi = Double.log(1 + Self.epsilon)
        var m1 = [Double](repeating: 0, count: meanLogit.count), m2 = m1
        let steps = 100, warmup = 30
        for step in 0..<steps {
            let lr = 0.01 * (step < warmup ? Double(step + 1) / Double(warmup) : Double(steps - step) / Double(steps - warmup))
            let mu = mean
            var grad = [Double](repeating: 0, count: meanLogit.count)
            for (k, x) in samples.enumerated() {
                var logRatio = 0.0, clipped = 0.0
                var dLog = [Double](repeating: 0, count: x.count), inside = [Bool](repeating: true, count: x.count)
                for d in x.indices {
                    let (v, dMu) = Self.logProb(x[d], mu: mu[d], sigma: sigma)
                    let delta = v - old[k][d]
                    logRatio += delta
                    clipped += Swift.min(hi, Swift.max(lo, delta))
                    inside[d] = delta > lo && delta < hi
                    dLog[d] = dMu * mu[d] * (1 - mu[d])  // chain rule through μ = sigmoid(μ_x)
                }
                let r = Double.exp(logRatio), rc = Double.exp(clipped), a = advantage[k]
                // d/dμ_x of min(r A, r_clip A) / K, taking the branch the min picks.
                for d in x.indices {
                    let g = r * a <= rc * a ? a * r * dLog[d] : (inside[d] ? a * rc * dLog[d] : 0)
                    grad[d] += g / Double(samples.count)
                }
            }
            // Adam ascent.
            for d in meanLogit.indices {
                m1[d] = 0.9 * m1[d] + 0.1 * grad[d]
                m2[d] = 0.999 * m2[d] + 0.001 * grad[d] * grad[d]
                let mh = m1[d] / (1 - Double.pow(0.9, Double(step + 1))), vh = m2[d] / (1 - Double.pow(0.999, Double(step + 1)))
                meanLogit[d] += lr * mh / (vh.squareRoot() + 1e-8)
            }
        }
    }
}

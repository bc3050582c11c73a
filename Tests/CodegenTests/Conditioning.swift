import Foundation
@testable import Codegen
import LossDSL

/// The second opinion on a backend value that the quick comparison rejected: is it a value the
/// reference computation itself reaches when its roundings go another way?
///
/// The quick comparisons (`Oracle`, `agrees`) measure each output's sensitivity with two to four
/// perturbed runs, each operation off by exactly ±k ulps, and extrapolate linearly. That is fast
/// and right for well-conditioned values, and wrong exactly where random formulas like to go:
/// `cos(exp(20))`, whose argument moves by radians per ulp; `log(cos(exp(x)))`, NaN or finite
/// depending on ulps; `x / (x - tanh x)` near 0, where the reference divides by an exact 0 and a
/// kernel by 1e-16; a float `tanh` that rounds to exactly 1 in one evaluator and not in the other.
///
/// Here the reference runs `patterns` more times in Double, every operation's result multiplied
/// by 1 + r·k·ulp with r uniform in [-1, 1] per node and run (k = 8; 8·√C on the class axis;
/// sums also move by ulps of the sum of their terms' magnitudes), with no linear scaling. The
/// value is explained when
/// - the runs do not even agree on finiteness (the class is decided by rounding): anything goes;
/// - all runs are NaN or infinite: the value must be too;
/// - the runs spread over more than 10% of their magnitude (no significant digit): any finite
///   value goes;
/// - otherwise: the value lies within the runs' range widened by twice its width plus `tol`.
/// A wrong derivative rule or a wrong C spelling shows on the well-conditioned samples, which
/// the quick comparison already judges strictly; this only stops ill-conditioned points from
/// making a fresh-seed run flaky. Every value explained here is counted (`Tally`) and printed.
///
/// The runs' outputs are kept per sample (`sample:`): an ill-conditioned formula sends every
/// output of a sample here (a 133-class row: 134 values), and recomputing the 32 runs for each
/// made one fresh corpus take over 20 minutes in one bundle.
final class Conditioning {
    let loss: CompiledLoss
    let runs: [ReferenceEvaluator<Double>]
    /// Whether the backend computes in Float: the runs' results are then rounded to Float, so
    /// that a value beyond Float's range counts as the infinity the backend meets.
    let float: Bool

    /// `ulp`: the unit roundoff of the backend's precision (2^-24 for Float, 2^-53 for Double).
    init(_ loss: CompiledLoss, params: [Double], ulp: Double, classes: Int, patterns: Int = 32) {
        self.loss = loss
        float = ulp >= 0x1p-24
        var rng = SeededGenerator(seed: 0xC0DD)
        runs = (0..<patterns).map { _ in
            let (g, roots) = Self.perturbed(loss, rng: &rng, ulp: ulp, classes: classes, uniform: true)
            return ReferenceEvaluator<Double>(graph: g, roots: roots, params: params)
        }
    }

    /// The runs' outputs (loss, then the gradient) at `inputs`, computed once per `sample` id.
    private var memo: [Int: [[Double]]] = [:]

    private func outputs(_ inputs: [InputValue<Double>], sample: Int?) -> [[Double]] {
        if let sample, let known = memo[sample] { return known }
        let values: [[Double]] = runs.map { ev in
            let r = CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
            return ([r.loss] + r.gradient).map { float ? Double(Float($0)) : $0 }
        }
        if let sample { memo[sample] = values }
        return values
    }

    /// Whether `got` (output `output`: 0 the loss, k + 1 gradient component k) is explained.
    /// `sample` names the inputs for reuse: the same id must always come with the same inputs.
    func explains(_ got: Double, inputs: [InputValue<Double>], sample: Int? = nil, output: Int, tol: Double) -> Bool {
        let values = outputs(inputs, sample: sample).map { $0[output] }
        let finite = values.filter(\.isFinite)
        if finite.isEmpty { return !got.isFinite }
        if finite.count < values.count { return true }
        guard got.isFinite, let lo = finite.min(), let hi = finite.max() else { return false }
        let width = hi - lo, size = max(abs(lo), abs(hi))
        if width > 0.1 * size { return true }
        return got >= lo - 2 * width - tol * max(1, size) && got <= hi + 2 * width + tol * max(1, size)
    }

    /// The loss's value-and-gradient graph with every operation's result multiplied by
    /// 1 + r·k·`ulp` (k = 8, 8·√`classes` for class-axis operators), r = ±1 (`uniform` false)
    /// or uniform in [-1, 1], drawn per node; plus the absolute errors that a relative
    /// perturbation of the result cannot show (below).
    static func perturbed(_ loss: CompiledLoss, rng: inout SeededGenerator, ulp: Double, classes: Int, uniform: Bool) -> (Graph, [NodeID]) {
        let rebuilt = GraphRewriter.rebuild(loss.graph, roots: [loss.value] + loss.gradient) { out, n in
            let id = out.add(n), args = n.args
            let r = uniform ? Double.random(in: -1...1, using: &rng) : (Bool.random(using: &rng) ? 1 : -1)
            let e = r * ulp * (n.op.shapeRule == .elementwise ? 8 : 8 * Double(classes).squareRoot())
            var result = out.apply(.mul, id, out.constant(1 + e))
            switch n.op {
            case .scaledGD, .scaledALF:
                // computed as (s + 1)/2 with s near -1 in the lower tail: error ~ ulps of 1/2
                result = out.apply(.add, result, out.constant(e * 0.5))
            case .dot, .sum:
                // a sum's rounding error scales with the sum of |terms|, not with the result
                let terms = n.op == .dot ? out.apply(.dot, out.apply(.abs, args[0]), out.apply(.abs, args[1]))
                                         : out.apply(.sum, out.apply(.abs, args[0]))
                result = out.apply(.add, result, out.apply(.mul, terms, out.constant(e)))
            case .logSoftmax:
                // a - max - log(s) cancels where a is near the max: error ~ ulps of |a|
                result = out.apply(.add, result, out.apply(.mul, out.apply(.abs, args[0]), out.constant(e)))
            default: break
            }
            return result
        }
        return (rebuilt.graph, rebuilt.roots)
    }
}

/// Counts the values a comparison accepted only because `Conditioning` explained them.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var examples: [String] = []

    func add(_ what: String) {
        lock.lock(); defer { lock.unlock() }
        count += 1
        if examples.count < 3 { examples.append(what) }
    }

    /// "N values judged ill-conditioned (e.g. …)", for the test log.
    var summary: String {
        lock.lock(); defer { lock.unlock() }
        return "\(count) value(s) judged ill-conditioned" + (examples.isEmpty ? "" : ", e.g. " + examples.joined(separator: "; "))
    }
}

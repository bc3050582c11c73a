import Foundation
@testable import Codegen
import LossDSL

/// The reference evaluator as the oracle for a kernel's output, with a tolerance that knows
/// how ill-conditioned each value is.
///
/// Float kernels must agree with the reference to a relative 1e-5 and double kernels to
/// 1e-12, plus the value's sensitivity to rounding. The branch-free math differs from libm by
/// a few ulps, lane sums add in another order, and random formulas amplify such differences
/// without bound (`1 - tanh(a)^2` at a large a, `cos(exp(i))`, `v_k - <p, v>` where the softmax
/// is peaked). The sensitivity is measured, not guessed: the reference runs twice more on a
/// copy of the graph where every operation's result is multiplied by 1 ± k ulps (k = 8, and
/// 8·sqrt(C) for class-axis operators), plus ± k ulps of the scale of an absolute error where
/// the operation cancels (sums: of the sum of |terms|), and the spread of those runs is added to the
/// tolerance (double: the perturbation is 2^20 times larger and the spread scaled back, so it
/// stays above the evaluation's own rounding). A value that is not finite must meet a
/// reference (or perturbed run) that is not finite either (NaN and inf count as one class).
struct Oracle {
    let loss: CompiledLoss
    let params: [Double]

    init(_ loss: CompiledLoss, params: [Double]? = nil) {
        self.loss = loss
        self.params = params ?? loss.formula.paramValues
    }

    struct Mismatch: CustomStringConvertible {
        let sample: Int, output: String, got: Double, float: Double, double: Double
        var description: String { "sample \(sample) \(output): got \(got), reference float \(float), double \(double)" }
    }

    typealias Values = [(loss: Double, gradient: [Double])]

    /// Per-sample loss and flattened gradient from the reference evaluator in `U`.
    func reference<T: LossReal, U: LossReal>(_ b: CBatch<T>, as: U.Type, graph: Graph? = nil, roots: [NodeID]? = nil) -> Values {
        let ev = ReferenceEvaluator<U>(graph: graph ?? loss.graph, roots: roots ?? [loss.value] + loss.gradient, params: params)
        return (0..<b.n).map { i in
            let inputs = b.sample(i, kind: loss.kind, as: U.self)
            let r = CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
            return (Double(r.loss), r.gradient.map { Double($0) })
        }
    }

    /// The graph with every operation's result multiplied by 1 + (random ±1)·k·`ulp`.
    func perturbed(seed: UInt64, ulp: Double, classes: Int) -> (Graph, [NodeID]) {
        var rng = SeededGenerator(seed: seed)
        return Conditioning.perturbed(loss, rng: &rng, ulp: ulp, classes: classes, uniform: false)
    }

    /// Every disagreement between `out` and the reference (empty when all agree).
    /// A value the quick test rejects gets a second opinion from `Conditioning` (counted in
    /// `tally`) before it counts as a disagreement.
    func mismatches<T: LossReal>(_ out: KernelOutput<T>, _ b: CBatch<T>, checkGradient: Bool = true, tally: Tally? = nil) -> [Mismatch] {
        let isFloat = T.self == Float.self
        let rf = reference(b, as: Float.self), rd = reference(b, as: Double.self)
        // Perturbed runs, and the factor that scales their spread to the kernel's precision.
        let ulp = isFloat ? 0x1p-24 : 0x1p-33, scaleBack = isFloat ? 1.0 : 0x1p-20
        let runs: [Values] = (1...2).map { k in
            let (g, roots) = perturbed(seed: UInt64(k), ulp: ulp, classes: b.classes)
            return reference(b, as: Double.self, graph: g, roots: roots)
        }
        var bad: [Mismatch] = []
        let width = b.gradientWidth(loss.kind)
        var second: Conditioning?
        for i in 0..<b.n {
            func check(_ got: T, _ pick: ((loss: Double, gradient: [Double])) -> Double, _ what: String, output: Int) {
                let c = Double(got), f = pick(rf[i]), d = pick(rd[i])
                let others = runs.map { pick($0[i]) }
                var slack = 0.0
                for o in others where o.isFinite && d.isFinite { slack = max(slack, abs(o - d) * scaleBack) }
                let tol = (isFloat ? 1e-5 : 1e-12) * abs(d.isFinite ? d : (f.isFinite ? f : 0)) + 2 * slack
                    + (isFloat ? 1e-35 : 1e-300)
                func near(_ r: Double) -> Bool {
                    // Where the reference is not finite, any non-finite value agrees: inf * 0 is
                    // NaN and inf * 1e-300 is inf, and which one a few ulps decide is noise.
                    if !r.isFinite, !c.isFinite { return true }
                    if c.isNaN || r.isNaN { return c.isNaN && r.isNaN }
                    if c.isInfinite || r.isInfinite { return c == r || (isFloat && c == Double(Float(r))) }
                    return abs(c - r) <= tol
                }
                let candidates = isFloat ? [d, f] + others : [d] + others
                if candidates.contains(where: near) { return }
                if second == nil { second = Conditioning(loss, params: params, ulp: isFloat ? 0x1p-24 : 0x1p-53, classes: b.classes) }
                if second!.explains(c, inputs: b.sample(i, kind: loss.kind, as: Double.self), sample: i, output: output, tol: isFloat ? 1e-5 : 1e-12) {
                    tally?.add("\(T.self) sample \(i) \(what): got \(c), reference \(d)")
                } else {
                    bad.append(Mismatch(sample: i, output: what, got: c, float: f, double: d))
                }
            }
            check(out.loss[i], { $0.loss }, "loss", output: 0)
            if checkGradient {
                for k in 0..<width { check(out.gradient[i * width + k], { $0.gradient[k] }, "d[\(k)]", output: k + 1) }
            }
        }
        // The sum is the kernel's own per-sample values added in double.
        let own = out.loss.reduce(0.0) { $0 + Double($1) }
        let scale = out.loss.reduce(0.0) { $0 + abs(Double($1)) }
        if !(own.isNaN && out.sum.isNaN), !(own == out.sum), !(abs(own - out.sum) <= 1e-12 * scale) {
            bad.append(Mismatch(sample: -1, output: "sum", got: out.sum, float: .nan, double: own))
        }
        return bad
    }
}

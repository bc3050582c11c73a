import Foundation
@testable import Codegen
import LossDSL

/// The reference evaluator as the oracle for a kernel's output, with a tolerance that knows
/// how ill-conditioned each value is.
///
/// Float kernels must agree with the reference to a relative 1e-5 and double kernels to
/// 1e-12. Where a formula cancels (random formulas do: `x - sin(x)` near 0, `a/b - c/d`), a
/// rounding error anywhere is amplified; the difference between the reference evaluated in
/// Float and in Double measures that amplification at this very input, so it is added to the
/// tolerance (×4 in float; scaled by 2^-29, the ratio of the precisions' ulps, ×16 in double).
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

    /// Per-sample loss and flattened gradient from the reference evaluator.
    func reference<T: LossReal, U: LossReal>(_ b: Batch<T>, as: U.Type) -> [(loss: U, gradient: [U])] {
        let ev = ReferenceEvaluator<U>(graph: loss.graph, roots: [loss.value] + loss.gradient, params: params)
        return (0..<b.n).map { i in
            let inputs = b.sample(i, kind: loss.kind, as: U.self)
            return CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
        }
    }

    /// Every disagreement between `out` and the reference (empty when all agree).
    func mismatches<T: LossReal>(_ out: KernelOutput<T>, _ b: Batch<T>, checkGradient: Bool = true) -> [Mismatch] {
        let rf = reference(b, as: Float.self), rd = reference(b, as: Double.self)
        let isFloat = T.self == Float.self
        var bad: [Mismatch] = []
        let width = b.gradientWidth(loss.kind)
        for i in 0..<b.n {
            func check(_ got: T, _ f: Float, _ d: Double, _ what: String) {
                let g = Double(got), fd = Double(f)
                if !Self.agrees(g, float: fd, double: d, isFloat: isFloat) {
                    bad.append(Mismatch(sample: i, output: what, got: g, float: fd, double: d))
                }
            }
            check(out.loss[i], rf[i].loss, rd[i].loss, "loss")
            if checkGradient {
                for k in 0..<width { check(out.gradient[i * width + k], rf[i].gradient[k], rd[i].gradient[k], "d[\(k)]") }
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

    /// Whether a kernel value `c` agrees with the references `f` (Float) and `d` (Double).
    static func agrees(_ c: Double, float f: Double, double d: Double, isFloat: Bool) -> Bool {
        if isFloat {
            if c.isNaN { return f.isNaN || d.isNaN }
            if c.isInfinite { return c == f || c == Double(Float(d)) }
            let slack = f.isFinite && d.isFinite ? abs(f - d) : 0
            let tol = 1e-5 * max(abs(d.isFinite ? d : 0), abs(f.isFinite ? f : 0)) + 4 * slack + 1e-30
            return (f.isFinite && abs(c - f) <= tol) || (d.isFinite && abs(c - d) <= tol)
        }
        if c.isNaN || d.isNaN { return c.isNaN && d.isNaN }
        if c.isInfinite || d.isInfinite { return c == d }
        let slack = f.isFinite ? abs(f - d) : 0
        return abs(c - d) <= 1e-12 * abs(d) + 16 * slack * 0x1p-29 + 1e-300
    }
}

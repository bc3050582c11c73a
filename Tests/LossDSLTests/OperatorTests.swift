import Foundation
import Testing
import _Differentiation
@testable import LossDSL
import LossTestSupport

/// Every operator's value against an independent closed form, and its derivative (through the
/// whole pipeline: lowering, stabilize, forward-mode autodiff) against central differences.
struct OperatorTests {
    /// Closed forms written independently of `OpMath` (other identities where one exists).
    static let closedForms: [(String, @Sendable (Double) -> Double, ClosedRange<Double>)] = [
        ("-x", { -$0 }, -5...5),
        ("exp(x)", { Foundation.exp($0) }, -5...5),
        ("log(x)", { Foundation.log($0) }, 0.05...20),
        ("abs(x)", { Swift.abs($0) }, -5...5),
        ("sqrt(x)", { $0.squareRoot() }, 0.05...20),
        ("softplus(x)", { Foundation.log(1 + Foundation.exp($0)) }, -8...8),
        ("sigmoid(x)", { 1 / (1 + Foundation.exp(-$0)) }, -8...8),
        ("tanh(x)", { (Foundation.exp(2 * $0) - 1) / (Foundation.exp(2 * $0) + 1) }, -4...4),
        ("sin(x)", { Foundation.sin($0) }, -5...5),
        ("cos(x)", { Foundation.cos($0) }, -5...5),
        ("relu(x)", { Swift.max($0, 0) }, -5...5),
        // gd(t) = asin(tanh t): an identity other than the 2 atan(tanh(t/2)) the code uses.
        ("scaled_gd(x)", { (Foundation.asin(Foundation.tanh(Double.pi * $0 / 4)) * 2 / Double.pi + 1) / 2 }, -6...6),
        ("scaled_alf(x)", { ($0 / 2 / (1 + $0 * $0 / 4).squareRoot() + 1) / 2 }, -6...6),
        ("scaled_erf(x)", { (Foundation.erf(Double.pi.squareRoot() * $0 / 4) + 1) / 2 }, -6...6),
        ("scaled_erfc(x)", { 1 - (Foundation.erf(Double.pi.squareRoot() * $0 / 4) + 1) / 2 }, -6...6),
        ("x + 2.5", { $0 + 2.5 }, -5...5),
        ("x - 2.5", { $0 - 2.5 }, -5...5),
        ("x * x", { $0 * $0 }, -5...5),
        ("1 / x", { 1 / $0 }, 0.2...5),
        ("x ^ 2.5", { Foundation.pow($0, 2.5) }, 0.1...5),
        ("pow(x, x)", { Foundation.pow($0, $0) }, 0.1...3),
        ("log1p(x)", { Foundation.log(1 + $0) }, -0.5...5),
        ("expm1(x)", { Foundation.exp($0) - 1 }, -3...3),
        ("min(x, 0.5)", { Swift.min($0, 0.5) }, -5...5),
        ("max(x, 0.5)", { Swift.max($0, 0.5) }, -5...5),
        ("clamp(x, -1, 2)", { Swift.min(Swift.max($0, -1), 2) }, -5...5),
        ("select(x, x * x, -x)", { $0 > 0 ? $0 * $0 : -$0 }, -5...5),
        ("cosh(x)", { (Foundation.exp($0) + Foundation.exp(-$0)) / 2 }, -4...4),
        ("x * stop_gradient(x)", { $0 * $0 }, -3...3),
        ("sign(x) * 3", { $0 > 0 ? 3 : ($0 < 0 ? -3 : 0) }, -5...5),
        ("step(x) + x", { ($0 > 0 ? 1 : 0) + $0 }, -5...5),
    ]

    /// Every elementwise operator is checked by a closed form above (class-axis operators by
    /// `ConvergenceEvaluatorTests` and the multiclass examples).
    @Test func everyElementwiseOperatorHasAClosedForm() throws {
        var covered = Set<Op>()
        for (expr, _, _) in Self.closedForms {
            let f = try Formula.parse("loss t: binary\nreturn \(expr)\n")
            for n in f.graph.nodes { covered.insert(n.op) }
        }
        for op in Op.allCases where !op.isLeaf && op.shapeRule == .elementwise {
            #expect(covered.contains(op), "no closed-form row uses \(op.name)")
        }
    }

    @Test(arguments: 0..<closedForms.count)
    func valueAndDerivative(_ k: Int) throws {
        let (expr, f, range) = Self.closedForms[k]
        let loss = try binaryLoss(expr)
        var r = TestRandom(UInt64(k + 1))
        for _ in 0..<200 {
            let x = r.uniform(range.lowerBound, range.upperBound)
            // Keep clear of kinks, where a finite difference straddles two pieces.
            if [0, 0.5, -1, 2].contains(where: { Swift.abs(x - $0) < 1e-3 }) { continue }
            let (v, d) = binary(loss, x)
            #expect(close(v, f(x), 1e-12), "\(expr) at \(x): \(v) vs \(f(x))")
            var fd = centralDifference(f, at: x)
            if expr.contains("stop_gradient") { fd = x }  // d/dx of x * stop(x) is stop(x)
            #expect(close(d, fd, 1e-6), "\(expr)' at \(x): \(d) vs \(fd)")
        }
    }

    @Test func scaledCurvesHaveValueHalfAndSlopeQuarterAtZero() throws {
        for name in ["sigmoid", "scaled_gd", "scaled_alf", "scaled_erf"] {
            let (v, d) = binary(try binaryLoss("\(name)(x)"), 0.0)
            #expect(close(v, 0.5, 1e-15) && close(d, 0.25, 1e-15), "\(name): \(v), \(d)")
        }
        // The tails at x = -6 of the curves as CSE-Autoloss's released code defines them
        // (PerdonLiu/CSE-Autoloss, tools/search_space.py), computed independently of lossc.
        let tails: [(String, Double)] = [("sigmoid", 0.0025), ("scaled_erf", 0.0001), ("scaled_alf", 0.0257), ("scaled_gd", 0.0057)]
        for (name, v) in tails {
            let (y, _) = binary(try binaryLoss("\(name)(x)"), -6.0)
            #expect(Swift.abs(y - v) < 0.00006, "\(name)(-6) = \(y), expected \(v)")
        }
    }

    @Test func derivativesAgreeWithSwiftDifferentiation() throws {
        @differentiable(reverse) func sgd(_ x: Double) -> Double { 2 / Double.pi * atan(tanh(Double.pi / 8 * x)) + 0.5 }
        @differentiable(reverse) func salf(_ x: Double) -> Double { let h = x / 2; return (h / sqrt(1 + h * h) + 1) / 2 }
        @differentiable(reverse) func serf(_ x: Double) -> Double { (erf(Double.pi.squareRoot() / 4 * x) + 1) / 2 }
        @differentiable(reverse) func sig(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        @differentiable(reverse) func sp(_ x: Double) -> Double { log(1 + exp(x)) }
        @differentiable(reverse) func focal(_ x: Double) -> Double { let p = 1 / (1 + exp(-x)); return -0.25 * (1 - p) * (1 - p) * log(p) }
        let cases: [(String, @differentiable(reverse) (Double) -> Double)] = [
            ("scaled_gd(x)", sgd), ("scaled_alf(x)", salf), ("scaled_erf(x)", serf), ("sigmoid(x)", sig),
            ("softplus(x)", sp), ("tanh(x)", { tanh($0) }), ("exp(sin(x)) * cos(x)", { exp(sin($0)) * cos($0) }),
            ("-0.25 * (1 - sigmoid(x))^2 * log(sigmoid(x))", focal),
        ]
        for (expr, f) in cases {
            let loss = try binaryLoss(expr)
            for x in stride(from: -4.0, through: 4.0, by: 0.37) {
                let (v, d) = binary(loss, x)
                #expect(close(v, f(x), 1e-12), "\(expr) at \(x)")
                #expect(close(d, gradient(at: x, of: f), 1e-12), "\(expr)' at \(x): \(d) vs \(gradient(at: x, of: f))")
            }
        }
    }

    @Test func floatEvaluationMatchesDouble() throws {
        for (expr, _, range) in Self.closedForms {
            let loss = try binaryLoss(expr)
            for x in stride(from: range.lowerBound, through: range.upperBound, by: (range.upperBound - range.lowerBound) / 17) {
                let (vd, dd) = binary(loss, x)
                let (vf, df) = binary(loss, Float(x))
                #expect(close(Double(vf), vd, 1e-5), "\(expr) at \(x) in float: \(vf) vs \(vd)")
                #expect(close(Double(df), dd, 1e-4), "\(expr)' at \(x) in float: \(df) vs \(dd)")
            }
        }
    }

    @Test func everyOperatorHasAFamilyAndArity() {
        let searchSpace = Op.allCases.filter { $0.info.family == .searchSpace }
        #expect(searchSpace.count == 21)
        #expect(Set(Op.allCases.map(\.info.name)).count == Op.allCases.count)
        for op in Op.allCases where op.info.family != .leaf {
            #expect(Op.byName[op.info.name] == op)
        }
    }
}

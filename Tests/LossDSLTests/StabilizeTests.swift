import Foundation
import Testing
@testable import LossDSL
import LossTestSupport

/// Each stabilize rule at extreme inputs: finite where exact math is finite (in float32),
/// accurate against an independent closed form, and equal to the unrewritten form where that
/// one is accurate.
struct StabilizeTests {
    /// (rule, formula, points, exact value in Double from a closed form that cannot overflow there)
    static let cases: [(String, String, [Double], @Sendable (Double) -> Double)] = [
        ("log-sigmoid", "log(sigmoid(x))", [-1e4, -100, 0, 100, 1e4], { $0 < 0 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0)) }),
        ("one-minus-sigmoid", "log(1 - sigmoid(x))", [-1e4, -100, 0, 100, 1e4], { $0 > 0 ? -$0 - Foundation.log1p(Foundation.exp(-$0)) : -Foundation.log1p(Foundation.exp($0)) }),
        ("log1p", "log(1 + x)", [1e-10, -1e-10, 0, 3], { Foundation.log1p($0) }),
        ("expm1", "exp(x) - 1", [1e-10, -1e-10, 0, 2], { Foundation.expm1($0) }),
        ("softplus", "log(1 + exp(x))", [-1e4, -100, 0, 100, 1e4], { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }),
        ("sigmoid", "1 / (1 + exp(-x))", [-1e4, -100, 0, 100, 1e4], { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) }),
        ("softplus-reflection", "x - log(sigmoid(x))", [-1e4, -100, -30, 0, 100, 1e4], { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }),
        ("softplus-minus-argument", "softplus(x) - x", [-1e4, -100, -30, 0, 30, 60], { -$0 > 0 ? -$0 + Foundation.log1p(Foundation.exp($0)) : Foundation.log1p(Foundation.exp(-$0)) }),
        ("softplus-minus-argument", "x - softplus(x)", [-1e4, -100, -30, 0, 30, 60], { $0 < 0 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0)) }),
        ("log-exp", "log(exp(x))", [-1e4, -100, 0, 100, 1e4], { $0 }),
        ("erfc", "1 - scaled_erf(x)", [-20, 0, 5, 20], { Foundation.erfc(Double.pi.squareRoot() / 4 * $0) / 2 }),
        ("sqrt-square", "sqrt(x * x)", [-1e30, -3, 0, 1e30], { Swift.abs($0) }),
    ]

    @Test(arguments: 0..<cases.count)
    func ruleAtExtremes(_ k: Int) throws {
        let (rule, expr, points, exact) = Self.cases[k]
        var fired: [String] = []
        let f = try Formula.parse("loss t: binary\nreturn \(expr)\n")
        let c = Canonicalize.run(f.graph, roots: [f.root])
        _ = Stabilize.run(c.graph, roots: c.roots) { fired.append($0) }
        #expect(fired.contains(rule), "\(rule) did not fire on \(expr) (fired: \(fired))")
        let loss = CompiledLoss.compile(f)
        for x in points {
            let (vd, dd) = binary(loss, x)
            let want = exact(x)
            #expect(Swift.abs(vd - want) <= 1e-14 * Swift.max(Swift.abs(want), 1e-300) + 1e-300 || close(vd, want, 1e-14),
                    "\(expr) at \(x): \(vd) vs exact \(want)")
            #expect(dd.isFinite, "d/dx \(expr) at \(x) = \(dd)")
            let (vf, df) = binary(loss, Float(x))
            if Float(want).isFinite {
                #expect(vf.isFinite && df.isFinite, "float \(expr) at \(x): \(vf), \(df)")
                #expect(close(Double(vf), Double(Float(want)), 1e-5), "float \(expr) at \(x): \(vf) vs \(Float(want))")
            }
        }
        // Where the naive form is accurate, the rewrite must agree with it.
        let naive = CompiledLoss.compile(f, options: CompileOptions(stabilize: false))
        for x in [-3.0, -0.7, 0.4, 2.5] where !(expr.contains("1 + x") && x <= -1) {
            let (a, da) = binary(loss, x), (b, db) = binary(naive, x)
            #expect(close(a, b, 1e-12) && close(da, db, 1e-10), "\(expr) at \(x): \(a) vs unrewritten \(b)")
        }
    }

    /// Every rule fires on a formula of its `before` form: the pass tries a rule only on nodes
    /// of the operators its `on` names, so a missing operator would silently disable it.
    @Test func everyRuleFiresOnItsForm() throws {
        let forms: [(rule: String, source: String)] = [
            ("log-sigmoid", "loss t: binary\nreturn log(sigmoid(x))\n"),
            ("one-minus-sigmoid", "loss t: binary\nreturn 1 - sigmoid(x)\n"),
            ("log-softmax", "loss t: multiclass\nreturn -dot(y, log(softmax(x)))\n"),
            ("log1p", "loss t: binary\nreturn log(1 + x)\n"),
            ("expm1", "loss t: binary\nreturn exp(x) - 1\n"),
            ("softplus", "loss t: binary\nreturn log1p(exp(x))\n"),
            ("sigmoid", "loss t: binary\nreturn 1 / (1 + exp(x))\n"),
            ("softplus-reflection", "loss t: binary\nreturn x + softplus(-x)\n"),
            ("softplus-minus-argument", "loss t: binary\nreturn softplus(x) - x\n"),
            ("log-exp", "loss t: binary\nreturn log(exp(x))\n"),
            ("erfc", "loss t: binary\nreturn 1 - scaled_erfc(x)\n"),
            ("softmax", "loss t: multiclass\nreturn -dot(y, exp(x) / sum(exp(x)))\n"),
            ("ratio-complement", "loss t: box\nreturn (e - (i + 2)) / e\n"),
            ("sqrt-square", "loss t: binary\nreturn sqrt(x * x)\n"),
        ]
        #expect(Set(forms.map(\.rule)) == Set(Stabilize.rules.map(\.name)), "one form per rule")
        for (rule, source) in forms {
            let f = try Formula.parse(source)
            let c = Canonicalize.run(f.graph, roots: [f.root])
            var fired: [String] = []
            _ = Stabilize.run(c.graph, roots: c.roots) { fired.append($0) }
            #expect(fired.contains(rule), "\(rule) did not fire on \(source) (fired: \(fired))")
        }
    }

    @Test func logSoftmaxAtExtremeLogits() throws {
        let loss = try compile("loss ce: multiclass\nreturn -dot(y, log(softmax(x)))\n")
        let naiveSoftmax = try compile("loss ce: multiclass\nreturn -dot(y, log(exp(x) / sum(exp(x))))\n")
        for l in [loss, naiveSoftmax] {
            let x: [Float] = [100, -100, 0, 1e4]
            let r = l.evaluate([.vector(x), .vector([0, 1, 0, 0]), .scalar(1)], as: Float.self)
            #expect(r.loss == 1e4 + 100, "CE = \(r.loss)")
            #expect(r.gradient.allSatisfy { $0.isFinite })
            #expect(close(Double(r.gradient[1]), -1, 1e-6) && close(Double(r.gradient[3]), 1, 1e-6))
        }
    }

    /// The design card's example: focal loss stays finite in float32 at x = +-100 (and beyond).
    @Test func focalLossIsFiniteInFloat32AtExtremes() throws {
        let loss = try compile(try example("focal.loss"))
        for x: Float in [-1e4, -100, -30, 0, 30, 100, 1e4] {
            for y: Float in [0, 1] {
                let (v, d) = binary(loss, x, y: y)
                #expect(v.isFinite && d.isFinite, "focal(\(x), y=\(y)) = \(v), d = \(d)")
            }
        }
        // x = -100, y = 1: alpha (1 - p)^2 (-log p) = 0.25 * 1 * 100.
        #expect(binary(loss, Float(-100), y: 1).0 == 25)
        #expect(binary(loss, Float(100), y: 0).0 == 75)
    }

    @Test func protectedModeMatchesThePublishedGuards() throws {
        let f = try Formula.parse("loss t: binary\nreturn log(x) + exp(x) + 1 / x\n")
        let p = CompiledLoss.compile(f, options: CompileOptions(protected: true))
        // log(0 + 1e-20) + exp(0) + 1 / (0 + 1e-20)
        let (v, _) = binary(p, 0.0)
        #expect(close(v, Foundation.log(1e-20) + 1 + 1e20, 1e-12))
        let (big, _) = binary(p, 1000.0)
        #expect(close(big, Foundation.log(1000) + Foundation.exp(88) + 1e-3, 1e-12))
    }
}

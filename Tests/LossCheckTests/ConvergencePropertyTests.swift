import Foundation
import Testing
@testable import LossDSL
@testable import LossCheck
import LossTestSupport

/// Stage 1's verdicts on known losses: what must be proved, and counterexamples checked
/// against closed forms (not against the checker's own evaluation).
struct ConvergencePropertyTests {
    func results(_ text: String, budget: Stage1Budget = .thorough) throws -> [String: PropertyResult] {
        let r = ConvergenceCheck.stage1(try compile(text), budget: budget)
        return Dictionary(uniqueKeysWithValues: r.map { ($0.id, $0) })
    }

    func counterexample(_ r: PropertyResult?) -> Counterexample? {
        if case .refuted(let c)? = r?.verdict { return c }
        return nil
    }

    func value(_ c: Counterexample, _ name: String) -> Double? { c.inputs.first { $0.name == name }?.value }

    @Test func publishedClassificationLossesAreProved() throws {
        for name in ["bce.loss", "focal.loss", "cse_b_cls.loss", "cross_entropy.loss", "cse_a_cls.loss"] {
            for (id, r) in try results(try example(name)) {
                #expect(r.verdict.isProved, "\(name) \(id): \(r.detail)")
            }
        }
    }

    @Test func publishedBoxLossesAreProvedAlongEveryFamily() throws {
        // A_reg's "apart" derivative 2H/e^2 is computed as the difference of two terms about
        // H/e: it needs the Taylor bound. B_reg's finiteness (its divisor (u + i)/3 - e < 0)
        // needs i, u and e together, which three independent proof variables do not give.
        let families = ["box.approach", "box.grow", "box.shrink", "box.apart"]
        for (name, ids) in [("giou.loss", families + ["box.finite"]), ("cse_a_reg.loss", families + ["box.finite"]),
                            ("cse_b_reg.loss", families), ("iou.loss", families + ["box.finite"])] {
            let r = try results(try example(name), budget: Stage1Budget(proofBoxes: 1500))
            for id in ids { #expect(r[id]?.verdict.isProved == true, "\(name) \(id): \(r[id]?.detail ?? "missing")") }
            // Sampling never proves.
            #expect(r["box.gradient-step"]?.verdict.word == "undecided" && r["box.minimum"]?.verdict.word == "undecided")
        }
    }

    /// Every proved sign of the published classification losses agrees with dense sampling of
    /// an independent finite difference: a check that the proofs are sound.
    @Test func provedSignsAgreeWithDenseFiniteDifferences() throws {
        for name in ["bce.loss", "focal.loss", "cse_b_cls.loss"] {
            let loss = try compile(try example(name))
            for y in [0.0, 1.0] {
                for k in 0...3000 {
                    let x = -15 + 30 * Double(k) / 3000
                    let d = centralDifference({ binary(loss, $0, y: y, w: 1.0).0 }, at: x, step: 1e-5)
                    #expect(y == 1 ? d < 0 : d > 0, "\(name) y = \(y) x = \(x): \(d)")
                }
            }
        }
    }

    @Test func labelSmoothingIsRefutedPastItsMinimum() throws {
        // Target 0.95: the positive's loss is smallest at sigmoid(x) = 0.95, x = log 19.
        let r = try results("loss t: binary\nreturn -((0.9 * y + 0.05) * log(sigmoid(x)) + (1 - (0.9 * y + 0.05)) * log(1 - sigmoid(x)))\n")
        let c = try #require(counterexample(r["binary.positive-decreasing"]))
        #expect(value(c, "y") == 1 && value(c, "x")! > Foundation.log(19))
        #expect(r["binary.negative-increasing"]?.verdict.isRefuted == true)
    }

    @Test func bclsWithSoftTargetsHasThePublishedMinimum() throws {
        // Published: with w = 0.5, B_cls's positive loss has its minimum at p = 0.77; the
        // properties use w = 1, so a formula with w fixed at 0.5 must be refuted, at an x from
        // which the closed form rises somewhere to the right.
        var text = try example("cse_b_cls.loss")
        text = text.replacingOccurrences(of: "let q = w * y", with: "let q = 0.5 * y")
        let c = try #require(counterexample(try results(text)["binary.positive-decreasing"]))
        func sig(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        func closed(_ x: Double) -> Double {   // y = 1, q = 0.5 (reference §6)
            let p = sig(x), serf = (Foundation.erf(Double.pi.squareRoot() / 4 * sig(0)) + 1) / 2
            let sgd = (Foundation.asin(Foundation.tanh(Double.pi * x / 4)) * 2 / Double.pi + 1) / 2
            return -(0.5 * (1 + serf) * Foundation.log(p) + (sgd - 0.5) * (p - 0.5) * Foundation.log(1 - p))
        }
        let x = value(c, "x")!
        #expect((1...30_000).contains { k in x + Double(k) * 1e-3 <= 15 && closed(x + Double(k) * 1e-3) >= closed(x) })
        let grid = (0...30_000).map { -15 + Double($0) * 1e-3 }
        let best = grid.min { closed($0) < closed($1) }!
        #expect(Swift.abs(sig(best) - 0.77) < 0.01, "closed-form minimum at p = \(sig(best))")
    }

    @Test func dyingGradientCounterexampleIsWhereSigmoidSlopeIsSmall() throws {
        let c = try #require(counterexample(try results("loss t: binary\nreturn y * sigmoid(-x) + (1 - y) * sigmoid(x)\n")["binary.gradient-alive"]))
        let x = value(c, "x")!, p = 1 / (1 + Foundation.exp(-x))
        #expect(p * (1 - p) < 1e-3)
        #expect(value(c, "y") == 1 ? x <= 0 : x >= 0)
    }

    @Test func sinCounterexampleIsAStartFromWhichSinRises() throws {
        // The witness is x with a larger sin(x') at some x' > x in the range (a derivative or
        // a secant between grid points): check it on the closed form.
        let c = try #require(counterexample(try results("loss t: binary\nreturn sin(x)\n")["binary.positive-decreasing"]))
        let x = value(c, "x")!
        #expect((1...30_000).contains { k in x + Double(k) * 1e-3 <= 15 && Foundation.sin(x + Double(k) * 1e-3) >= Foundation.sin(x) })
    }

    @Test func nanCounterexampleIsANegativeLogit() throws {
        let c = try #require(counterexample(try results("loss t: binary\nreturn -y * log(x)\n")["binary.finite"]))
        #expect(value(c, "x")! < 0 && value(c, "y") == 1)
    }

    @Test func labelSmoothedCrossEntropyRefutedWhereTheClosedFormSaysSo() throws {
        let c = try #require(counterexample(try results("loss t: multiclass\nreturn -dot(0.9 * y + 0.02, log(softmax(x)))\n")["multiclass.other-class-increasing"]))
        // d/dx_j = p_j (0.9 + 0.02 C) - 0.02 must be <= 0 there.
        let classes = Int(value(c, "C")!)
        let xt = value(c, "x_true")!
        let others = (1..<classes).map { value(c, "x_others") ?? value(c, "x_\($0)")! }
        let x = [xt] + others
        let m = x.max()!, s = x.map { Foundation.exp($0 - m) }.reduce(0, +)
        let j = others.indices.min { others[$0] < others[$1] }! + 1
        let pj = Foundation.exp(x[j] - m) / s
        #expect(pj * (0.9 + 0.02 * Double(classes)) - 0.02 <= 1e-9)
    }

    @Test func crossEntropyProofMatchesTheClosedFormGradient() throws {
        // Proved for C = 81 with grouped bounds; the closed-form gradient p - y agrees on
        // random logit vectors (true class anywhere).
        let loss = try compile(try example("cross_entropy.loss"))
        #expect(try results(try example("cross_entropy.loss"))["multiclass.true-class-decreasing"]?.verdict.isProved == true)
        var r = TestRandom(41)
        for _ in 0..<50 {
            let x = (0..<81).map { _ in r.uniform(-15, 15) }, t = Int(r.next() * 81)
            let g = loss.evaluate([.vector(x), .vector((0..<81).map { $0 == t ? 1 : 0 }), .scalar(1)], as: Double.self).gradient
            #expect(g[t] < 0 && g.indices.allSatisfy { $0 == t || g[$0] > 0 })
        }
    }

    @Test func shrinkingRewardCounterexampleHasSmallerLossForASmallerBox() throws {
        let c = try #require(counterexample(try results("loss t: box\nreturn (x2 - x1) * (y2 - y1)\n")["box.grow"]))
        // The counterexample's box is centred in the target and smaller than it.
        let b = ["x1", "y1", "x2", "y2", "tx1", "ty1", "tx2", "ty2"].map { value(c, $0)! }
        #expect(b[0] > b[4] && b[2] < b[6] && b[1] > b[5] && b[3] < b[7])
        #expect(c.observation.contains("lowers L"))
    }

    @Test func boxFamiliesMatchThePublishedAreas() {
        // The closed forms of i, u, e along each family equal the areas computed from the
        // family's boxes (as bbox_overlaps computes them).
        for kind in BoxFamily.Kind.allCases {
            for (w, h) in BoxProperties.targetSizes {
                let f = BoxFamily(kind, width: w, height: h)
                var g = Graph()
                let t = GraphSubstitution.variable(0, in: &g)
                let nodes = f.inputs(t, in: &g)
                let ev = ReferenceEvaluator<Double>(graph: g, roots: Array(nodes.prefix(7)), params: [])
                for k in 0...10 {
                    let tv = f.range.lowerBound + (f.range.upperBound - f.range.lowerBound) * Double(k) / 10
                    var inputs = [InputValue<Double>](repeating: .scalar(0), count: 65)
                    inputs[64] = .scalar(tv)
                    let v = ev.evaluate(inputs).map { $0[0] }
                    let want = iue(f.box(tv), f.target)
                    #expect(close(v[0], want.i, 1e-12) && close(v[1], want.u, 1e-12) && close(v[2], want.e, 1e-12), "\(f.label) t = \(tv)")
                    #expect(zip(v[3...6], f.box(tv)).allSatisfy { close($0, $1, 1e-12) })
                }
            }
        }
    }

    @Test func fastPathStopsAtTheFirstRefutation() throws {
        let r = ConvergenceCheck.stage1(try compile("loss t: binary\nreturn sin(x)\n"), budget: .search)
        #expect(r.count == 1 && r[0].verdict.isRefuted)
        let ok = ConvergenceCheck.stage1(try compile(try example("bce.loss")), budget: .search)
        #expect(ok.count == 4 && ConvergenceCheck.passes(ok))
    }

    @Test func samplingOnlyBudgetNeverProves() throws {
        let r = ConvergenceCheck.stage1(try compile(try example("bce.loss")), budget: Stage1Budget(proofBoxes: 0))
        #expect(r.allSatisfy { $0.verdict.word == "undecided" })
    }
}

import Foundation
import Testing
@testable import LossDSL
import LossTestSupport

/// The published losses against their closed forms (CSE-Autoloss: Liu et al., ICLR 2021,
/// arXiv 2102.04700, and the best losses listed in PerdonLiu/CSE-Autoloss, README.md) and
/// published numbers; gradients against finite differences.
struct PublishedLossTests {
    func softmax(_ x: [Double]) -> [Double] {
        let m = x.max()!
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    @Test func crossEntropyAndAclsWith81Classes() throws {
        let ce = try compile(try example("cross_entropy.loss"))
        let acls = try compile(try example("cse_a_cls.loss"))
        var r = TestRandom(7)
        for _ in 0..<20 {
            let x = (0..<81).map { _ in r.uniform(-8, 8) }
            let k = Int(r.next() * 81)
            let w = r.next()
            var y = [Double](repeating: 0, count: 81); y[k] = 1
            let p = softmax(x)
            let inputs: [InputValue<Double>] = [.vector(x), .vector(y), .scalar(w)]
            let a = ce.evaluate(inputs, as: Double.self)
            #expect(close(a.loss, -Foundation.log(p[k]), 1e-12))
            for j in 0..<81 { #expect(close(a.gradient[j], p[j] - y[j], 1e-12)) }
            // A_cls = -(1 + sin w) log p_gt; gradient (1 + sin w)(p - y).
            let b = acls.evaluate(inputs, as: Double.self)
            let s = 1 + Foundation.sin(w)
            #expect(close(b.loss, -s * Foundation.log(p[k]), 1e-12))
            // Finite differences on a few coordinates, independently of the closed form.
            for j in [0, k, 40, 80] {
                let fd = centralDifference({ v in
                    var xx = x; xx[j] = v
                    return acls.evaluate([.vector(xx), .vector(y), .scalar(w)], as: Double.self).loss
                }, at: x[j])
                #expect(close(b.gradient[j], fd, 1e-6), "d/dx\(j): \(b.gradient[j]) vs \(fd)")
                #expect(close(b.gradient[j], s * (p[j] - y[j]), 1e-12))
            }
        }
    }

    @Test func bclsClosedFormAndPublishedConstant() throws {
        let loss = try compile(try example("cse_b_cls.loss"))
        func sig(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        func serf(_ x: Double) -> Double { (Foundation.erf(Double.pi.squareRoot() / 4 * x) + 1) / 2 }
        func sgd(_ x: Double) -> Double { (Foundation.asin(Foundation.tanh(Double.pi * x / 4)) * 2 / Double.pi + 1) / 2 }
        func closed(_ x: Double, _ y: Double, _ w: Double) -> Double {
            let q = w * y, p = sig(x)
            return -(q * (1 + serf(sig(1 - y))) * Foundation.log(p) + (sgd(x) - q) * (p - q) * Foundation.log(1 - p))
        }
        // Published: for positives the first term is -1.6230 w log sigma(x).
        #expect(Swift.abs(1 + serf(sig(0)) - 1.6230) < 5e-5)
        var r = TestRandom(3)
        for _ in 0..<300 {
            let x = r.uniform(-10, 10), y = r.next() < 0.5 ? 0.0 : 1.0, w = r.next()
            let (v, d) = binary(loss, x, y: y, w: w)
            #expect(close(v, closed(x, y, w), 1e-12))
            #expect(close(d, centralDifference({ closed($0, y, w) }, at: x), 1e-6))
        }
    }

    /// Formula-level evaluation in (i, u, e), before the box front end.
    func boxFormula(_ name: String) throws -> (Double, Double, Double) -> Double {
        let f = try Formula.parse(try example(name))
        let opt = CompiledLoss.compile(f).optimizedFormula
        let ev = ReferenceEvaluator<Double>(graph: opt.graph, roots: opt.roots, params: f.paramValues)
        return { i, u, e in ev.evaluate([.scalar(i), .scalar(u), .scalar(e)] + [InputValue<Double>](repeating: .scalar(0), count: 8))[0][0] }
    }

    @Test func regressionLossesClosedForms() throws {
        let areg = try boxFormula("cse_a_reg.loss"), breg = try boxFormula("cse_b_reg.loss"), giou = try boxFormula("giou.loss")
        var r = TestRandom(11)
        for _ in 0..<500 {
            let e = r.uniform(1, 1e6), u = r.uniform(0.5, 1) * e, i = r.next() * u
            #expect(close(areg(i, u, e), 2 - i / u - (i + 2) / e, 1e-12))
            #expect(close(breg(i, u, e), -3 * (e * u + 4 * e + i + u + 6) / ((u + 5) * (3 * e - i - u)), 1e-12))
            #expect(close(giou(i, u, e), 2 - i / u - u / e, 1e-12))
        }
    }

    @Test func regressionLossesPublishedNumbers() throws {
        let areg = try compile(try example("cse_a_reg.loss")), breg = try compile(try example("cse_b_reg.loss"))
        func at(_ l: CompiledLoss, _ p: [Double], _ t: [Double]) -> Double { l.evaluate(boxInputs(p, t), as: Double.self).loss }
        let b4 = [0.0, 0, 4, 4], b64 = [0.0, 0, 64, 64]
        // A_reg at a perfect box is -2/e: -0.125 for a 4x4 box.
        #expect(Swift.abs(at(areg, b4, b4) - -0.125) < 1e-6)
        // B_reg: -3.196 for a perfect 4x4 box, -3.0007 for 64x64, -1.5 for touching 100x100 boxes,
        // -1.0066 at 10 000 px apart.
        #expect(Swift.abs(at(breg, b4, b4) - -3.196) < 5e-4)
        #expect(Swift.abs(at(breg, b64, b64) - -3.0007) < 5e-5)
        #expect(Swift.abs(at(breg, [0, 0, 100, 100], [100, 0, 200, 100]) - -1.5) < 5e-4)
        #expect(Swift.abs(at(breg, [0, 0, 100, 100], [10_000, 0, 10_100, 100]) - -1.0066) < 5e-4)
    }

    @Test(arguments: ["iou.loss", "giou.loss", "cse_a_reg.loss", "cse_b_reg.loss"])
    func boxGradientsAgainstFiniteDifferences(_ name: String) throws {
        let loss = try compile(try example(name))
        var r = TestRandom(5)
        var checked = 0
        for _ in 0..<400 {
            let s = Foundation.exp(r.uniform(0, Foundation.log(1000)))
            let t = [r.uniform(0, 100), r.uniform(0, 100)]
            let tb = [t[0], t[1], t[0] + s * r.uniform(0.5, 2), t[1] + s * r.uniform(0.5, 2)]
            let pb = [tb[0] + s * r.uniform(-0.8, 0.8), tb[1] + s * r.uniform(-0.8, 0.8), 0, 0]
            let p = [pb[0], pb[1], pb[0] + s * r.uniform(0.4, 2), pb[1] + s * r.uniform(0.4, 2)]
            // Skip pairs within a step of a kink (box edges crossing).
            let edges = [p[0] - tb[0], p[2] - tb[2], p[1] - tb[1], p[3] - tb[3], p[2] - tb[0], p[0] - tb[2], p[3] - tb[1], p[1] - tb[3]]
            if edges.contains(where: { Swift.abs($0) < 1e-3 * s }) { continue }
            let g = loss.evaluate(boxInputs(p, tb), as: Double.self).gradient
            for k in 0..<4 {
                let fd = centralDifference({ v in var q = p; q[k] = v; return loss.evaluate(boxInputs(q, tb), as: Double.self).loss },
                                           at: p[k], step: 1e-7)
                #expect(Swift.abs(g[k] - fd) <= 1e-5 * Swift.abs(fd) + 2e-9, "\(name) d/dbox[\(k)] \(g[k]) vs \(fd) (scale \(s))")
            }
            checked += 1
        }
        #expect(checked > 300)
    }

    @Test func boxFrontEndMatchesThePublishedAreas() throws {
        // i, u, e through the front end, read back with a loss that returns each of them.
        var r = TestRandom(9)
        for name in ["i", "u", "e"] {
            let l = try compile("loss t: box\nreturn \(name)\n")
            for _ in 0..<100 {
                let p = [r.uniform(0, 50), r.uniform(0, 50), r.uniform(60, 120), r.uniform(60, 120)]
                let t = [r.uniform(0, 90), r.uniform(0, 90), r.uniform(95, 200), r.uniform(95, 200)]
                let want = iue(p, t)
                let v = l.evaluate(boxInputs(p, t), as: Double.self).loss
                #expect(close(v, name == "i" ? want.i : (name == "u" ? want.u : want.e), 1e-12))
            }
        }
    }

    @Test(arguments: ["giou.loss", "cse_a_reg.loss", "cse_b_reg.loss"])
    func gradientStepRaisesIoU(_ name: String) throws {
        // Published check: a small gradient step on the predicted box raised the IoU in 100% of
        // 3000 random pairs (scales 8-512 px) for GIoU, A_reg and B_reg.
        let loss = try compile(try example(name))
        var r = TestRandom(13)
        var raised = 0, total = 0
        for _ in 0..<3000 {
            let s = r.uniform(8, 512)
            let t = [r.uniform(0, 100), r.uniform(0, 100)]
            let tb = [t[0], t[1], t[0] + s, t[1] + s * r.uniform(0.5, 2)]
            let p0 = [tb[0] + s * r.uniform(-0.5, 0.5), tb[1] + s * r.uniform(-0.5, 0.5)]
            let p = [p0[0], p0[1], p0[0] + s * r.uniform(0.5, 1.5), p0[1] + s * r.uniform(0.5, 1.5)]
            let g = loss.evaluate(boxInputs(p, tb), as: Double.self).gradient
            let norm = (g.map { $0 * $0 }.reduce(0, +)).squareRoot()
            guard norm > 0 else { continue }
            let step = 1e-3 * s
            let q = (0..<4).map { p[$0] - step * g[$0] / norm }
            let before = iue(p, tb), after = iue(q, tb)
            total += 1
            if after.i / after.u > before.i / before.u { raised += 1 }
        }
        #expect(total > 2900 && raised == total, "\(name): IoU rose in \(raised) of \(total)")
    }
}

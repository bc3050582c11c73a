import Foundation
import Testing
@testable import LossDSL
@testable import LossRanking
import LossTestSupport

/// The ranking examples, evaluated by the reference evaluator, against independent brute-force
/// transcriptions of the published code (`BruteForce`) and against finite differences.
struct RankingReferenceTests {
    static func load(_ name: String, params: [String: Double] = [:]) throws -> RankingFormula {
        try RankingFormula.parse(try example(name), path: name, params: params)
    }

    /// Batches where AP-Loss's interpolation fires (a low positive with a better precision than
    /// a higher one) and where it does not (positives ordered so precision falls with rank).
    static let interpolationFires = RankingBatch<Double>(s: [2.0, -1.5, 0.4, 1.2, -0.2, 0.9, -3, 0.1],
                                                         y: [1, 1, 0, 0, 1, 0, 0, -1])
    static let interpolationQuiet = RankingBatch<Double>(s: [3.0, 2.5, 0.0, -2.0, -4.0], y: [1, 1, 0, 1, 0])

    @Test(arguments: [0.5, 1.0, 2.0])
    func apLossMatchesTheOfficialAlgorithm(delta: Double) throws {
        let f = try Self.load("ap_loss.loss", params: ["delta": delta])
        var batches = [Self.interpolationFires, Self.interpolationQuiet]
        for seed in 1...6 { batches.append(randomBatch(40, seed: UInt64(seed) &* 77, grid: seed % 2 == 0 ? 0.25 : nil)) }
        for b in batches {
            let want = BruteForce.apLoss(s: b.s, t: b.y, delta: delta)
            let got = RankingReference<Double>(f).evaluate(b)
            #expect(close(got.loss, want.loss, 1e-12), "delta \(delta): loss \(got.loss) vs \(want.loss)")
            for k in b.s.indices { #expect(close(got.ds[k], want.g[k], 1e-12), "delta \(delta): g[\(k)] \(got.ds[k]) vs \(want.g[k])") }
            // The error-driven update balances: the gradients sum to zero.
            #expect(abs(got.ds.reduce(0, +)) < 1e-12)
            #expect(got.du == nil)
        }
    }

    @Test func apLossInterpolationFiresAndNot() throws {
        let f = try Self.load("ap_loss.loss")
        // Where it fires, the loss differs from 1 - mean(prec) without interpolation.
        func plain(_ b: RankingBatch<Double>) -> Double {
            let fd: (Double) -> Double = { min(max($0 / 2 + 0.5, 0), 1) }
            let P = b.s.indices.filter { b.y[$0] == 1 }, N = b.s.indices.filter { b.y[$0] == 0 }
            return 1 - P.reduce(0.0) { acc, i in
                let a = P.reduce(0.0) { $0 + fd(b.s[$1] - b.s[i]) } + 0.5
                return acc + a / (a + N.reduce(0.0) { $0 + fd(b.s[$1] - b.s[i]) })
            } / Double(P.count)
        }
        let fires = RankingReference<Double>(f).evaluate(Self.interpolationFires).loss
        let quiet = RankingReference<Double>(f).evaluate(Self.interpolationQuiet).loss
        #expect(fires < plain(Self.interpolationFires) - 1e-3)
        #expect(close(quiet, plain(Self.interpolationQuiet), 1e-14))
    }

    @Test func apLossWithoutPositivesIsZero() throws {
        let f = try Self.load("ap_loss.loss")
        for b in [RankingBatch<Double>(s: [1, 2, 3], y: [0, 0, -1]), RankingBatch<Double>(s: [1, 2], y: [-1, -1]),
                  RankingBatch<Double>(s: [], y: [])] {
            let r = RankingReference<Double>(f).evaluate(b)
            #expect(r.loss == 0 && r.ds.allSatisfy { $0 == 0 })
        }
    }

    @Test func papMatchesTheOfficialFormula() throws {
        let five = try Self.load("pap_retinanet.loss"), four = try Self.load("pap_retinanet_4fn.loss")
        for seed in 1...8 {
            // Grid scores make ties (d = 0: the self pair and equal logits) and exact knots.
            let b = randomBatch(30, seed: UInt64(seed) &* 31, grid: seed % 2 == 0 ? 0.125 : nil)
            for (f, cp) in [(five, BruteForce.retinaNet), (four, Array(BruteForce.retinaNet.prefix(4)))] {
                let got = RankingReference<Double>(f).evaluate(b).loss
                let want = BruteForce.pap(s: b.s, t: b.y, u: b.u, cp: cp, topk: 100000)
                #expect(close(got, want, 1e-12), "\(f.name) seed \(seed): \(got) vs \(want)")
            }
        }
    }

    @Test func papTopKCapsTheRankedEntries() throws {
        // Ties at the cut: several entries share the K-th score.
        let b = RankingBatch<Double>(s: [1, 0.5, 0.5, 0.5, -1, 2, 0.5, -0.25], y: [1, 0, 1, 0, 0, 0, 1, 1],
                                     u: [0.7, 0, 0.4, 0, 0, 0, 0.9, 0.2])
        for k in [1, 2, 3, 4, 6, 8] {
            let f = try Self.load("pap_retinanet.loss", params: ["num_topk": Double(k)])
            let got = RankingReference<Double>(f).evaluate(b).loss
            let want = BruteForce.pap(s: b.s, t: b.y, u: b.u, cp: BruteForce.retinaNet, topk: k)
            #expect(close(got, want, 1e-12), "top \(k): \(got) vs \(want)")
        }
    }

    /// PAP's gradient is autodiff with a stop-gradient denominator: finite differences of the
    /// official formula with the denominators frozen at their values. Smooth-AP's is plain autodiff.
    @Test func papGradientMatchesFiniteDifferences() throws {
        for (name, cp) in [("pap_retinanet.loss", BruteForce.retinaNet), ("pap_retinanet_4fn.loss", Array(BruteForce.retinaNet.prefix(4))),
                           ("smooth_ap.loss", [])] {
            // reg_weight = 1: the plain derivative (GradScale changes only the box branch's scale).
            let f = try Self.load(name, params: cp.isEmpty ? ["tau": 0.5] : ["reg_weight": 1])
            for seed in 1...4 {
                let b = randomBatch(25, seed: UInt64(seed) &* 1013)
                let r = RankingReference<Double>(f).evaluate(b)
                let frozen = BruteForce.papDetail(s: b.s, t: b.y, u: b.u, cp: cp.isEmpty ? BruteForce.retinaNet : cp, topk: 100000).den
                func loss(_ s: [Double], _ u: [Double]) -> Double {
                    cp.isEmpty ? BruteForce.smoothAP(s: s, t: b.y, tau: 0.5)
                        : BruteForce.pap(s: s, t: b.y, u: u, cp: cp, topk: 100000, frozen: frozen)
                }
                for k in b.s.indices where b.y[k] != -1 {
                    let fd = centralDifference({ v in var s = b.s; s[k] = v; return loss(s, b.u) }, at: b.s[k], step: 1e-7)
                    #expect(close(r.ds[k], fd, 1e-6), "\(name) d_s[\(k)]: \(r.ds[k]) vs \(fd)")
                    if let du = r.du, b.y[k] == 1 {
                        let fu = centralDifference({ v in var u = b.u; u[k] = v; return loss(b.s, u) }, at: b.u[k], step: 1e-7)
                        #expect(close(du[k], fu, 1e-6), "\(name) d_u[\(k)]: \(du[k]) vs \(fu)")
                    }
                }
                #expect((r.du != nil) == !cp.isEmpty)
            }
        }
    }

    @Test func papRegWeightScalesOnlyTheBoxGradient() throws {
        let b = randomBatch(30, seed: 5)
        let one = RankingReference<Double>(try Self.load("pap_retinanet.loss", params: ["reg_weight": 1])).evaluate(b)
        let four = RankingReference<Double>(try Self.load("pap_retinanet.loss")).evaluate(b)
        #expect(one.loss == four.loss && one.ds == four.ds)
        for k in b.s.indices { #expect(close(four.du![k], 4.1231 * one.du![k], 1e-13)) }
    }

    @Test func smoothAPMatchesTheOfficialFormula() throws {
        for tau in [0.01, 0.1, 1.0] {
            let f = try Self.load("smooth_ap.loss", params: ["tau": tau])
            for seed in 1...4 {
                let b = randomBatch(30, seed: UInt64(seed) &* 7, grid: seed % 2 == 0 ? 0.125 : nil)
                let got = RankingReference<Double>(f).evaluate(b).loss
                #expect(close(got, BruteForce.smoothAP(s: b.s, t: b.y, tau: tau), 1e-12))
            }
        }
    }

    @Test func floatAgreesWithDouble() throws {
        for name in ["ap_loss.loss", "pap_retinanet.loss", "smooth_ap.loss"] {
            let f = try Self.load(name)
            let b = randomBatch(30, seed: 99)
            let d = RankingReference<Double>(f).evaluate(b)
            let s = RankingReference<Float>(f).evaluate(RankingBatch(s: b.s.map(Float.init), y: b.y.map(Float.init), u: b.u.map(Float.init)))
            #expect(close(Double(s.loss), d.loss, 1e-5))
            for k in b.s.indices { #expect(close(Double(s.ds[k]), d.ds[k], 1e-4)) }
        }
    }
}

import Foundation
import Testing
@testable import LossDSL
@testable import LossRanking
import LossTestSupport

/// The fast kernel (sort + prefix sums) and the direct kernel equal the reference evaluator on
/// random batches, with ties (scores on a grid: equal scores, d exactly at breakpoints), and on a
/// pair that rounds onto a breakpoint.
struct RankingKernelTests {
    /// Formulas that exercise every rule of the pair analysis (`Tests/RankingFormulas/`, shared
    /// with CRankingTests): (file name, text).
    static let formulas: [(String, String)] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RankingFormulas")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".loss") }.sorted()
        return names.map { ($0, (try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) ?? "") }
    }()

    static let examples = RankingLanguageTests.rankingExamples

    func check<T: LossReal>(_ f: RankingFormula, _ b: RankingBatch<T>, tol: Double, _ label: String) {
        let want = RankingReference<T>(f).evaluate(b)
        for strategy in RankingKernel<T>.Strategy.allCases {
            let got = RankingKernel<T>(f, strategy: strategy).evaluate(b)
            let scale = Swift.max(1, want.ds.map { abs(Double($0)) }.max() ?? 0)
            #expect(close(Double(got.loss), Double(want.loss), tol), "\(label) \(strategy): loss \(got.loss) vs \(want.loss)")
            for k in b.s.indices {
                #expect(abs(Double(got.ds[k] - want.ds[k])) <= tol * scale, "\(label) \(strategy): ds[\(k)] \(got.ds[k]) vs \(want.ds[k])")
            }
            #expect((got.du == nil) == (want.du == nil))
            if let gu = got.du, let wu = want.du {
                for k in b.s.indices { #expect(abs(Double(gu[k] - wu[k])) <= tol * scale, "\(label) \(strategy): du[\(k)]") }
            }
        }
    }

    /// A pair a few ulps past a breakpoint in d whose own rounded arithmetic lands exactly on the
    /// switch: PAP's x = fl(fl(d/2) + 0.5) is exactly 1 (its clamp's bound, which passes the
    /// gradient) at d = fl(1.3000000000000003 - 0.3) = 1 + 2^-52. Without the window around
    /// breakpoints the kernel put the pair in d > 1 and gave d_s = 0 against the reference's
    /// ±0.183 (shrunk from CRankingTests' hostile batch).
    @Test func aPairThatRoundsOntoABreakpointGetsTheReferenceGradient() throws {
        let f = try RankingFormula.parse(try example("pap_retinanet.loss"), params: [:])
        check(f, RankingBatch<Double>(s: [0.3, 1.3000000000000003], y: [1, 0], u: [0.5, 0.5]), tol: 1e-12, "pap d = 1 + ulp")
        #expect(abs(RankingReference<Double>(f).evaluate(RankingBatch(s: [0.3, 1.3000000000000003], y: [1, 0], u: [0.5, 0.5])).ds[0]) > 0.1)
    }

    @Test(arguments: examples)
    func examplesEqualTheReference(_ name: String) throws {
        for params: [String: Double] in [[:], name.hasPrefix("ap") ? ["delta": 0.5] : (name.hasPrefix("pap") ? ["num_topk": 9] : ["tau": 0.25])] {
            let f = try RankingFormula.parse(try example(name), params: params)
            for seed in 1...6 {
                let grid: Double? = seed % 3 == 0 ? nil : (seed % 3 == 1 ? 0.25 : 0.125)
                let b = randomBatch(60, seed: UInt64(seed) &* 101, grid: grid)
                check(f, b, tol: 1e-10, "\(name) \(params) seed \(seed)")
            }
        }
    }

    /// The shared corpus was found (an empty one would leave the tests below without cases).
    @Test func sharedFormulasArePresent() {
        #expect(Self.formulas.count >= 5 && Self.formulas.allSatisfy { !$0.1.isEmpty })
    }

    @Test(arguments: formulas.map(\.0))
    func formulasEqualTheReference(_ label: String) throws {
        let f = try RankingFormula.parse(Self.formulas.first { $0.0 == label }!.1)
        for seed in 1...6 {
            let b = randomBatch(50, seed: UInt64(seed) &* 7919, grid: seed % 2 == 0 ? 0.125 : nil)
            check(f, b, tol: 1e-9, "\(label) seed \(seed)")
        }
    }

    @Test func floatKernelsEqualTheFloatReference() throws {
        for name in Self.examples {
            let f = try RankingFormula.parse(try example(name))
            let d = randomBatch(80, seed: 4242, grid: 0.125)
            check(f, RankingBatch(s: d.s.map(Float.init), y: d.y.map(Float.init), u: d.u.map(Float.init)), tol: 2e-5, name)
        }
    }

    @Test func edgeBatches() throws {
        let edge: [RankingBatch<Double>] = [
            RankingBatch(s: [], y: []), RankingBatch(s: [1, 2], y: [-1, -1]), RankingBatch(s: [0.5, 0.5, 0.5], y: [0, 0, 0]),
            RankingBatch(s: [0.5], y: [1], u: [0.7]), RankingBatch(s: [0, 0, 0, 0], y: [1, 1, 0, 0], u: [0.2, 0.9, 0, 0]),
        ]
        for name in Self.examples {
            let f = try RankingFormula.parse(try example(name))
            for (k, b) in edge.enumerated() {
                check(f, b, tol: 1e-12, "\(name) edge \(k)")
                let r = RankingKernel<Double>(f).evaluate(b)
                #expect(r.loss.isFinite && r.ds.allSatisfy(\.isFinite), "\(name) edge \(k): \(r)")
            }
        }
    }

    /// The radix sort (used from 256 entries) is a stable sort by score, in Float and Double,
    /// with ties, negative values, -0 and +0.
    @Test func radixSortIsAStableSortByScore() {
        var r = TestRandom(17)
        for n in [300, 5000] {
            let d = (0..<n).map { _ in r.next() < 0.3 ? Double(Int(r.uniform(-4, 4))) / 2 : r.uniform(-1e3, 1e3) } + [0, -0.0, 0, -0.0]
            let idx = Array(d.indices.reversed())
            let want = idx.enumerated().sorted { d[$0.element] != d[$1.element] ? d[$0.element] < d[$1.element] : $0.offset < $1.offset }.map(\.element)
            let got = RankingSort.order(idx, scores: d)
            #expect(got == want)
            let f = d.map(Float.init)
            let wantF = idx.enumerated().sorted { f[$0.element] != f[$1.element] ? f[$0.element] < f[$1.element] : $0.offset < $1.offset }.map(\.element)
            #expect(RankingSort.order(idx, scores: f) == wantF)
        }
    }

    @Test func largeBatchesUseTheRadixPath() throws {
        for name in Self.examples {
            let f = try RankingFormula.parse(try example(name), params: name.hasPrefix("pap") ? ["num_topk": 300] : [:])
            let b = randomBatch(700, seed: 31337, positives: 0.05, grid: 0.125)
            check(f, b, tol: 1e-10, "\(name) n=700")
        }
    }

    /// The published forms are fully polynomial in d (no pair-by-pair work); Smooth-AP is not.
    @Test func planReportsTheFastForm() throws {
        for name in ["ap_loss.loss", "pap_retinanet.loss", "pap_retinanet_4fn.loss"] {
            let plan = RankingKernel<Double>(try RankingFormula.parse(try example(name))).plan
            #expect(!plan.isEmpty && plan.allSatisfy { $0.contains("sort + prefix sums") && !$0.contains("pair by pair") }, "\(name): \(plan)")
        }
        let smooth = RankingKernel<Double>(try RankingFormula.parse(try example("smooth_ap.loss"))).plan
        #expect(smooth.allSatisfy { $0.contains("pair by pair on 1 of 3 intervals") }, "\(smooth)")
    }
}

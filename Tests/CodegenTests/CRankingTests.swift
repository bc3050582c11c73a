import Foundation
import Testing
@testable import Codegen
import LossDSL
import LossRanking

/// Emitted C of ranking losses (`CRankingEmitter`), built by the system compiler and run, equals
/// the O(P·N) reference evaluator `RankingReference` (value, d_s, d_u) in float and double, on
/// random batches with tied scores (d exactly at breakpoints), ignored entries, no positive,
/// every entry ignored, an empty batch and one positive; it compiles warning-free under gcc and
/// clang in strict C99, and runs clean under ASan + UBSan.
@Suite(.serialized) struct CRankingTests {
    static let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples")

    /// The four ranking examples, and variants that move the breakpoints and the top-k cut.
    static let cases: [(label: String, file: String, params: [String: Double])] = [
        ("ap_loss", "ap_loss", [:]), ("ap_loss delta 0.5", "ap_loss", ["delta": 0.5]), ("ap_loss delta 2", "ap_loss", ["delta": 2]),
        ("pap_retinanet", "pap_retinanet", [:]), ("pap_retinanet top 20", "pap_retinanet", ["num_topk": 20]),
        ("pap_retinanet_4fn", "pap_retinanet_4fn", [:]), ("pap_retinanet_4fn top 9", "pap_retinanet_4fn", ["num_topk": 9]),
        ("smooth_ap", "smooth_ap", [:]), ("smooth_ap tau 0.5", "smooth_ap", ["tau": 0.5]),
    ]

    /// Formulas that exercise every rule of the pair analysis (`Tests/RankingFormulas/`, shared
    /// with RankingKernelTests): (file name, text).
    static let formulas: [(String, String)] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RankingFormulas")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".loss") }.sorted()
        return names.map { ($0, (try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) ?? "") }
    }()

    static func example(_ file: String, _ params: [String: Double]) throws -> RankingFormula {
        let path = examplesDirectory.appendingPathComponent(file + ".loss").path
        return try RankingFormula.parse(try String(contentsOfFile: path, encoding: .utf8), path: path, params: params)
    }

    /// A batch: a fraction of the scores on a grid (ties, d exactly at breakpoints), the rest uniform.
    static func batch<T: LossReal>(_ n: Int, seed: UInt64, positives: Double, ignored: Double, grid: Double, as: T.Type) -> RankingBatch<T> {
        var rng = SeededGenerator(seed: seed)
        var s: [T] = [], y: [T] = [], u: [T] = []
        for _ in 0..<n {
            var v = Double.random(in: -4..<4, using: &rng)
            if grid > 0, Double.random(in: 0..<1, using: &rng) < 0.7 { v = (v / grid).rounded() * grid }
            let c = Double.random(in: 0..<1, using: &rng)
            let label: T = c < positives ? 1 : (c < positives + ignored ? -1 : 0)
            s.append(T(v)); y.append(label); u.append(T(label == 1 ? Double.random(in: 0...1, using: &rng) : (c > 0.9 ? 0.25 : 0)))
        }
        return RankingBatch(s: s, y: y, u: u)
    }

    static func batches<T: LossReal>(as: T.Type) -> [(String, RankingBatch<T>)] {
        var one = batch(25, seed: 7, positives: 0, ignored: 0.2, grid: 0.5, as: T.self)
        one.y[3] = 1
        return [("ties", batch(90, seed: 1, positives: 0.2, ignored: 0.1, grid: 0.5, as: T.self)),
                ("dense ties", batch(40, seed: 2, positives: 0.3, ignored: 0.2, grid: 1, as: T.self)),
                ("random", batch(300, seed: 3, positives: 0.05, ignored: 0.1, grid: 0, as: T.self)),
                ("no positive", batch(30, seed: 4, positives: 0, ignored: 0.2, grid: 0.5, as: T.self)),
                ("all ignored", batch(20, seed: 5, positives: 0, ignored: 1, grid: 0, as: T.self)),
                ("empty", RankingBatch(s: [], y: [], u: [])),
                ("one positive", one)]
    }

    /// Builds the emitted C of a formula (strict flags) and loads it.
    static func load(_ f: RankingFormula, tag: String, compiler: SystemCompiler) throws -> NativeRankingKernel {
        let plan = RankingPlan(f)
        let src = try CRankingEmitter.emit(plan, name: "rk")
        let lib = try CHarness.build(src.source, tag: tag, compiler: compiler)
        return try NativeRankingKernel(library: lib, prefix: src.prefix, reachesU: plan.derivatives.reachesU)
    }

    /// The kernel against the oracle on every batch; returns the largest error relative to the scale.
    @discardableResult
    func check<T: LossReal>(_ k: NativeRankingKernel, _ f: RankingFormula, tol: Double, _ label: String, as: T.Type,
                            batches: [(String, RankingBatch<T>)]? = nil) -> Double {
        var worst = 0.0
        let oracle = RankingReference<T>(f)
        for (name, b) in batches ?? Self.batches(as: T.self) {
            let want = oracle.evaluate(b), got = k.evaluate(b)
            let scale = max(1, (want.ds + (want.du ?? [])).map { abs(Double($0)) }.max() ?? 0)
            let lossErr = abs(Double(got.loss) - Double(want.loss)) / max(1, abs(Double(want.loss)))
            #expect(lossErr <= tol, "\(label) \(T.self) \(name): loss \(got.loss) vs \(want.loss)")
            #expect(got.loss.isFinite, "\(label) \(T.self) \(name): loss not finite")
            worst = max(worst, lossErr)
            for i in b.s.indices {
                let e = abs(Double(got.ds[i]) - Double(want.ds[i])) / scale
                worst = max(worst, e)
                #expect(e <= tol, "\(label) \(T.self) \(name): d_s[\(i)] \(got.ds[i]) vs \(want.ds[i])")
            }
            #expect((got.du == nil) == (want.du == nil), "\(label): d_u presence")
            if let gu = got.du, let wu = want.du {
                for i in b.s.indices {
                    let e = abs(Double(gu[i]) - Double(wu[i])) / scale
                    worst = max(worst, e)
                    #expect(e <= tol, "\(label) \(T.self) \(name): d_u[\(i)] \(gu[i]) vs \(wu[i])")
                }
            }
            // Value only (NULL gradients) gives the same loss.
            #expect(k.evaluate(b, gradient: false).loss == got.loss, "\(label) \(T.self) \(name): value-only loss differs")
        }
        return worst
    }

    @Test(arguments: cases.indices)
    func examplesMatchTheReference(_ index: Int) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler") }
        let c = Self.cases[index]
        let f = try Self.example(c.file, c.params)
        let k = try Self.load(f, tag: "rank-\(index)", compiler: cc)
        let e64 = check(k, f, tol: 1e-9, c.label, as: Double.self)
        let e32 = check(k, f, tol: 1e-5, c.label, as: Float.self)
        print("\(c.label): max relative error f64 \(e64), f32 \(e32)")
    }

    /// Scores that stress how the kernel buckets members between thresholds (no sort): a
    /// cluster a few ulps wide (many thresholds in one guide cell), outliers that stretch the
    /// guide's range so that the cluster falls in one cell, both zeros, subnormals, and scores
    /// exactly a cut away from others (pairs at a breakpoint).
    /// The scores a cut away found that a pair can switch branch where its own rounding says, a
    /// few ulps from the exact breakpoint (PAP's clamp at d = 1 + 2^-52): the kernels evaluate
    /// the pairs in a window around each breakpoint on their own (`SortedPairSums.window`).
    static func hostile<T: LossReal>(seed: UInt64, as: T.Type) -> RankingBatch<T> {
        var rng = SeededGenerator(seed: seed)
        var s: [T] = [], y: [T] = []
        let base = T(0.3)
        for i in 0..<400 {
            let c = Double.random(in: 0..<1, using: &rng)
            var v: T
            switch i % 10 {
            case 0, 1, 2: v = base; for _ in 0..<Int.random(in: 0..<6, using: &rng) { v = v.nextUp }
            case 3: v = i % 20 == 3 ? T(0) : -T(0)
            case 4: v = T.leastNonzeroMagnitude * T(Int.random(in: -3...3, using: &rng))
            case 5: v = T(i % 20 == 5 ? 1e4 : -1e4) + T(Double.random(in: 0..<1, using: &rng))
            case 6: v = s.isEmpty ? base : s[Int.random(in: 0..<s.count, using: &rng)] + T([-1, 1, 0.5, -0.5, 2][i % 5])
            default: v = T(Double.random(in: -3..<3, using: &rng))
            }
            s.append(v)
            y.append(c < 0.15 ? 1 : (c < 0.2 ? -1 : 0))
        }
        return RankingBatch(s: s, y: y, u: s.map { _ in T(0.5) })
    }

    @Test(arguments: [0, 3, 5, 7])
    func hostileScoresMatchTheReference(_ index: Int) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler") }
        let c = Self.cases[index]
        let f = try Self.example(c.file, c.params)
        let k = try Self.load(f, tag: "rank-h\(index)", compiler: cc)
        check(k, f, tol: 1e-9, c.label, as: Double.self, batches: [("hostile", Self.hostile(seed: 11, as: Double.self))])
        check(k, f, tol: 1e-5, c.label, as: Float.self, batches: [("hostile", Self.hostile(seed: 12, as: Float.self))])
    }

    @Test(arguments: formulas.indices)
    func analysisRulesMatchTheReference(_ index: Int) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler") }
        let (label, text) = Self.formulas[index]
        let f = try RankingFormula.parse(text, path: "\(label).loss")
        let k = try Self.load(f, tag: "rank-f\(index)", compiler: cc)
        check(k, f, tol: 1e-9, label, as: Double.self)
        check(k, f, tol: 1e-5, label, as: Float.self)
    }
}


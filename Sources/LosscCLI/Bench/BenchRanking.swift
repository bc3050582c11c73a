import Codegen
import Foundation
import LossDSL
import LossRanking

/// `lossc bench ranking`: value + gradient of AP-Loss and PAP over a synthetic batch (default
/// 1,000,000 entries, 1% positives, 10% ignored), the brute force (every pair, O(P·N)) against
/// the sort + prefix-sum kernel of each backend: Swift (`RankingKernel`, the closures backend)
/// and C (`CRankingEmitter`'s code, built with `NativeLoader.nativeFlags`: -O3 -march=native,
/// no -ffast-math, and loaded with dlopen), in float32 and float64. When the brute force would take more
/// than about `--budget` seconds it runs on a subsample of the positives (all other entries
/// kept) and is extrapolated linearly in the number of positives, and says so. The two agree:
/// the largest gradient difference relative to the largest gradient is printed too.
enum RankingBench {
    static func run(_ a: Arguments) throws -> ExitStatus {
        let n = try positive(a, "entries", 1_000_000)
        let budget = Double(try positive(a, "budget", 20))
        let seed = UInt64(a.value("seed") ?? "1") ?? 1
        let repeats = try positive(a, "repeat", 5)
        let files = (a.value("losses") ?? "examples/ap_loss.loss,examples/pap_retinanet.loss").split(separator: ",").map(String.init)
        let precisions = (a.value("precision") ?? "f32,f64").split(separator: ",").map(String.init)
        guard precisions.allSatisfy({ $0 == "f32" || $0 == "f64" }) else { throw UsageError("--precision is f32, f64 or f32,f64") }
        Terminal.write("ranking losses, value + gradient: \(n) entries, 1% positives, 10% ignored (seed \(seed)); best of \(repeats), ms\n")
        Terminal.write("brute force: every pair (Swift, O(P·N)); Swift: RankingKernel (closures backend); C: emitted, cc \(NativeLoader.nativeFlags.joined(separator: " "))\n")
        Terminal.write("loss".padded(22) + "prec  " + "brute force".padded(16) + "Swift".padded(10) + "ratio".padded(9)
                       + "C".padded(10) + "ratio".padded(9) + "C/Swift".padded(9) + "max|diff|/max|g| Swift, C\n")
        Terminal.flush()
        for path in files {
            let file = SourceFile(path: path, bytes: try readFile(path))
            let f: RankingFormula
            do { f = try RankingFormula.parse(file) } catch { Terminal.error(error.render()); throw Failure(status: .badInput) }
            var native: NativeRankingKernel?
            do { native = try NativeLoader().loadRanking(f) } catch { Terminal.error("C backend unavailable for \(f.name): \(error.message)\n") }
            for p in precisions {
                let row = p == "f32" ? try measure(f, native, n: n, seed: seed, budget: budget, repeats: repeats, as: Float.self)
                                     : try measure(f, native, n: n, seed: seed, budget: budget, repeats: repeats, as: Double.self)
                Terminal.write(f.name.padded(22) + p.padded(6) + row + "\n")
                Terminal.flush()
            }
        }
        Terminal.write("(*) extrapolated: the brute force ran with a subsample of the positives and all other entries, scaled by the positive count.\n")
        Terminal.write("ratio: brute force / kernel; C/Swift: Swift kernel time / C kernel time (> 1: C faster). Swift's max|diff| is against\n")
        Terminal.write("the brute force, C's against the Swift kernel.\n")
        return .success
    }

    static func positive(_ a: Arguments, _ name: String, _ d: Int) throws -> Int {
        guard let v = a.value(name) else { return d }
        guard let n = Int(v), n > 0 else { throw UsageError("--\(name): '\(v)' is not a positive integer") }
        return n
    }

    /// A synthetic batch: negatives score ~ N(0, 1), positives ~ N(1, 1); positives have a quality in [0.3, 1].
    static func batch<T: LossReal>(_ n: Int, seed: UInt64, positives: Double = 0.01, as: T.Type) -> RankingBatch<T> {
        var rng = SeededGenerator(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * Double.pi * uniform()) }
        var s = [T](), y = [T](), u = [T]()
        s.reserveCapacity(n); y.reserveCapacity(n); u.reserveCapacity(n)
        for _ in 0..<n {
            let c = uniform()
            let label: Double = c < positives ? 1 : (c < positives + 0.1 ? -1 : 0)
            s.append(T(normal() + (label == 1 ? 1 : 0))); y.append(T(label)); u.append(T(label == 1 ? 0.3 + 0.7 * uniform() : 0))
        }
        return RankingBatch(s: s, y: y, u: u)
    }

    static func time<R>(_ body: () -> R) -> (Double, R) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = body()
        return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6, r)
    }

    static func measure<T: LossReal>(_ f: RankingFormula, _ native: NativeRankingKernel?, n: Int, seed: UInt64, budget: Double,
                                     repeats: Int, as: T.Type) throws -> String {
        let b = batch(n, seed: seed, as: T.self)
        let fast = RankingKernel<T>(f, strategy: .sorted), direct = RankingKernel<T>(f, strategy: .direct)
        // Swift and C alternate (after a warm-up call each), so both see the same machine load.
        var best = Double.infinity, cBest = Double.infinity
        var result = fast.evaluate(b)
        var c = native?.evaluate(b)
        for _ in 0..<repeats {
            let (ms, r) = time { fast.evaluate(b) }; best = min(best, ms); result = r
            if let native { let (ms, r) = time { native.evaluate(b) }; cBest = min(cBest, ms); c = r }
        }
        // Probe the brute force on a few positives to size the subsample.
        let pos = b.y.indices.filter { b.y[$0] > 0.5 }
        func subsample(_ keep: Int) -> RankingBatch<T> {
            var y = b.y
            let stride = max(1, pos.count / max(1, keep))
            for (k, i) in pos.enumerated() where k % stride != 0 { y[i] = -1 }
            return RankingBatch(s: b.s, y: y, u: b.u)
        }
        let probe = subsample(min(pos.count, 8))
        let probeCount = probe.y.filter { $0 > 0.5 }.count
        let (probeMs, _) = time { direct.evaluate(probe) }
        let perPositive = probeMs / Double(max(1, probeCount))
        var bruteMs: Double, extrapolated = false, diff = Double.nan
        if perPositive * Double(pos.count) <= budget * 1000 {
            let (ms, r) = time { direct.evaluate(b) }
            bruteMs = ms
            diff = relativeDifference(r.ds, result.ds)
        } else {
            let keep = max(probeCount, min(pos.count, Int(budget * 1000 / 2 / max(perPositive, 1e-9))))
            let sub = subsample(keep)
            let subCount = sub.y.filter { $0 > 0.5 }.count
            let (ms, r) = time { direct.evaluate(sub) }
            bruteMs = ms * Double(pos.count) / Double(max(1, subCount))
            extrapolated = true
            diff = relativeDifference(r.ds, fast.evaluate(sub).ds)
        }
        // The C kernel: best of `repeats`, and its gradient against the Swift kernel's.
        var cText = "—".padded(10) + "—".padded(9) + "—".padded(9), cDiff = "—"
        if let c {
            let d = relativeDifference(c.ds, result.ds)
            cText = String(format: "%.1f", cBest).padded(10) + String(format: "%.0fx", bruteMs / cBest).padded(9)
                + String(format: "%.2fx", best / cBest).padded(9)
            cDiff = String(format: "%.1e", d)
        }
        return (String(format: "%.0f", bruteMs) + (extrapolated ? " (*)" : "")).padded(16) + String(format: "%.1f", best).padded(10)
            + String(format: "%.0fx", bruteMs / best).padded(9) + cText + String(format: "%.1e", diff) + ", " + cDiff
    }

    /// max |got − want| / max |want|: how far a gradient is from the one it is checked against.
    static func relativeDifference<T: LossReal>(_ got: [T], _ want: [T]) -> Double {
        let scale = want.map { abs(Double($0)) }.max() ?? 1
        return zip(got, want).map { abs(Double($0 - $1)) }.max().map { $0 / max(scale, 1e-300) } ?? 0
    }
}

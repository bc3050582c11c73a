import Foundation
import Testing
@testable import Codegen
import LossDSL

/// Pieces of the ranking C runtime against definitions written here in Swift, independently of
/// the C: `lossc_rk_threshold` (a walk from fl(si + b)'s key, a bisection past 8 steps) must
/// return the least score key whose pair crosses the cut, which a plain bisection over every
/// key finds, for any score, cut and strictness (infinities, zeros, NaN, subnormals included).
@Suite struct CRankingRuntimeTests {
    /// The runtime built with one exported wrapper per precision.
    static func library(_ cc: SystemCompiler) throws -> NativeLibrary {
        var s = CPrelude.text + CRankingRuntime.text
        s += "uint32_t test_threshold_f(float si, double b, int strict);\n"
        s += "uint32_t test_threshold_f(float si, double b, int strict) { return lossc_rk_threshold_f(si, b, strict); }\n"
        s += "uint64_t test_threshold_d(double si, double b, int strict);\n"
        s += "uint64_t test_threshold_d(double si, double b, int strict) { return lossc_rk_threshold_d(si, b, strict); }\n"
        s += """
        int64_t test_members_f(const float *s, const float *y, const int64_t *valid, int64_t nv, int base, int64_t top, int64_t *out);
        int64_t test_members_f(const float *s, const float *y, const int64_t *valid, int64_t nv, int base, int64_t top, int64_t *out)
        {
            lossc_rk_arena ar = { NULL, NULL };
            const int64_t m = lossc_rk_members_f(&ar, s, y, valid, nv, base, top, out);
            lossc_rk_free(&ar);
            return m;
        }

        """
        return try CHarness.build(s, tag: "ranking-runtime", compiler: cc)
    }

    typealias MembersF = @convention(c) (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int64>, Int64, Int32, Int64,
                                         UnsafeMutablePointer<Int64>) -> Int64
    typealias ThresholdF = @convention(c) (Float, Double, Int32) -> UInt32
    typealias ThresholdD = @convention(c) (Double, Double, Int32) -> UInt64

    /// An unsigned key in the order of the values, -0 and +0 equal (NaNs outside ±inf).
    static func key<F: BinaryFloatingPoint>(_ v: F) -> UInt64 where F.RawSignificand: FixedWidthInteger {
        let bits = F.exponentBitCount + F.significandBitCount + 1, top = UInt64(1) << (bits - 1)
        let z: F = v == 0 ? 0 : v
        let raw = UInt64(z.sign == .minus ? 1 : 0) << (bits - 1) | UInt64(z.exponentBitPattern) << F.significandBitCount
            | UInt64(z.significandBitPattern)
        let mask = bits == 64 ? UInt64.max : top << 1 - 1
        return raw & top != 0 ? ~raw & mask : raw | top
    }

    /// The value of a key (its inverse).
    static func value<F: BinaryFloatingPoint>(_ k: UInt64, as _: F.Type) -> F where F.RawSignificand: FixedWidthInteger {
        let bits = F.exponentBitCount + F.significandBitCount + 1, top = UInt64(1) << (bits - 1)
        let mask = bits == 64 ? UInt64.max : top << 1 - 1
        let raw = k & top != 0 ? k & ~top : ~k & mask
        let significand = raw & (UInt64(1) << F.significandBitCount - 1)
        let exponent = (raw >> F.significandBitCount) & (UInt64(1) << F.exponentBitCount - 1)
        return F(sign: raw & top != 0 ? .minus : .plus, exponentBitPattern: F.RawExponent(exponent),
                 significandBitPattern: F.RawSignificand(significand))
    }

    /// The least key v in [key(-inf), key(+inf)] whose pair has fl(v - si) >= b (> b when
    /// strict), or key(+inf) + 1: a bisection over all of them (the predicate is monotone in v).
    static func leastKey<F: BinaryFloatingPoint>(_ si: F, _ b: Double, strict: Bool) -> UInt64
    where F.RawSignificand: FixedWidthInteger {
        func crosses(_ k: UInt64) -> Bool {
            let d = Double(value(k, as: F.self) - si)
            return strict ? d > b : d >= b
        }
        var lo = key(-F.infinity), hi = key(F.infinity) + 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if crosses(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Scores and cuts: random bit patterns (every class of float), specials, and cuts near a
    /// breakpoint (the window edges the kernel asks for) or far from anything.
    static func cases<F: BinaryFloatingPoint>(_ count: Int, as _: F.Type) -> [(F, Double, Bool)]
    where F.RawSignificand: FixedWidthInteger {
        var rng = SeededGenerator(seed: 2026)
        let specials: [F] = [0, -0.0, 1, -1, 0.5, F.infinity, -F.infinity, F.nan, F.leastNonzeroMagnitude,
                             -F.leastNonzeroMagnitude, F.greatestFiniteMagnitude, -F.greatestFiniteMagnitude, 3.25, -2.75]
        let cuts: [Double] = [-1, 1, 0, -0.125, 0.4182, 0.5, 1e-45, -1e-45, 3e38, -3e38, 1e300, -1e300, 0x1p-149]
        return (0..<count).map { i in
            let bits = F.exponentBitCount + F.significandBitCount + 1
            var si: F = value(rng.next() >> UInt64(64 - bits), as: F.self)
            if i % 4 == 0 { si = specials[Int(rng.next() % UInt64(specials.count))] }
            if i % 4 == 1 { si = F(Double(Int(rng.next() % 2001) - 1000) / 64) }
            var b = cuts[Int(rng.next() % UInt64(cuts.count))]
            if i % 3 == 1 { b += Double(Int(rng.next() % 17) - 8) * 0x1p-20 * (abs(b) + 1) }
            if i % 7 == 2 { b = Double(bitPattern: rng.next()) }
            return (si, b, rng.next() & 1 == 1)
        }
    }

    @Test func thresholdsAreTheLeastKeysThatCross() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try Self.library(cc)
        let tf = unsafeBitCast(try #require(lib.symbol("test_threshold_f")), to: ThresholdF.self)
        let td = unsafeBitCast(try #require(lib.symbol("test_threshold_d")), to: ThresholdD.self)
        var bad: [String] = []
        for (si, b, strict) in Self.cases(60_000, as: Float.self) {
            let c = UInt64(tf(si, b, strict ? 1 : 0)), r = Self.leastKey(si, b, strict: strict)
            if c != r { bad.append("f32 si=\(si) b=\(b) strict=\(strict): C \(c), least \(r)") }
        }
        for (si, b, strict) in Self.cases(30_000, as: Double.self) {
            let c = td(si, b, strict ? 1 : 0), r = Self.leastKey(si, b, strict: strict)
            if c != r { bad.append("f64 si=\(si) b=\(b) strict=\(strict): C \(c), least \(r)") }
        }
        let differing = bad.count  // (a count, so that a failure prints five cases, not all)
        #expect(differing == 0, "thresholds differ: \(bad.prefix(5))")
    }

    /// `top(set, K)`'s members: the set's valid entries (positives, negatives or all), and with
    /// K ≥ 0 only the K highest scores, ties at the cut going to the lower entry index, in entry
    /// order: a sort by (key descending, index ascending) here, a radix select in the C. Scores
    /// with few distinct values, ±0 mixed, ±inf, NaN of both signs.
    @Test func topKeepsTheHighestScoresTiesToTheLowerIndex() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try Self.library(cc)
        let members = unsafeBitCast(try #require(lib.symbol("test_members_f")), to: MembersF.self)
        var rng = SeededGenerator(seed: 7)
        let pool: [Float] = [0, -0.0, 1, -1, 2.5, .infinity, -.infinity, .nan, -Float.nan, 1e-45, 3e38, -3e38]
        var bad: [String] = []
        for trial in 0..<400 {
            let n = Int(rng.next() % 300)
            let s: [Float] = (0..<n).map { _ in
                switch trial % 4 {
                case 0: return pool[Int(rng.next() % UInt64(pool.count))]                    // few values, specials
                case 1: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))   // any bits
                case 2: return Float(Int(rng.next() % 7) - 3) / 2                           // heavy ties
                default: return Float(Double(rng.next() % 1_000_000) / 1e5 - 5)            // spread
                }
            }
            let y: [Float] = (0..<n).map { _ in [Float(1), 0, -1][Int(rng.next() % 3)] }
            let valid = (0..<n).filter { y[$0] >= -0.5 }.map(Int64.init)
            let base = Int32(rng.next() % 3)
            let top = [Int64(-1), 0, 1, 5, Int64(n / 2), Int64(max(valid.count - 1, 0)), Int64(valid.count), Int64(n + 3)][trial % 8]
            var out = [Int64](repeating: -7, count: max(valid.count, 1))
            let m = Int(members(s, y, valid, Int64(valid.count), base, top, &out))
            // the reference: filter by base, then the K highest by (key, lower index first)
            let inSet = valid.filter { base == 2 || (base == 0) == (y[Int($0)] > 0.5) }
            var kept = inSet
            if top >= 0 && inSet.count > Int(top) {
                let ranked = inSet.sorted { a, b in
                    let ka = Self.key(s[Int(a)]), kb = Self.key(s[Int(b)])
                    return ka != kb ? ka > kb : a < b
                }
                kept = ranked.prefix(Int(top)).sorted()
            }
            if Array(out.prefix(max(m, 0))) != kept {
                bad.append("trial \(trial) n \(n) base \(base) top \(top): C \(out.prefix(max(m, 0)).prefix(8)), sorted \(kept.prefix(8))")
            }
        }
        let differing = bad.count  // (a count, so that a failure prints five cases, not all)
        #expect(differing == 0, "top() members differ: \(bad.prefix(5))")
    }
}

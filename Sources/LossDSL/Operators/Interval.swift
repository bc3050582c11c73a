import Foundation

/// A closed interval of reals [lo, hi], possibly unbounded, used to bound every node of a
/// graph over a region of inputs. Endpoints are widened by one ulp after each operation, so
/// an interval always contains the exact result despite libm rounding.
public struct Interval: Hashable, Sendable, CustomStringConvertible {
    public var lo: Double
    public var hi: Double

    public init(_ lo: Double, _ hi: Double) { self.lo = lo; self.hi = hi }
    public init(point v: Double) { lo = v; hi = v }

    public static let everything = Interval(-.infinity, .infinity)
    public static let unit = Interval(0, 1)

    public func contains(_ v: Double) -> Bool { lo <= v && v <= hi }
    public var isPoint: Bool { lo == hi }
    public var width: Double { hi - lo }
    public var mid: Double {
        if lo.isInfinite || hi.isInfinite { return lo.isInfinite ? (hi.isInfinite ? 0 : hi - 1) : lo + 1 }
        return lo + (hi - lo) / 2
    }
    /// Strictly positive everywhere.
    public var isPositive: Bool { lo > 0 }
    public var isNegative: Bool { hi < 0 }

    /// The smallest interval holding both.
    public func hull(_ o: Interval) -> Interval { Interval(Swift.min(lo, o.lo), Swift.max(hi, o.hi)) }

    /// Widens by one ulp on each side (round outward), mapping NaN endpoints to infinities.
    public func outward() -> Interval {
        // Zero endpoints stay put: results that round to 0 here are exact zeros (0 * a, relu)
        // or underflows of a value of the same sign, and "can be negative" must not come from
        // rounding alone.
        let l = lo.isNaN ? -Double.infinity : (lo.isFinite && lo != 0 ? lo.nextDown : lo)
        let h = hi.isNaN ? Double.infinity : (hi.isFinite && hi != 0 ? hi.nextUp : hi)
        return Interval(l, h)
    }

    public var description: String { "[\(shortNumber(lo)), \(shortNumber(hi))]" }
}

/// A monotone function applied to an interval.
func monotone(_ a: Interval, increasing: Bool, _ f: (Double) -> Double) -> Interval {
    increasing ? Interval(f(a.lo), f(a.hi)) : Interval(f(a.hi), f(a.lo))
}

/// Product bound with 0 * inf taken as 0 (the limit that matters for bounds).
func timesBound(_ x: Double, _ y: Double) -> Double {
    (x == 0 || y == 0) ? 0 : x * y
}

func intervalMul(_ a: Interval, _ b: Interval) -> Interval {
    let p = [timesBound(a.lo, b.lo), timesBound(a.lo, b.hi), timesBound(a.hi, b.lo), timesBound(a.hi, b.hi)]
    return Interval(p.min()!, p.max()!)
}

/// Six significant digits, for messages ("-10001", "0.333333", "1e+08").
public func shortNumber(_ v: Double) -> String {
    if !v.isFinite || (v == v.rounded() && Swift.abs(v) < 1e7) { return formatNumber(v) }
    return String(format: "%.6g", v)
}

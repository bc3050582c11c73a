import Foundation

/// Bounds on a class vector split into two groups: the true class (`t`) and every other class
/// (`o`, one bound shared by the C - 1 others). A scalar has `t == o`.
///
/// The plain interval table bounds softmax by [0, 1], which cannot show that raising the true
/// logit lowers cross-entropy; with the two groups, softmax's bound follows from the logits'
/// (the convergence proofs use this), while the others still share one bound, so a proof costs
/// the same for C = 81 as for C = 2.
public struct ClassInterval: Hashable, Sendable {
    /// The true class's bound.
    public var t: Interval
    /// The bound shared by every other class.
    public var o: Interval

    /// Bounds for the true class and for the others.
    public init(t: Interval, o: Interval) { self.t = t; self.o = o }
    /// A scalar: the same bound for every class.
    public init(scalar: Interval) { t = scalar; o = scalar }

    /// Both bounds finite.
    public var isFinite: Bool { t.lo.isFinite && t.hi.isFinite && o.lo.isFinite && o.hi.isFinite }
}

extension Op {
    /// Bounds the result over grouped arguments for exactly `classes` classes (the true class
    /// and `classes - 1` others). Elementwise operators apply the plain table to each group.
    /// Every result is rounded outward.
    public func classInterval(_ x: [ClassInterval], classes: Int) -> ClassInterval {
        if isLeaf { return x.first ?? ClassInterval(scalar: .everything) }
        if shapeRule == .elementwise {
            let t = interval(x.map(\.t))
            let sameGroups = x.allSatisfy { $0.t == $0.o }
            return ClassInterval(t: t, o: sameGroups ? t : interval(x.map(\.o)))
        }
        let c = Double(classes)
        switch self {
        case .softmax:
            // p_t = 1 / (1 + sum_j e^(x_j - x_t));
            // p_j = 1 / (1 + e^(x_t - x_j) + sum_(k != t, j) e^(x_k - x_j)).
            let a = x[0]
            let t = Interval(1 / (1 + scaledExp(c - 1, a.o.hi - a.t.lo)), 1 / (1 + scaledExp(c - 1, a.o.lo - a.t.hi)))
            let o = Interval(1 / (1 + Foundation.exp(a.t.hi - a.o.lo) + scaledExp(c - 2, a.o.hi - a.o.lo)),
                             1 / (1 + Foundation.exp(a.t.lo - a.o.hi) + scaledExp(c - 2, a.o.lo - a.o.hi)))
            return ClassInterval(t: widened(t, within: .unit), o: widened(o, within: .unit))
        case .logSoftmax:
            // The logs of the softmax bounds, computed without overflow.
            let a = x[0]
            let t = Interval(-logOnePlus(c - 1, a.o.hi - a.t.lo), -logOnePlus(c - 1, a.o.lo - a.t.hi))
            let o = Interval(-logSum(a.t.hi - a.o.lo, c - 2, a.o.hi - a.o.lo), -logSum(a.t.lo - a.o.hi, c - 2, a.o.lo - a.o.hi))
            let nonPositive = Interval(-.infinity, 0)
            return ClassInterval(t: widened(t, within: nonPositive), o: widened(o, within: nonPositive))
        case .sum:
            let a = x[0]
            return ClassInterval(scalar: Op.add.interval([a.t, Op.mul.interval([Interval(point: c - 1), a.o])]))
        case .dot:
            let p = Op.mul.interval([x[0].t, x[1].t]), q = Op.mul.interval([x[0].o, x[1].o])
            return ClassInterval(scalar: Op.add.interval([p, Op.mul.interval([Interval(point: c - 1), q])]))
        default:
            preconditionFailure("\(name) is elementwise, handled above")
        }
    }
}

/// k e^z for k >= 0, with 0 * inf taken as 0 (no other class to sum over).
private func scaledExp(_ k: Double, _ z: Double) -> Double { k == 0 ? 0 : k * Foundation.exp(z) }

/// log(1 + k e^z) for k >= 0, without overflow for large z.
private func logOnePlus(_ k: Double, _ z: Double) -> Double {
    if k == 0 { return 0 }
    let lk = Foundation.log(k)
    if z + lk > 30 { return z + lk + Foundation.log1p(Foundation.exp(-(z + lk))) }
    return Foundation.log1p(k * Foundation.exp(z))
}

/// log(1 + e^z1 + k e^z2) for k >= 0, without overflow.
private func logSum(_ z1: Double, _ k: Double, _ z2: Double) -> Double {
    let m = Swift.max(0, z1, k > 0 ? z2 + Foundation.log(k) : -.infinity)
    let s = Foundation.exp(-m) + Foundation.exp(z1 - m) + (k > 0 ? k * Foundation.exp(z2 - m) : 0)
    return m + Foundation.log(s)
}

/// Rounds a composite bound outward by a few ulps (each endpoint went through several libm
/// calls, each within an ulp or so) and clips it to the range the function is known to have.
private func widened(_ v: Interval, within range: Interval) -> Interval {
    func pad(_ x: Double) -> Double { Swift.abs(x) * 1e-14 + Double.leastNormalMagnitude }
    let lo = v.lo.isNaN ? range.lo : Swift.max(range.lo, v.lo - pad(v.lo))
    let hi = v.hi.isNaN ? range.hi : Swift.min(range.hi, v.hi + pad(v.hi))
    return Interval(lo, hi)
}

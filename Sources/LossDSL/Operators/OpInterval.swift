/// Interval facts of every operator: a bound on the result given bounds on the arguments,
/// and the domain hazards (where the operator yields NaN or an infinity from finite input).
///
/// `IntervalEval` (hazard check, convergence proofs) reads only this table.

/// Where an operator leaves its finite, defined range.
public enum DomainHazard: Sendable, Equatable {
    case logOfNegative, logOfZero, sqrtOfNegative, divisionByZero, expOverflow(float32: Bool)
    case powOfNegative

    /// True when the hazard makes NaN (always a defect) rather than an infinity.
    public var makesNaN: Bool {
        switch self {
        case .logOfNegative, .sqrtOfNegative, .powOfNegative: return true
        default: return false
        }
    }
}

/// The largest argument for which `expf` is finite.
public let float32ExpLimit = 88.72283905206835

extension Op {
    /// Bounds the result of an elementwise or class-axis operator over argument bounds.
    /// `classes` is the range of class counts considered for class-axis reductions.
    public func interval(_ x: [Interval], classes: ClosedRange<Int> = 2...1000) -> Interval {
        let a = x.first ?? .everything
        let r: Interval
        switch self {
        case .constant, .input, .param: return a
        case .neg: r = Interval(-a.hi, -a.lo)
        case .exp: r = monotone(a, increasing: true, Double.exp)
        case .log: r = a.hi <= 0 ? Interval(-.infinity, -.infinity)
            : Interval(a.lo <= 0 ? -.infinity : Double.log(a.lo), Double.log(a.hi))
        case .abs:
            if a.lo >= 0 { r = a } else if a.hi <= 0 { r = Interval(-a.hi, -a.lo) }
            else { r = Interval(0, Swift.max(-a.lo, a.hi)) }
        case .sqrt: r = Interval(Swift.max(a.lo, 0).squareRoot(), Swift.max(a.hi, 0).squareRoot())
        case .softmax: r = Interval(0, 1)
        case .logSoftmax:
            // x_k - logsumexp(x) lies in [lo - hi - log C, 0].
            r = Interval(a.lo - a.hi - Double.log(Double(classes.upperBound)), 0)
        case .softplus, .sigmoid, .tanh, .scaledGD, .scaledALF, .scaledERF, .log1p, .expm1, .relu,
             .stopGradient, .sign, .step:
            r = monotone(a, increasing: true) { self.apply($0) }
            if self == .log1p, a.lo <= -1 { return Interval(-.infinity, a.hi <= -1 ? -.infinity : Double.log1p(a.hi)).outward() }
        case .scaledERFC: r = monotone(a, increasing: false) { self.apply($0) }
        case .sin, .cos: r = periodic(a, phase: self == .sin ? 0 : Double.pi / 2)
        case .cosh:
            let m = Swift.max(Double.cosh(a.lo), Double.cosh(a.hi))
            r = Interval(a.contains(0) ? 1 : Swift.min(Double.cosh(a.lo), Double.cosh(a.hi)), m)
        case .add: r = Interval(x[0].lo + x[1].lo, x[0].hi + x[1].hi)
        case .sub: r = Interval(x[0].lo - x[1].hi, x[0].hi - x[1].lo)
        case .mul: r = intervalMul(x[0], x[1])
        case .div:
            let b = x[1]
            if b.lo <= 0 && b.hi >= 0 { return .everything }
            r = intervalMul(a, Interval(1 / b.hi, 1 / b.lo))
        case .pow: r = powInterval(a, x[1])
        case .min: r = Interval(Swift.min(x[0].lo, x[1].lo), Swift.min(x[0].hi, x[1].hi))
        case .max: r = Interval(Swift.max(x[0].lo, x[1].lo), Swift.max(x[0].hi, x[1].hi))
        case .select:
            if a.lo > 0 { r = x[1] } else if a.hi <= 0 { r = x[2] } else { r = x[1].hull(x[2]) }
        case .sum, .dot:
            let t = self == .dot ? intervalMul(x[0], x[1]) : a
            let lo = Swift.min(timesBound(t.lo, Double(classes.lowerBound)), timesBound(t.lo, Double(classes.upperBound)))
            let hi = Swift.max(timesBound(t.hi, Double(classes.lowerBound)), timesBound(t.hi, Double(classes.upperBound)))
            r = Interval(lo, hi)
        }
        return r.outward()
    }

    /// The hazards this operator can hit when its arguments range over `x`.
    public func hazards(_ x: [Interval]) -> [DomainHazard] {
        guard let a = x.first else { return [] }
        switch self {
        case .log:
            if a.lo < 0 { return [.logOfNegative] }
            return a.lo <= 0 ? [.logOfZero] : []
        case .log1p:
            if a.lo < -1 { return [.logOfNegative] }
            return a.lo <= -1 ? [.logOfZero] : []
        case .sqrt: return a.lo < 0 ? [.sqrtOfNegative] : []
        case .div: return (x[1].lo <= 0 && x[1].hi >= 0) ? [.divisionByZero] : []
        case .exp, .expm1, .cosh:
            let big = Swift.max(a.hi, self == .cosh ? -a.lo : -.infinity)
            return big > float32ExpLimit ? [.expOverflow(float32: big <= 709.78)] : []
        case .pow:
            let b = x[1]
            if a.lo < 0, !(b.isPoint && b.lo == b.lo.rounded()) { return [.powOfNegative] }
            if a.lo <= 0 && a.hi >= 0 && b.lo < 0 { return [.divisionByZero] }
            return []
        default: return []
        }
    }
}

/// Bounds sin (phase 0) or cos (phase pi/2) over an interval by checking the extrema inside it.
private func periodic(_ a: Interval, phase: Double) -> Interval {
    guard a.lo.isFinite, a.hi.isFinite, a.width < 2 * Double.pi else { return Interval(-1, 1) }
    let f: (Double) -> Double = { Double.sin($0 + phase) }
    var lo = Swift.min(f(a.lo), f(a.hi)), hi = Swift.max(f(a.lo), f(a.hi))
    // Maxima of sin(t + phase) at t = pi/2 - phase + 2k pi, minima at -pi/2 - phase + 2k pi.
    let firstMax = ((a.lo - (Double.pi / 2 - phase)) / (2 * Double.pi)).rounded(.up)
    if Double.pi / 2 - phase + 2 * Double.pi * firstMax <= a.hi { hi = 1 }
    let firstMin = ((a.lo - (-Double.pi / 2 - phase)) / (2 * Double.pi)).rounded(.up)
    if -Double.pi / 2 - phase + 2 * Double.pi * firstMin <= a.hi { lo = -1 }
    return Interval(lo, hi)
}

private func powInterval(_ a: Interval, _ b: Interval) -> Interval {
    guard b.isPoint else {
        if a.lo > 0 {
            let c = [Double.pow(a.lo, b.lo), Double.pow(a.lo, b.hi), Double.pow(a.hi, b.lo), Double.pow(a.hi, b.hi)]
            return Interval(c.min()!, c.max()!)
        }
        return .everything
    }
    let p = b.lo
    var pts = [Double.pow(a.lo, p), Double.pow(a.hi, p)]
    if a.lo < 0 && a.hi > 0 {
        if p < 0 { return .everything }
        pts.append(0)
    }
    if a.lo < 0, p != p.rounded() { return .everything }
    let finite = pts.map { $0.isNaN ? Double.infinity : $0 }
    return Interval(finite.min()!, finite.max()!)
}

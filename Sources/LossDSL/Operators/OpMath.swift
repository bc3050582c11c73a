/// The exact math of every elementwise operator, written once for `Float` and `Double`.
///
/// Each function is evaluated the numerically stable way (sigmoid and softplus never overflow,
/// the scaled erf uses erfc to avoid cancellation); the stabilize pass handles compositions.
extension Op {
    /// Applies an elementwise operator. Unused arguments are ignored.
    /// `@inlinable` so backends in other modules (the closure backend's loops) specialize and
    /// inline the math for a constant operator instead of calling the generic entry point.
    @inlinable @inline(__always)
    public func apply<T: LossReal>(_ a: T, _ b: T = 0, _ c: T = 0) -> T {
        switch self {
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum:
            preconditionFailure("\(name) is not elementwise")
        case .neg: return -a
        case .exp: return T.exp(a)
        case .log: return T.log(a)
        case .abs: return Swift.abs(a)
        case .sqrt: return T.sqrt(a)
        case .softplus: return stableSoftplus(a)
        case .sigmoid: return stableSigmoid(a)
        case .tanh: return T.tanh(a)
        case .sin: return T.sin(a)
        case .cos: return T.cos(a)
        case .relu: return a > 0 ? a : (a.isNaN ? a : 0)   // relu(-0) = +0, relu(NaN) = NaN
        case .scaledGD:
            // (gud(pi a/4) * 2/pi + 1)/2 with gud(t) = 2 atan(e^t) - pi/2, i.e. (2/pi) atan(e^(pi a/4)):
            // no cancellation in the negative tail (the atan(tanh) form loses all digits there),
            // and exp overflowing to +inf gives exactly 1.
            return T(2 / Double.pi) * T.atan(T.exp(T(Double.pi / 4) * a))
        case .scaledALF:
            // (b/sqrt(1 + b^2) + 1)/2 with b = a/2. For b < 0 the sum cancels; there it equals
            // 1 / (2 s (s - b)) with s = sqrt(1 + b^2), since (s + b)(s - b) = 1. For |b| > 1,
            // b/s = sign(b)/sqrt(1 + 1/b^2), which stays finite up to infinite b.
            let b = a / 2
            if Swift.abs(b) > 1 {
                if b > 0 { return (1 / T.sqrt(1 + 1 / (b * b)) + 1) / 2 }
                let s = -b * T.sqrt(1 + 1 / (b * b))
                return 1 / (2 * s * (s - b))
            }
            let s = T.sqrt(1 + b * b)
            return b < 0 ? 1 / (2 * s * (s - b)) : (b / s + 1) / 2
        case .scaledERF:
            // (1 + erf(z))/2 == erfc(-z)/2, which does not cancel for very negative z.
            return T.erfc(-T(Double.pi.squareRoot() / 4) * a) / 2
        case .scaledERFC: return T.erfc(T(Double.pi.squareRoot() / 4) * a) / 2
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return T.pow(a, b)
        case .log1p: return T.log1p(a)
        case .expm1: return T.expm1(a)
        case .min: return b < a ? b : a
        case .max: return b > a ? b : a
        case .select: return a > 0 ? b : c
        case .stopGradient: return a
        case .sign: return a > 0 ? 1 : (a < 0 ? -1 : a)
        case .step: return a > 0 ? 1 : 0
        case .cosh: return T.cosh(a)
        }
    }

    /// Applies a class-axis operator to one sample's class vector(s).
    /// `classMap` operators write `out` (same length); `classReduce` ones return the scalar.
    public func applyClassAxis<T: LossReal>(_ a: [T], _ b: [T], into out: inout [T]) -> T {
        switch self {
        case .softmax, .logSoftmax:
            var m = -T.infinity
            for v in a where v > m { m = v }
            if !m.isFinite { m = 0 }
            var s: T = 0
            for v in a { s += T.exp(v - m) }
            if self == .softmax {
                for k in a.indices { out[k] = T.exp(a[k] - m) / s }
            } else {
                let ls = T.log(s)
                for k in a.indices { out[k] = a[k] - m - ls }
            }
            return 0
        case .dot:
            var s: T = 0
            for k in a.indices { s += a[k] * b[k] }
            return s
        case .sum:
            var s: T = 0
            for v in a { s += v }
            return s
        default:
            preconditionFailure("\(name) has no class axis")
        }
    }
}

@inlinable @inline(__always) func stableSigmoid<T: LossReal>(_ a: T) -> T {
    if a >= 0 { return 1 / (1 + T.exp(-a)) }
    let e = T.exp(a)
    return e / (1 + e)
}

@inlinable @inline(__always) func stableSoftplus<T: LossReal>(_ a: T) -> T {
    // max(a, 0) + log1p(exp(-|a|)): exp never overflows and log1p keeps the small tail.
    (a > 0 ? a : 0) + T.log1p(T.exp(-Swift.abs(a)))
}

/// The exact math of every elementwise operator, written once for `Float` and `Double`.
///
/// Each operator's value is a type (`OpMath.Neg`, `OpMath.Softplus`, …) and one exhaustive
/// `switch` (`withElementFunction`) maps the operator to it. Every consumer goes through that
/// switch: `apply` for one element (the reference evaluator, constant folding, intervals), a
/// loop generic over the type for a block (the ranking tape, the closure backend), so each
/// loop is specialized with the math inlined and no backend lists the operators again.
///
/// Each function is evaluated the numerically stable way (sigmoid and softplus never overflow,
/// the scaled erf uses erfc to avoid cancellation); the stabilize pass handles compositions.

/// One operator's elementwise math as a type: a loop generic over it is specialized with the
/// math inlined (a closure value would be an indirect call per element, which also stops the
/// loop from vectorizing). Unused arguments are ignored.
public protocol ElementFunction: SendableMetatype {
    static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T
}

/// Something built from an operator's element function chosen at run time (a visitor: Swift
/// has no generic closures). `Op.withElementFunction` calls `visit` with the operator's type.
public protocol ElementFunctionVisitor {
    associatedtype Result
    func visit<F: ElementFunction>(_ f: F.Type) -> Result
}

extension Op {
    /// Applies an elementwise operator. Unused arguments are ignored.
    /// `@inlinable` so backends in other modules specialize and inline the math for a
    /// constant operator instead of calling the generic entry point.
    @inlinable @inline(__always)
    public func apply<T: LossReal>(_ a: T, _ b: T = 0, _ c: T = 0) -> T {
        withElementFunction(OpMath.Apply(a: a, b: b, c: c))
    }

    /// Calls `v` with this operator's element function (the table of values). Leaves and
    /// class-axis operators get `OpMath.NotElementwise`, which traps if it is ever applied.
    @inlinable @inline(__always)
    public func withElementFunction<V: ElementFunctionVisitor>(_ v: V) -> V.Result {
        switch self {
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum: return v.visit(OpMath.NotElementwise.self)
        case .neg: return v.visit(OpMath.Neg.self)
        case .exp: return v.visit(OpMath.Exp.self)
        case .log: return v.visit(OpMath.Log.self)
        case .abs: return v.visit(OpMath.Abs.self)
        case .sqrt: return v.visit(OpMath.Sqrt.self)
        case .softplus: return v.visit(OpMath.Softplus.self)
        case .sigmoid: return v.visit(OpMath.Sigmoid.self)
        case .tanh: return v.visit(OpMath.Tanh.self)
        case .sin: return v.visit(OpMath.Sin.self)
        case .cos: return v.visit(OpMath.Cos.self)
        case .relu: return v.visit(OpMath.Relu.self)
        case .scaledGD: return v.visit(OpMath.ScaledGD.self)
        case .scaledALF: return v.visit(OpMath.ScaledALF.self)
        case .scaledERF: return v.visit(OpMath.ScaledERF.self)
        case .scaledERFC: return v.visit(OpMath.ScaledERFC.self)
        case .add: return v.visit(OpMath.Add.self)
        case .sub: return v.visit(OpMath.Sub.self)
        case .mul: return v.visit(OpMath.Mul.self)
        case .div: return v.visit(OpMath.Div.self)
        case .pow: return v.visit(OpMath.Pow.self)
        case .log1p: return v.visit(OpMath.Log1p.self)
        case .expm1: return v.visit(OpMath.Expm1.self)
        case .min: return v.visit(OpMath.Min.self)
        case .max: return v.visit(OpMath.Max.self)
        case .select: return v.visit(OpMath.Select.self)
        case .stopGradient: return v.visit(OpMath.StopGradient.self)
        case .sign: return v.visit(OpMath.Sign.self)
        case .step: return v.visit(OpMath.Step.self)
        case .cosh: return v.visit(OpMath.Cosh.self)
        }
    }
}

extension Op {
    /// Calls `v` with the element function of a fusable operator (cheap, no libm call), or
    /// returns nil: the `fusable` column of the table is read from here. Its own short list, not
    /// `withElementFunction` behind a check, because the closure backend compiles one loop per
    /// pair of fusable operators: over every operator that was 30 x 30 pairs, and the release
    /// binary grew from 15.4 to 21.3 MB.
    @inlinable @inline(__always)
    public func withFusableElementFunction<V: ElementFunctionVisitor>(_ v: V) -> V.Result? {
        switch self {
        case .neg: return v.visit(OpMath.Neg.self)
        case .abs: return v.visit(OpMath.Abs.self)
        case .relu: return v.visit(OpMath.Relu.self)
        case .step: return v.visit(OpMath.Step.self)
        case .add: return v.visit(OpMath.Add.self)
        case .sub: return v.visit(OpMath.Sub.self)
        case .mul: return v.visit(OpMath.Mul.self)
        case .div: return v.visit(OpMath.Div.self)
        case .min: return v.visit(OpMath.Min.self)
        case .max: return v.visit(OpMath.Max.self)
        case .select: return v.visit(OpMath.Select.self)
        default: return nil
        }
    }
}

/// Answers "is there a fusable element function" without building anything.
struct FusableProbe: ElementFunctionVisitor {
    func visit<F: ElementFunction>(_ f: F.Type) {}
}

/// The element functions, one per elementwise operator (see `Op.withElementFunction`).
public enum OpMath {
    public enum NotElementwise: ElementFunction {
        @inlinable public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T {
            preconditionFailure("leaves and class-axis operators are not elementwise")
        }
    }
    public enum Neg: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { -a }
    }
    public enum Exp: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.exp(a) }
    }
    public enum Log: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.log(a) }
    }
    public enum Abs: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { Swift.abs(a) }
    }
    public enum Sqrt: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.sqrt(a) }
    }
    public enum Softplus: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { stableSoftplus(a) }
    }
    public enum Sigmoid: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { stableSigmoid(a) }
    }
    public enum Tanh: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.tanh(a) }
    }
    public enum Sin: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.sin(a) }
    }
    public enum Cos: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.cos(a) }
    }
    public enum Relu: ElementFunction {
        // relu(-0) = +0, relu(NaN) = NaN.
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a > 0 ? a : (a.isNaN ? a : 0) }
    }
    public enum ScaledGD: ElementFunction {
        // (gud(pi a/4) * 2/pi + 1)/2 with gud(t) = 2 atan(e^t) - pi/2, i.e. (2/pi) atan(e^(pi a/4)):
        // no cancellation in the negative tail (the atan(tanh) form loses all digits there),
        // and exp overflowing to +inf gives exactly 1.
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T {
            T(2 / Double.pi) * T.atan(T.exp(T(Double.pi / 4) * a))
        }
    }
    public enum ScaledALF: ElementFunction {
        // (b/sqrt(1 + b^2) + 1)/2 with b = a/2. For b < 0 the sum cancels; there it equals
        // 1 / (2 s (s - b)) with s = sqrt(1 + b^2), since (s + b)(s - b) = 1. For |b| > 1,
        // b/s = sign(b)/sqrt(1 + 1/b^2), which stays finite up to infinite b.
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ unused: T, _ c: T) -> T {
            let b = a / 2
            if Swift.abs(b) > 1 {
                if b > 0 { return (1 / T.sqrt(1 + 1 / (b * b)) + 1) / 2 }
                let s = -b * T.sqrt(1 + 1 / (b * b))
                return 1 / (2 * s * (s - b))
            }
            let s = T.sqrt(1 + b * b)
            return b < 0 ? 1 / (2 * s * (s - b)) : (b / s + 1) / 2
        }
    }
    public enum ScaledERF: ElementFunction {
        // (1 + erf(z))/2 == erfc(-z)/2, which does not cancel for very negative z.
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T {
            T.erfc(-T(Double.pi.squareRoot() / 4) * a) / 2
        }
    }
    public enum ScaledERFC: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T {
            T.erfc(T(Double.pi.squareRoot() / 4) * a) / 2
        }
    }
    public enum Add: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a + b }
    }
    public enum Sub: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a - b }
    }
    public enum Mul: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a * b }
    }
    public enum Div: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a / b }
    }
    public enum Pow: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.pow(a, b) }
    }
    public enum Log1p: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.log1p(a) }
    }
    public enum Expm1: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.expm1(a) }
    }
    public enum Min: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { b < a ? b : a }
    }
    public enum Max: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { b > a ? b : a }
    }
    public enum Select: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a > 0 ? b : c }
    }
    public enum StopGradient: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a }
    }
    public enum Sign: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a > 0 ? 1 : (a < 0 ? -1 : a) }
    }
    public enum Step: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a > 0 ? 1 : 0 }
    }
    public enum Cosh: ElementFunction {
        @inlinable @inline(__always) public static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { T.cosh(a) }
    }

    /// `apply` as a visitor: one element.
    @usableFromInline struct Apply<T: LossReal>: ElementFunctionVisitor {
        @usableFromInline let a: T, b: T, c: T
        @inlinable init(a: T, b: T, c: T) { self.a = a; self.b = b; self.c = c }
        @inlinable @inline(__always) func visit<F: ElementFunction>(_ f: F.Type) -> T { F.apply(a, b, c) }
    }
}

extension Op {
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

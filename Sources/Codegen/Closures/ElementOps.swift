import LossDSL

/// An element function as a type, so that a loop template specialized for it has the math
/// inlined (a closure value would be an indirect call per element, which also stops the loop
/// from vectorizing). Each type forwards to the operator table's own math (`Op.apply`), so
/// this file names operators but does not restate them.
protocol ElementOp: SendableMetatype {
    static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T
}

/// The table's math for one operator. `op` is a constant in every conformance, so after
/// specialization `Op.apply`'s switch folds away.
protocol TableOp: ElementOp { static var op: Op { get } }
extension TableOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { op.apply(a, b, c) }
}

enum NegOp: TableOp { static var op: Op { .neg } }
enum ExpOp: TableOp { static var op: Op { .exp } }
enum LogOp: TableOp { static var op: Op { .log } }
enum AbsOp: TableOp { static var op: Op { .abs } }
enum SqrtOp: TableOp { static var op: Op { .sqrt } }
enum SoftplusOp: TableOp { static var op: Op { .softplus } }
enum SigmoidOp: TableOp { static var op: Op { .sigmoid } }
enum TanhOp: TableOp { static var op: Op { .tanh } }
enum SinOp: TableOp { static var op: Op { .sin } }
enum CosOp: TableOp { static var op: Op { .cos } }
enum ReluOp: TableOp { static var op: Op { .relu } }
enum ScaledGDOp: TableOp { static var op: Op { .scaledGD } }
enum ScaledALFOp: TableOp { static var op: Op { .scaledALF } }
enum ScaledERFOp: TableOp { static var op: Op { .scaledERF } }
enum ScaledERFCOp: TableOp { static var op: Op { .scaledERFC } }
enum Log1pOp: TableOp { static var op: Op { .log1p } }
enum Expm1Op: TableOp { static var op: Op { .expm1 } }
enum SignOp: TableOp { static var op: Op { .sign } }
enum StepOp: TableOp { static var op: Op { .step } }
enum CoshOp: TableOp { static var op: Op { .cosh } }
enum StopGradientOp: TableOp { static var op: Op { .stopGradient } }
enum AddOp: TableOp { static var op: Op { .add } }
enum SubOp: TableOp { static var op: Op { .sub } }
enum MulOp: TableOp { static var op: Op { .mul } }
enum DivOp: TableOp { static var op: Op { .div } }
enum PowOp: TableOp { static var op: Op { .pow } }
enum MinOp: TableOp { static var op: Op { .min } }
enum MaxOp: TableOp { static var op: Op { .max } }
enum SelectOp: TableOp { static var op: Op { .select } }

/// NaN for anything else (unreachable: leaves and class-axis operators never get here).
enum NaNOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { .nan }
}

/// `pow(a, e)` for the exponents that need no libm call (vectorized mode only). Each agrees
/// with C99 `pow` on the special values: pow(NaN, 0) = 1, pow(-0, 1/2) = +0, pow(-inf, 1/2) = +inf.
enum PowZeroOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { 1 }
}
enum PowOneOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { a }
}
enum PowTwoOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { a * a }
}
enum PowThreeOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { a * a * a }
}
enum PowMinusOneOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T { 1 / a }
}
enum PowHalfOp: ElementOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T) -> T {
        a == -T.infinity ? T.infinity : a.squareRoot() + 0
    }
}

/// A composition of two element functions: the inner one's result is the outer one's first
/// argument (`FuseFirst`) or second (`FuseSecond`). The inner one reads `a, b, c`; the
/// outer one's other argument is `d`. (Unused arguments are ignored by the table's math.)
protocol FusedOp: SendableMetatype {
    static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T
}
enum FuseFirst<Inner: ElementOp, Outer: ElementOp>: FusedOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T {
        Outer.apply(Inner.apply(a, b, c), d, 0)
    }
}
enum FuseSecond<Inner: ElementOp, Outer: ElementOp>: FusedOp {
    @inline(__always) static func apply<T: BlockReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T {
        Outer.apply(d, Inner.apply(a, b, c), 0)
    }
}

/// Something built from an element function chosen at run time (a visitor: Swift has no
/// generic closures). `ElementOps.visit` calls `visit` with the operator's type, so the
/// result is specialized for it.
protocol ElementOpVisitor {
    associatedtype Result
    func visit<F: ElementOp>(_ f: F.Type) -> Result
}

enum ElementOps {
    /// The operators that fuse (cheap, no libm call): a fused pair stays one tight loop.
    static func isFusable(_ op: Op) -> Bool { fusable(op, Probe()) != nil }

    private struct Probe: ElementOpVisitor { func visit<F: ElementOp>(_ f: F.Type) {} }

    /// Calls `v` with the type of a fusable operator, or returns nil.
    static func fusable<V: ElementOpVisitor>(_ op: Op, _ v: V) -> V.Result? {
        switch op {
        case .neg: return v.visit(NegOp.self)
        case .abs: return v.visit(AbsOp.self)
        case .relu: return v.visit(ReluOp.self)
        case .step: return v.visit(StepOp.self)
        case .add: return v.visit(AddOp.self)
        case .sub: return v.visit(SubOp.self)
        case .mul: return v.visit(MulOp.self)
        case .div: return v.visit(DivOp.self)
        case .min: return v.visit(MinOp.self)
        case .max: return v.visit(MaxOp.self)
        case .select: return v.visit(SelectOp.self)
        default: return nil
        }
    }

    /// Calls `v` with the type of any elementwise operator (NaNOp for the others, which the
    /// scheduler never passes).
    static func visit<V: ElementOpVisitor>(_ op: Op, _ v: V) -> V.Result {
        switch op {
        case .neg: return v.visit(NegOp.self)
        case .exp: return v.visit(ExpOp.self)
        case .log: return v.visit(LogOp.self)
        case .abs: return v.visit(AbsOp.self)
        case .sqrt: return v.visit(SqrtOp.self)
        case .softplus: return v.visit(SoftplusOp.self)
        case .sigmoid: return v.visit(SigmoidOp.self)
        case .tanh: return v.visit(TanhOp.self)
        case .sin: return v.visit(SinOp.self)
        case .cos: return v.visit(CosOp.self)
        case .relu: return v.visit(ReluOp.self)
        case .scaledGD: return v.visit(ScaledGDOp.self)
        case .scaledALF: return v.visit(ScaledALFOp.self)
        case .scaledERF: return v.visit(ScaledERFOp.self)
        case .scaledERFC: return v.visit(ScaledERFCOp.self)
        case .log1p: return v.visit(Log1pOp.self)
        case .expm1: return v.visit(Expm1Op.self)
        case .sign: return v.visit(SignOp.self)
        case .step: return v.visit(StepOp.self)
        case .cosh: return v.visit(CoshOp.self)
        case .stopGradient: return v.visit(StopGradientOp.self)
        case .add: return v.visit(AddOp.self)
        case .sub: return v.visit(SubOp.self)
        case .mul: return v.visit(MulOp.self)
        case .div: return v.visit(DivOp.self)
        case .pow: return v.visit(PowOp.self)
        case .min: return v.visit(MinOp.self)
        case .max: return v.visit(MaxOp.self)
        case .select: return v.visit(SelectOp.self)
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum: return v.visit(NaNOp.self)
        }
    }
}

import LossDSL

/// An element function as a type, so that a loop template specialized for it has the math
/// inlined. The operators' own functions and the one dispatch from a run-time `Op` to them
/// are the operator table's (`OpMath.swift`: `ElementFunction`, `Op.withElementFunction`);
/// this file adds only the closure backend's extra functions (the `pow` shortcuts, fusion).
typealias ElementOp = ElementFunction
typealias ElementOpVisitor = ElementFunctionVisitor

/// NaN for anything else (unreachable: leaves and class-axis operators never get here).
enum NaNOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { .nan }
}

/// `pow(a, e)` for the exponents that need no libm call (vectorized mode only). Each agrees
/// with C99 `pow` on the special values: pow(NaN, 0) = 1, pow(-0, 1/2) = +0, pow(-inf, 1/2) = +inf.
enum PowZeroOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { 1 }
}
enum PowOneOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a }
}
enum PowTwoOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a * a }
}
enum PowThreeOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { a * a * a }
}
enum PowMinusOneOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T { 1 / a }
}
enum PowHalfOp: ElementOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T) -> T {
        a == -T.infinity ? T.infinity : a.squareRoot() + 0
    }
}

/// A composition of two element functions: the inner one's result is the outer one's first
/// argument (`FuseFirst`) or second (`FuseSecond`). The inner one reads `a, b, c`; the
/// outer one's other argument is `d`. (Unused arguments are ignored by the table's math.)
protocol FusedOp: SendableMetatype {
    static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T
}
enum FuseFirst<Inner: ElementOp, Outer: ElementOp>: FusedOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T {
        Outer.apply(Inner.apply(a, b, c), d, 0)
    }
}
enum FuseSecond<Inner: ElementOp, Outer: ElementOp>: FusedOp {
    @inline(__always) static func apply<T: LossReal>(_ a: T, _ b: T, _ c: T, _ d: T) -> T {
        Outer.apply(d, Inner.apply(a, b, c), 0)
    }
}

enum ElementOps {
    /// The operators that fuse (the table's `fusable` column): a fused pair stays one tight loop.
    static func isFusable(_ op: Op) -> Bool { op.info.fusable }

    /// Calls `v` with the type of a fusable operator, or returns nil.
    static func fusable<V: ElementOpVisitor>(_ op: Op, _ v: V) -> V.Result? { op.withFusableElementFunction(v) }

    /// Calls `v` with the type of any elementwise operator (leaves and class-axis operators,
    /// which the scheduler never passes, get a function that traps).
    static func visit<V: ElementOpVisitor>(_ op: Op, _ v: V) -> V.Result { op.withElementFunction(v) }
}

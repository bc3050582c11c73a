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

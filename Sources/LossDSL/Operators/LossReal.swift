#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The floating-point types lossc evaluates in: `Float` and `Double`.
///
/// Every elementary function the operator table needs is a requirement here, so the
/// operator math (`Op.apply`) is written once, generically, and runs at either precision
/// with the platform's libm for that precision (float functions for `Float`).
public protocol LossReal: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func sqrt(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func erfc(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    /// Converts from the Double constants stored in the graph.
    init(_ d: Double)
}

extension Double: LossReal {
    public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    public static func expm1(_ x: Double) -> Double { Glibc.expm1(x) }
    public static func log(_ x: Double) -> Double { Glibc.log(x) }
    public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    public static func cosh(_ x: Double) -> Double { Glibc.cosh(x) }
    public static func sin(_ x: Double) -> Double { Glibc.sin(x) }
    public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
    public static func atan(_ x: Double) -> Double { Glibc.atan(x) }
    public static func erf(_ x: Double) -> Double { Glibc.erf(x) }
    public static func erfc(_ x: Double) -> Double { Glibc.erfc(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
}

extension Float: LossReal {
    public static func exp(_ x: Float) -> Float { expf(x) }
    public static func expm1(_ x: Float) -> Float { expm1f(x) }
    public static func log(_ x: Float) -> Float { logf(x) }
    public static func log1p(_ x: Float) -> Float { log1pf(x) }
    public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
    public static func tanh(_ x: Float) -> Float { tanhf(x) }
    public static func cosh(_ x: Float) -> Float { coshf(x) }
    public static func sin(_ x: Float) -> Float { sinf(x) }
    public static func cos(_ x: Float) -> Float { cosf(x) }
    public static func atan(_ x: Float) -> Float { atanf(x) }
    public static func erf(_ x: Float) -> Float { erff(x) }
    public static func erfc(_ x: Float) -> Float { erfcf(x) }
    public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

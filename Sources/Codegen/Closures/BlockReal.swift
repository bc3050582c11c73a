import CLossMath
import LossDSL

/// A block function of the `CLossMath` C target: `out[i] = f(in[i])` over a whole block,
/// branch-free and vectorized by the C compiler (a few ulps from the libm function).
///
/// Which operator uses which block function is read from the operator table: an operator
/// whose C spelling names one of these functions (`exp`, `log`, `log1p`, `expm1`, `tanh`,
/// and the `sigmoid`/`softplus` helpers) is computed with it.
public enum VectorFunction: String, CaseIterable, Sendable {
    /// `lossc_vexp[f]`, `lossc_vlog[f]`, … (the case name is the C function's stem).
    case exp, log, log1p, expm1, tanh, sigmoid, softplus

    /// The block function that computes an operator with this C spelling, if there is one.
    public init?(_ spelling: CSpelling) {
        switch spelling {
        case .libm(let name), .helper(let name): self.init(rawValue: name)
        case .infix, .prefix, .structural: return nil
        }
    }

    /// The block function of an operator, if it has one.
    public init?(op: Op) { self.init(op.info.cSpelling) }
}

/// The element types the closure backend compiles for: `Float` and `Double`.
///
/// Both conform; the requirement is the bridge to the C block functions of `CLossMath`
/// (`lossc_vexpf` for `Float`, `lossc_vexp` for `Double`, …).
public protocol BlockReal: LossReal {
    /// Computes `out[i] = f(input[i])` for `0 ..< count`. `out` must not overlap `input`
    /// partially; the closures never pass the same buffer twice.
    static func apply(_ f: VectorFunction, _ input: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ count: Int)
}

extension Float: BlockReal {
    @inline(__always)
    public static func apply(_ f: VectorFunction, _ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        switch f {
        case .exp: lossc_vexpf(input, out, count)
        case .log: lossc_vlogf(input, out, count)
        case .log1p: lossc_vlog1pf(input, out, count)
        case .expm1: lossc_vexpm1f(input, out, count)
        case .tanh: lossc_vtanhf(input, out, count)
        case .sigmoid: lossc_vsigmoidf(input, out, count)
        case .softplus: lossc_vsoftplusf(input, out, count)
        }
    }
}

extension Double: BlockReal {
    @inline(__always)
    public static func apply(_ f: VectorFunction, _ input: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ count: Int) {
        switch f {
        case .exp: lossc_vexp(input, out, count)
        case .log: lossc_vlog(input, out, count)
        case .log1p: lossc_vlog1p(input, out, count)
        case .expm1: lossc_vexpm1(input, out, count)
        case .tanh: lossc_vtanh(input, out, count)
        case .sigmoid: lossc_vsigmoid(input, out, count)
        case .softplus: lossc_vsoftplus(input, out, count)
        }
    }
}

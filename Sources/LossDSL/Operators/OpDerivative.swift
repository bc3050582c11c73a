/// Derivative rules: for each elementwise operator, its partial derivatives with respect to
/// each argument, as graph nodes built from the arguments `a, b, c` and the result `o`.
///
/// Forward mode (`Tangent`) and the reverse sweep (`ReverseSweep`) both read this table;
/// neither restates a derivative. `nil` means the partial is identically zero. The class-axis
/// operators, whose Jacobians are never materialized, have a forward/reverse pair instead
/// (`classAxisDerivative`, below).
extension Op {
    public func partials(_ args: NodeArgs, result o: NodeID, in g: inout Graph) -> [NodeID?] {
        let a = args.first ?? o
        func k(_ v: Double) -> NodeID { g.constant(v) }
        switch self {
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum:
            preconditionFailure("\(name) has a structural derivative rule (see classAxisDerivative)")
        case .neg: return [k(-1)]
        case .exp: return [o]
        case .log: return [g.apply(.div, k(1), a)]
        case .abs: return [g.apply(.sign, a)]
        case .sqrt: return [g.apply(.div, k(0.5), o)]
        case .softplus: return [g.apply(.sigmoid, a)]
        case .sigmoid:
            // sigma' = sigma * sigma(-a): no cancellation in 1 - sigma for large a.
            return [g.apply(.mul, o, g.apply(.sigmoid, g.apply(.neg, a)))]
        case .tanh:
            // 1 / cosh^2(a), not 1 - tanh^2(a): the latter loses every digit where tanh is near
            // +-1 (found by the differential test against dual numbers).
            let c = g.apply(.cosh, a)
            return [g.apply(.div, k(1), g.apply(.mul, c, c))]
        case .sin: return [g.apply(.cos, a)]
        case .cos: return [g.apply(.neg, g.apply(.sin, a))]
        case .relu: return [g.apply(.step, a)]
        case .scaledGD:
            // d/da = sech(pi a / 4) / 4.
            return [g.apply(.div, k(0.25), g.apply(.cosh, g.apply(.mul, k(Double.pi / 4), a)))]
        case .scaledALF:
            // d/da = (1 + (a/2)^2)^(-3/2) / 4.
            let h = g.apply(.mul, k(0.5), a)
            return [g.apply(.mul, k(0.25), g.apply(.pow, g.apply(.add, k(1), g.apply(.mul, h, h)), k(-1.5)))]
        case .scaledERF, .scaledERFC:
            // d/da scaled_erf = exp(-pi a^2 / 16) / 4; scaled_erfc is its mirror.
            let e = g.apply(.exp, g.apply(.mul, k(-Double.pi / 16), g.apply(.mul, a, a)))
            return [g.apply(.mul, k(self == .scaledERF ? 0.25 : -0.25), e)]
        case .add: return [k(1), k(1)]
        case .sub: return [k(1), k(-1)]
        case .mul: return [args[1], args[0]]
        case .div:
            let b = args[1]
            return [g.apply(.div, k(1), b), g.apply(.neg, g.apply(.div, o, b))]
        case .pow:
            let b = args[1]
            let da = g.apply(.mul, b, g.apply(.pow, a, g.apply(.sub, b, k(1))))
            if g[b].op == .constant || g[b].op == .param { return [da, nil] }
            return [da, g.apply(.mul, o, g.apply(.log, a))]
        case .log1p: return [g.apply(.div, k(1), g.apply(.add, k(1), a))]
        case .expm1: return [g.apply(.exp, a)]
        case .min:
            // At a tie the derivative goes to the first argument, so the two always sum to 1.
            let s = g.apply(.step, g.apply(.sub, a, args[1]))
            return [g.apply(.sub, k(1), s), s]
        case .max:
            let s = g.apply(.step, g.apply(.sub, args[1], a))
            return [g.apply(.sub, k(1), s), s]
        case .select:
            let s = g.apply(.step, a)
            return [nil, s, g.apply(.sub, k(1), s)]
        case .stopGradient, .sign, .step: return [nil]
        case .cosh:
            // sinh(a) = (e^a - e^-a)/2; overflows to the right infinity, never NaN.
            return [g.apply(.mul, k(0.5), g.apply(.sub, g.apply(.exp, a), g.apply(.exp, g.apply(.neg, a))))]
        }
    }
}

/// The derivative of a class-axis operator as a forward/reverse pair, applied through the
/// operator's structure (softmax's Jacobian is p * (v - dot(p, v)), never a C x C matrix).
/// A scalar-shaped tangent or adjoint of a class-vector node means the same value on every class.
public struct ClassAxisDerivative {
    /// The result's tangent from the arguments' tangents (nil where an argument has none;
    /// at least one has one). `id` is the node, `args` its arguments.
    public let forward: (_ g: inout Graph, _ id: NodeID, _ args: NodeArgs, _ tangents: [NodeID?]) -> NodeID
    /// Calls `accumulate(g, argument, contribution)` for each argument, given the result's adjoint.
    public let reverse: (_ g: inout Graph, _ id: NodeID, _ args: NodeArgs, _ adjoint: NodeID,
                         _ accumulate: (inout Graph, NodeID, NodeID) -> Void) -> Void
}

extension Op {
    /// The class-axis operators' derivative rules (nil for elementwise operators and leaves,
    /// whose rule is `partials`).
    public var classAxisDerivative: ClassAxisDerivative? {
        if shapeRule == .elementwise { return nil }
        switch self {
        case .softmax:
            // J v = p * (v - dot(p, v)), and J is symmetric.
            return ClassAxisDerivative(
                forward: { g, p, _, t in g.make(.mul, p, g.make(.sub, t[0]!, g.make(.dot, p, t[0]!))) },
                reverse: { g, p, x, v, acc in acc(&g, x[0], g.make(.mul, p, g.make(.sub, v, g.make(.dot, p, v)))) })
        case .logSoftmax:
            // J v = v - dot(p, v) (broadcast); J^T v = v - p * sum(v).
            return ClassAxisDerivative(
                forward: { g, _, x, t in g.make(.sub, t[0]!, g.make(.dot, g.make(.softmax, x[0]), t[0]!)) },
                reverse: { g, _, x, v, acc in
                    let p = g.make(.softmax, x[0])
                    acc(&g, x[0], g.make(.sub, v, g.make(.mul, p, g.make(.sum, v))))
                })
        case .sum:
            return ClassAxisDerivative(
                forward: { g, _, _, t in g.make(.sum, t[0]!) },
                reverse: { g, _, x, v, acc in acc(&g, x[0], v) })
        case .dot:
            return ClassAxisDerivative(
                forward: { g, _, x, t in
                    var terms: [NodeID] = []
                    if let t0 = t[0] { terms.append(g.make(.dot, t0, x[1])) }
                    if let t1 = t[1] { terms.append(g.make(.dot, x[0], t1)) }
                    return terms.count == 1 ? terms[0] : g.make(.add, terms[0], terms[1])
                },
                reverse: { g, _, x, v, acc in
                    acc(&g, x[0], g.make(.mul, v, x[1]))
                    acc(&g, x[1], g.make(.mul, v, x[0]))
                })
        default:
            preconditionFailure("\(name) needs a class-axis derivative rule")
        }
    }
}

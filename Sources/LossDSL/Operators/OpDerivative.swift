/// Derivative rules: for each elementwise operator, its partial derivatives with respect to
/// each argument, as graph nodes built from the arguments `a, b, c` and the result `o`.
///
/// Forward mode (`Tangent`) and the class-axis reverse sweep (`ReverseSweep`) both read this
/// table; neither restates a derivative. `nil` means the partial is identically zero.
extension Op {
    public func partials(_ args: NodeArgs, result o: NodeID, in g: inout Graph) -> [NodeID?] {
        let a = args.first ?? o
        func k(_ v: Double) -> NodeID { g.constant(v) }
        switch self {
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum:
            preconditionFailure("\(name) has a structural derivative rule (see Tangent)")
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

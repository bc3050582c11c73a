/// Where each operator is smooth: whether it is infinitely differentiable on the whole box its
/// arguments range over (domain hazards aside; those are `Op.hazards`).
///
/// A Taylor bound of a function over a box (the convergence proofs' sharper bound) is only valid
/// where every operator along the way is smooth: a kink (abs at 0, min where its arguments
/// cross) or a jump (step, sign, select) inside the box breaks it.
extension Op {
    /// Whether the operator is smooth wherever its arguments range over `x`.
    public func isSmooth(_ x: [Interval]) -> Bool {
        let a = x.first ?? .everything
        switch self {
        case .constant, .input, .param, .neg, .exp, .log, .sqrt, .softmax, .softplus, .sigmoid, .tanh, .sin, .cos,
             .scaledGD, .scaledALF, .scaledERF, .scaledERFC, .add, .sub, .mul, .div, .dot, .pow, .log1p, .expm1,
             .sum, .logSoftmax, .cosh:
            return true
        case .abs, .relu:
            // A kink at 0; smooth up to it from either side.
            return a.lo >= 0 || a.hi <= 0
        case .sign, .step:
            // A jump at 0 (the value at 0 belongs to neither side).
            return a.lo > 0 || a.hi < 0
        case .min, .max:
            // A kink where the arguments cross.
            return x[0].hi < x[1].lo || x[0].lo > x[1].hi
        case .select:
            // `a > 0` switches branches: a jump unless the condition is decided on the whole box.
            return a.lo > 0 || a.hi <= 0
        case .stopGradient:
            // Its derivative rule (0) is not the derivative of its value.
            return false
        }
    }
}

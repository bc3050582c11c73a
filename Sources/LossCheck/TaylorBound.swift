import LossDSL

/// A sharper bound of a function D of one variable t over an interval T, by Taylor's theorem:
/// D(t) = D(c) + D'(c)(t - c) + D''(ξ)(t - c)^2 / 2 for some ξ in T, so
/// D(T) ⊆ D(c) + D'(c)(T - c) + D''(T)(T - c)^2 / 2 with c the midpoint.
///
/// Plain interval bounds lose every correlation between the terms of a difference: A_reg's
/// derivative along disjoint boxes is 2H/e^2, computed as H/e - H(e - 2)/e^2, two terms about
/// H/e, and separating them needs boxes of relative width 1e-6. The Taylor form's error
/// shrinks with the square of the width, and its D(c), D'(c) are bounds at a point.
/// It is valid only where every operator is smooth over T (`Op.isSmooth`), so it is used
/// only there; elsewhere the plain bound stands.
struct TaylorBound: Sendable {
    let program: IntervalProgram
    /// The input index of t.
    let variable: Int

    /// `graph` holds D (`function`); t is input `variable` of it.
    init(graph: Graph, function: NodeID, variable: Int, params: [Double]) {
        var g = graph
        let t = g.input(variable, shape: .scalar)
        let d1 = Tangent.forward(&g, roots: [function], seeds: [t: g.constant(1)])[0]
        let d2 = Tangent.forward(&g, roots: [d1], seeds: [t: g.constant(1)])[0]
        let c = Canonicalize.run(g, roots: [function, d1, d2])
        let s = Stabilize.run(c.graph, roots: c.roots)
        program = IntervalProgram(graph: s.graph, roots: s.roots, params: params)
        self.variable = variable
    }

    /// A bound of D when t ranges over `inputs[variable]` (other inputs fixed), or nil where
    /// the form does not apply (a kink, jump or domain hazard inside, or a non-finite bound).
    func bound(_ inputs: [ClassInterval?]) -> Interval? {
        guard variable < inputs.count, let box = inputs[variable]?.t else { return nil }
        let whole = program.bounds(inputs)
        guard whole.clean, whole.smooth else { return nil }
        let c = box.mid
        var at = inputs
        at[variable] = ClassInterval(scalar: Interval(point: c))
        let point = program.bounds(at)
        guard point.clean else { return nil }
        let r = Op.sub.interval([box, Interval(point: c)])
        let r2 = Op.mul.interval([Interval(0, Swift.max(Swift.abs(r.lo), Swift.abs(r.hi))), Interval(0, Swift.max(Swift.abs(r.lo), Swift.abs(r.hi)))])
        let linear = Op.mul.interval([point.roots[1].t, r])
        let quadratic = Op.mul.interval([Op.mul.interval([whole.roots[2].t, r2]), Interval(point: 0.5)])
        let t = Op.add.interval([Op.add.interval([point.roots[0].t, linear]), quadratic])
        // Both bounds hold; keep their intersection.
        let plain = whole.roots[0].t
        return Interval(Swift.max(t.lo, plain.lo), Swift.min(t.hi, plain.hi))
    }
}

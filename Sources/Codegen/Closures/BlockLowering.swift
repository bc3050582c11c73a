import LossDSL

/// Rewrites an optimized loss graph into the form the closures run best, before scheduling.
///
/// - Params become constants (their values are fixed when a kernel is built), and operators on
///   constants are folded, in the element type (as the reference evaluator computes them).
/// - `sigmoid` and `softplus` of the same `a` or `-a` share one `exp(-|a|)` and one
///   `log1p(exp(-|a|))`: focal loss uses sigmoid(±x) and softplus(±x), four C calls with four
///   exps, which become one exp and one log1p. The expansion is the operator table's stable
///   math written with table operators — `sigmoid(a) = select(a, 1, E) / (1 + E)` and
///   `softplus(a) = relu(a) + log1p(E)`, `E = exp(-|a|)` — so it is bit-identical with
///   `Op.apply` (at a = ±0 both branches of the sigmoid give 1/2, and relu(-0) + L = L; the
///   libm-mode tests check it against the reference evaluator). Of `-a` they read `a` itself,
///   so `-a` is not computed (a pass over the block saved): `sigmoid(-a) = select(a, E, 1) /
///   (1 + E)` and `softplus(-a) = L - min(a, 0)`, the same bits (relu(-a) + L and L - a add the
///   same two numbers; at a = ±0 both give L; a NaN gives a NaN either way).
/// - In `MathMode.vectorized` only: `pow(a, e)` with e = 0, 1, 2, 3 or -1 becomes 1, a, a·a,
///   a·a·a or 1/a (within an ulp or two of libm's pow, not bit-identical).
enum BlockLowering {
    static func lower<T: LossReal>(_ c: CompiledLoss, roots: [NodeID], mode: MathMode, as _: T.Type) -> (graph: Graph, roots: [NodeID]) {
        let old = c.graph, params = c.formula.paramValues
        let live = old.reachable(from: roots)
        func base(_ id: NodeID) -> NodeID { old[id].op == .neg ? old[id].args[0] : id }

        // How many sigmoid/softplus nodes read each base value (through at most one neg).
        var users: [NodeID: Int] = [:]
        for i in 0..<old.count where live[i] && (old.nodes[i].op == .sigmoid || old.nodes[i].op == .softplus) {
            users[base(old.nodes[i].args[0]), default: 0] += 1
        }

        var g = Graph()
        var map = [NodeID](repeating: -1, count: old.count)
        var shared: [NodeID: (e: NodeID, l: NodeID?)] = [:]
        func expNegAbs(_ b: NodeID) -> NodeID {
            if let s = shared[b] { return s.e }
            let e = g.apply(.exp, g.apply(.neg, g.apply(.abs, map[Int(b)])))
            shared[b] = (e, nil)
            return e
        }
        func log1pOf(_ b: NodeID) -> NodeID {
            let e = expNegAbs(b)
            if let l = shared[b]?.l { return l }
            let l = g.apply(.log1p, e)
            shared[b] = (e, l)
            return l
        }

        for i in 0..<old.count where live[i] {
            let n = old.nodes[i]
            let args = n.args.map { map[Int($0)] }
            switch n.op {
            case .constant: map[i] = g.constant(n.constant)
            case .input: map[i] = g.input(Int(n.index), shape: c.kind.inputs[Int(n.index)].shape)
            case .param: map[i] = g.constant(params[Int(n.index)])
            case .sigmoid where users[base(n.args[0]), default: 0] >= 2:
                let b = base(n.args[0]), e = expNegAbs(b)
                let num = n.args[0] == b ? g.apply(.select, args[0], g.constant(1), e)
                                         : g.apply(.select, map[Int(b)], e, g.constant(1))
                map[i] = g.apply(.div, num, g.apply(.add, g.constant(1), e))
            case .softplus where users[base(n.args[0]), default: 0] >= 2:
                let b = base(n.args[0])
                map[i] = n.args[0] == b ? g.apply(.add, g.apply(.relu, args[0]), log1pOf(b))
                                        : g.apply(.sub, log1pOf(b), g.apply(.min, map[Int(b)], g.constant(0)))
            case .pow where mode == .vectorized:
                map[i] = power(&g, args[0], g.constantValue(args[1])) ?? g.apply(.pow, args)
            default:
                // Fold an elementwise operator on constants, in T as the evaluator would.
                let values = args.compactMap { g.constantValue($0) }
                if n.op.shapeRule == .elementwise, values.count == args.count {
                    let v = values.map { T($0) }
                    map[i] = g.constant(Double(n.op.apply(v[0], v.count > 1 ? v[1] : 0, v.count > 2 ? v[2] : 0)))
                } else {
                    map[i] = g.apply(n.op, args)
                }
            }
        }
        return (g, roots.map { map[Int($0)] })
    }

    /// `pow(a, e)` as multiplications, for the exponents where that is within an ulp or two.
    private static func power(_ g: inout Graph, _ a: NodeID, _ e: Double?) -> NodeID? {
        guard let e else { return nil }
        switch e {
        case 0: return g.constant(1)
        case 1: return a
        case 2: return g.apply(.mul, a, a)
        case 3: return g.apply(.mul, g.apply(.mul, a, a), a)
        case -1: return g.apply(.div, g.constant(1), a)
        default: return nil
        }
    }
}

/// Canonicalization: constant folding and algebraic identities that are exact in IEEE
/// arithmetic (so the optimized graph computes bit-identical results), plus a canonical
/// argument order for commutative operators.
///
/// `Graph.canonical(_:_:)` applies the rules while a node is created; every pass that
/// builds nodes (stabilize, autodiff, the box front end) goes through it, so no pass leaves
/// `x * 1` or `--x` behind.
public enum Canonicalize {
    /// The rules, for `lossc dump` and README. Each is exact in IEEE-754 arithmetic.
    public static let rules: [(name: String, rule: String)] = [
        ("fold", "an elementwise op of constants -> its value (when finite)"),
        ("double-negation", "-(-a) -> a"),
        ("negated-addend", "a + (-b) -> a - b;  (-a) + b -> b - a;  a - (-b) -> a + b"),
        ("negation-out", "(-a) * b -> -(a * b);  (-a) / b, a / (-b) -> -(a / b)"),
        ("unit", "1 * a -> a;  a / 1 -> a;  a - 0 -> a;  a ^ 1 -> a;  -1 * a -> -a;  a / -1 -> -a"),
        ("stop-gradient", "stop_gradient(constant) -> constant;  stop_gradient(stop_gradient(a)) -> stop_gradient(a)"),
        ("commutative-order", "a + b, a * b, min, max, dot: arguments sorted by structural key"),
    ]

    /// Rebuilds the live part of a graph in canonical form.
    public static func run(_ g: Graph, roots: [NodeID], origins: SourceOrigins = [:])
        -> (graph: Graph, roots: [NodeID], origins: SourceOrigins) {
        GraphRewriter.rebuild(g, roots: roots, origins: origins) { graph, node in
            graph.canonical(node.op, node.args)
        }
    }
}

extension Graph {
    /// Adds `op(args)` in canonical form (see `Canonicalize.rules`).
    public mutating func canonical(_ op: Op, _ args: [NodeID]) -> NodeID { canonical(op, NodeArgs(args)) }

    /// Adds `op(args)` in canonical form (see `Canonicalize.rules`).
    public mutating func canonical(_ op: Op, _ args: NodeArgs) -> NodeID {
        var args = args
        // The constant arguments, in locals: this runs for every node of every pass.
        let n = args.count
        let c0 = n > 0 ? constantValue(args[0]) : nil, c1 = n > 1 ? constantValue(args[1]) : nil
        let c2 = n > 2 ? constantValue(args[2]) : nil
        // fold
        if op.shapeRule == .elementwise, n > 0, c0 != nil, n < 2 || c1 != nil, n < 3 || c2 != nil {
            let v = op.apply(c0!, c1 ?? 0, c2 ?? 0)
            if v.isFinite { return constant(v) }
        }
        func isNeg(_ i: Int) -> NodeID? { self.op(args[i]) == .neg ? self[args[i]].args[0] : nil }
        switch op {
        case .neg:
            if let a = isNeg(0) { return a }
        case .add:
            if let b = isNeg(1) { return canonical(.sub, [args[0], b]) }
            if let a = isNeg(0) { return canonical(.sub, [args[1], a]) }
        case .sub:
            if let b = isNeg(1) { return canonical(.add, [args[0], b]) }
            if c1 == 0 { return args[0] }
        case .mul:
            if c0 == 1 { return args[1] }
            if c1 == 1 { return args[0] }
            if c0 == -1 { return canonical(.neg, [args[1]]) }
            if c1 == -1 { return canonical(.neg, [args[0]]) }
            if let a = isNeg(0) { return canonical(.neg, [canonical(.mul, [a, args[1]])]) }
            if let b = isNeg(1) { return canonical(.neg, [canonical(.mul, [args[0], b])]) }
        case .div:
            if c1 == 1 { return args[0] }
            if c1 == -1 { return canonical(.neg, [args[0]]) }
            if let a = isNeg(0) { return canonical(.neg, [canonical(.div, [a, args[1]])]) }
            if let b = isNeg(1) { return canonical(.neg, [canonical(.div, [args[0], b])]) }
        case .pow:
            if c1 == 1 { return args[0] }
        case .stopGradient:
            if c0 != nil || self.op(args[0]) == .stopGradient { return args[0] }
        default: break
        }
        if op.isCommutative, args.count == 2 {
            let ka = keys[Int(args[0])], kb = keys[Int(args[1])]
            if kb < ka || (kb == ka && args[1] < args[0]) { args.swapAt(0, 1) }
        }
        return apply(op, args)
    }

    /// `canonical` for literal argument lists.
    public mutating func make(_ op: Op, _ args: NodeID...) -> NodeID { canonical(op, args) }
}

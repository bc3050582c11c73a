/// Forward-mode automatic differentiation on the graph: each node's tangent is a new node
/// built from the operator table's derivative rule (`Op.partials`), so a derivative is
/// itself a graph that goes through the same passes and backends.
///
/// Class-axis operators use the forward half of their `Op.classAxisDerivative`. A scalar-shaped
/// tangent of a class-vector node means "the same value on every class" (broadcast), which the
/// class-axis operators accept.
public enum Tangent {
    /// Adds to `g` the derivative of each root along the direction given by `seeds`
    /// (the tangent of each seeded leaf; every other leaf has tangent 0).
    /// Returns one tangent node per root (the constant 0 where a root does not depend on a seed).
    public static func forward(_ g: inout Graph, roots: [NodeID], seeds: [NodeID: NodeID]) -> [NodeID] {
        let count = g.count
        let live = g.reachable(from: roots)
        var t = [NodeID?](repeating: nil, count: count)
        for i in 0..<count where live[i] {
            let id = NodeID(i)
            let node = g[id]
            if node.op.isLeaf { t[i] = seeds[id]; continue }
            let ta = node.args.map { t[Int($0)] }
            if ta.allSatisfy({ $0 == nil }) { continue }
            t[i] = jvp(&g, id, node, ta)
        }
        return roots.map { t[Int($0)] ?? g.constant(0) }
    }

    /// The tangent of one node given its arguments' tangents.
    static func jvp(_ g: inout Graph, _ id: NodeID, _ node: Node, _ ta: [NodeID?]) -> NodeID? {
        if let rule = node.op.classAxisDerivative { return rule.forward(&g, id, node.args, ta) }
        // The caller skips nodes whose arguments all have no tangent.
        let p = node.op.partials(node.args, result: id, in: &g)
        var total: NodeID?
        for k in node.args.indices {
            guard let tk = ta[k], let pk = p[k] else { continue }
            let term = g.make(.mul, pk, tk)
            total = total.map { g.make(.add, $0, term) } ?? term
        }
        return total
    }
}

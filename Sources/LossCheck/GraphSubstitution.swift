import LossDSL

/// Replaces input leaves of a graph by constants or by expressions, rebuilding through
/// `Graph.canonical` so constants fold (exactly, in IEEE arithmetic).
///
/// The convergence proofs use it to specialize a loss to one case (y = 1, w = 1) before
/// bounding it, which removes terms that only the other case uses, and to express a box loss's
/// inputs i, u, e as functions of the parameter of a family of boxes.
public enum GraphSubstitution {
    /// Index of the first proof variable: inputs at or above it are parameters of a proof
    /// (a family's t, or the relational coordinates of (i, u, e)), not inputs of the kind.
    public static let variableBase: Int32 = 64

    /// Rebuilds the part of `g` live from `roots`. `replace(index, &graph)` returns the node
    /// that stands for input `index` in the new graph, or nil to keep the input. It is called
    /// once per input index. With `params`, params become constants too, so expressions of
    /// params fold (an interval bound of `beta - 1` is wider than the constant 1).
    public static func substitute(_ g: Graph, roots: [NodeID], params: [Double]? = nil,
                                  _ replace: (Int32, inout Graph) -> NodeID?) -> (graph: Graph, roots: [NodeID]) {
        var memo: [Int32: NodeID?] = [:]
        let r = GraphRewriter.rebuild(g, roots: roots) { graph, node in
            graph.canonical(node.op, node.args)
        } leaf: { graph, node in
            if node.op == .param, let params { return graph.constant(params[Int(node.index)]) }
            guard node.op == .input else { return nil }
            if let m = memo[node.index] { return m }
            let v = replace(node.index, &graph)
            memo[node.index] = v
            return v
        }
        return (r.graph, r.roots)
    }

    /// Binds inputs to constants (`values[index]`) and, with `params`, params too.
    public static func bind(_ g: Graph, roots: [NodeID], params: [Double]? = nil, _ values: [Int32: Double]) -> (graph: Graph, roots: [NodeID]) {
        substitute(g, roots: roots, params: params) { index, graph in values[index].map { graph.constant($0) } }
    }

    /// A proof variable (a scalar input numbered from `variableBase`).
    public static func variable(_ k: Int, in g: inout Graph) -> NodeID {
        g.input(Int(variableBase) + k, shape: .scalar)
    }
}

/// Reverse-mode differentiation over the graph (adjoints as graph nodes), used where forward
/// mode would cost O(C^2): the gradient of a multiclass loss with respect to all C logits.
/// It reads the same derivative table as `Tangent` (`partials`, and the reverse half of
/// `Op.classAxisDerivative`), so softmax's Jacobian is applied through its structure, never
/// materialized.
public enum ReverseSweep {
    /// Adds to `g` the gradient of `root` with respect to each node in `wrt`.
    /// A scalar-shaped gradient of a class-vector node means the same value on every class.
    public static func gradient(_ g: inout Graph, root: NodeID, wrt: [NodeID]) -> [NodeID] {
        let count = g.count
        let live = g.reachable(from: [root])
        var adj = [NodeID?](repeating: nil, count: count)
        adj[Int(root)] = g.constant(1)

        var from = Shape.scalar
        func accumulate(_ g: inout Graph, _ target: NodeID, _ contribution: NodeID) {
            var c = contribution
            // A scalar argument used in a class-vector operation collects the sum over classes
            // (sum of a scalar-shaped, i.e. broadcast, value is C times it).
            if g.shape(target) == .scalar, g.shape(c) == .classVector || from == .classVector { c = g.make(.sum, c) }
            adj[Int(target)] = adj[Int(target)].map { g.make(.add, $0, c) } ?? c
        }

        var i = Int(root)
        while i >= 0 {
            defer { i -= 1 }
            guard live[i], let ai = adj[i] else { continue }
            let id = NodeID(i)
            let node = g[id]
            if node.op.isLeaf { continue }
            from = g.shape(id)
            if let rule = node.op.classAxisDerivative {
                rule.reverse(&g, id, node.args, ai, accumulate)
                continue
            }
            let p = node.op.partials(node.args, result: id, in: &g)
            for (k, arg) in node.args.enumerated() {
                guard let pk = p[k] else { continue }
                accumulate(&g, arg, g.make(.mul, pk, ai))
            }
        }
        return wrt.map { Int($0) < count ? (adj[Int($0)] ?? g.constant(0)) : g.constant(0) }
    }
}

/// For `box` losses: computes the intersection i, union u and enclosing area e from the
/// predicted box (x1, y1, x2, y2) and the target box (tx1, ty1, tx2, ty2), as the published
/// code does (`bbox_overlaps`: widths clamped at 0, +1e-7 on u and e), so the gradient can
/// be taken with respect to the predicted box's coordinates.
public enum BoxFrontEnd {
    /// The published epsilon added to the union and the enclosing area.
    public static let epsilon = 1e-7

    /// Replaces the i, u, e inputs of a box graph by their expressions in the box coordinates.
    public static func expand(_ g: Graph, roots: [NodeID], origins: SourceOrigins = [:])
        -> (graph: Graph, roots: [NodeID], origins: SourceOrigins) {
        var iue: (NodeID, NodeID, NodeID)?
        return GraphRewriter.rebuild(g, roots: roots, origins: origins) { graph, node in
            graph.canonical(node.op, node.args)
        } leaf: { graph, node in
            guard node.op == .input, node.index <= 2 else { return nil }
            if iue == nil { iue = build(&graph) }
            return [iue!.0, iue!.1, iue!.2][Int(node.index)]
        }
    }

    static func build(_ g: inout Graph) -> (NodeID, NodeID, NodeID) {
        let c = (3...10).map { g.input($0, shape: .scalar) }
        let (x1, y1, x2, y2, tx1, ty1, tx2, ty2) = (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7])
        func side(_ a1: NodeID, _ a2: NodeID, _ b1: NodeID, _ b2: NodeID) -> NodeID {
            g.make(.relu, g.make(.sub, g.make(.min, a2, b2), g.make(.max, a1, b1)))
        }
        let i = g.make(.mul, side(x1, x2, tx1, tx2), side(y1, y2, ty1, ty2))
        let ap = g.make(.mul, g.make(.sub, x2, x1), g.make(.sub, y2, y1))
        let at = g.make(.mul, g.make(.sub, tx2, tx1), g.make(.sub, ty2, ty1))
        let u = g.make(.add, g.make(.sub, g.make(.add, ap, at), i), g.constant(epsilon))
        let ew = g.make(.relu, g.make(.sub, g.make(.max, x2, tx2), g.make(.min, x1, tx1)))
        let eh = g.make(.relu, g.make(.sub, g.make(.max, y2, ty2), g.make(.min, y1, ty1)))
        let e = g.make(.add, g.make(.mul, ew, eh), g.constant(epsilon))
        return (i, u, e)
    }
}

/// Builds a new graph from the live part of an old one, node by node in topological order,
/// letting a pass replace each node. Linear in the number of live nodes.
public struct GraphRewriter {
    public private(set) var graph = Graph()
    /// Old node id -> new node id (-1 for dead nodes).
    public private(set) var map: [NodeID]
    public private(set) var origins: SourceOrigins = [:]

    /// Rebuilds the nodes of `old` reachable from `roots`. For each node, `rewrite` receives
    /// the new graph and the node with its arguments already rebuilt, and returns its
    /// replacement (typically `graph.add(node)` or something simpler).
    public static func rebuild(_ old: Graph, roots: [NodeID], origins: SourceOrigins = [:],
                               _ rewrite: (inout Graph, Node) -> NodeID,
                               leaf: (inout Graph, Node) -> NodeID? = { _, _ in nil })
        -> (graph: Graph, roots: [NodeID], origins: SourceOrigins) {
        var r = GraphRewriter(graph: Graph(reservingCapacity: old.count), map: [NodeID](repeating: -1, count: old.count))
        r.origins.reserveCapacity(old.count)
        let live = old.reachable(from: roots)
        for i in 0..<old.count where live[i] {
            let n = old.nodes[i]
            let mapped = Node(op: n.op, args: n.args.remapped { r.map[Int($0)] }, value: n.constant, index: n.index)
            let id: NodeID
            if n.op.isLeaf {
                id = leaf(&r.graph, mapped) ?? r.graph.add(mapped, shape: old.shapes[i])
            } else {
                id = rewrite(&r.graph, mapped)
            }
            r.map[i] = id
            if let o = origins[NodeID(i)], r.origins[id] == nil { r.origins[id] = o }
        }
        return (r.graph, roots.map { r.map[Int($0)] }, r.origins)
    }
}

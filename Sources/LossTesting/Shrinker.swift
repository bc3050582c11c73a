import LossDSL

/// Greedy test-case reduction for formulas: the smallest formula, reachable by replacing
/// operators with one of their arguments, on which a failure persists.
///
/// The differential tests use it to turn a random formula that exposed a disagreement into a
/// regression test a person can read; anyone reporting a miscompilation can use it the same way.
/// Each step replaces one operator node by an argument of the same shape and keeps the result
/// when `stillFails` holds for it (re-parsed from its printed source, so the result is exactly
/// what the printed regression file will contain); it stops when no replacement keeps the
/// failure. Cost: at most (live nodes)² calls of `stillFails`, in practice a few dozen.
public enum Shrinker {
    public static func shrink(_ f: Formula, stillFails: (Formula) -> Bool) -> Formula {
        var best = f
        var bestSize = f.graph.liveCount(from: [f.root])
        var progress = true
        while progress {
            progress = false
            let g = best.graph
            let live = g.reachable(from: [best.root])
            search: for id in (0..<g.count).reversed() where live[id] && !g.nodes[id].op.isLeaf {
                for arg in g.nodes[id].args where g.shape(arg) == g.shapes[id] {
                    guard let candidate = replacing(NodeID(id), by: arg, in: best) else { continue }
                    let size = candidate.graph.liveCount(from: [candidate.root])
                    if size < bestSize, stillFails(candidate) {
                        best = candidate
                        bestSize = size
                        progress = true
                        break search
                    }
                }
            }
        }
        return best
    }

    /// `f` with node `id` replaced by `arg`, printed and parsed back; nil when the result is not
    /// a valid formula (its root no longer a scalar, say).
    static func replacing(_ id: NodeID, by arg: NodeID, in f: Formula) -> Formula? {
        let g = f.graph
        let live = g.reachable(from: [f.root])
        var h = Graph()
        var map = [NodeID](repeating: -1, count: g.count)
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            if i == Int(id) { map[i] = map[Int(arg)]; continue }
            map[i] = n.op.isLeaf ? h.add(n, shape: g.shapes[i]) : h.apply(n.op, n.args.map { map[Int($0)] })
        }
        let root = map[Int(f.root)]
        return Formula(name: "shrunk", kind: f.kind, params: f.params, graph: h, root: root)
    }
}

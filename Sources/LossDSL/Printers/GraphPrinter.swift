/// Prints a graph as numbered instructions, one live node per line, for `lossc dump`:
///
///     %3 = sigmoid %0                 : scalar
///     %4 = log %3                     : scalar
///     loss = %4
public enum GraphPrinter {
    public static func dump(_ g: Graph, roots: [NodeID], rootNames: [String], kind: LossKind, params: [ParamInfo]) -> String {
        let live = g.reachable(from: roots)
        var out = ""
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            let rhs: String
            switch n.op {
            case .constant: rhs = "const \(formatNumber(n.constant))"
            case .input: rhs = "input \(kind.inputs[Int(n.index)].name)"
            case .param:
                let p = params.indices.contains(Int(n.index)) ? params[Int(n.index)] : nil
                rhs = "param \(p?.name ?? "#\(n.index)") = \(p.map { formatNumber($0.value) } ?? "?")"
            default: rhs = n.op.name + " " + n.args.map { "%\($0)" }.joined(separator: ", ")
            }
            let line = "%\(i) = \(rhs)"
            out += line + String(repeating: " ", count: max(1, 40 - line.count)) + ": \(g.shapes[i].rawValue)\n"
        }
        for (r, name) in zip(roots, rootNames) { out += "\(name) = %\(r)\n" }
        return out
    }

    /// A canonical text of the formula under `root`, independent of node numbering: nodes
    /// are numbered in the order a depth-first walk from the root first meets them. Two
    /// canonicalized graphs compute the same formula exactly when these texts are equal.
    public static func canonicalText(_ g: Graph, root: NodeID) -> String {
        var number: [NodeID: Int] = [:]
        var lines: [String] = []
        // Iterative post-order walk (graphs can be deep).
        var stack: [(NodeID, Bool)] = [(root, false)]
        while let (id, expanded) = stack.popLast() {
            if number[id] != nil { continue }
            let n = g[id]
            if !expanded {
                stack.append((id, true))
                for a in n.args.reversed() where number[a] == nil { stack.append((a, false)) }
                continue
            }
            let k = lines.count
            number[id] = k
            switch n.op {
            case .constant: lines.append("\(k) const \(n.bits)")
            case .input, .param: lines.append("\(k) \(n.op.name) \(n.index)")
            default: lines.append("\(k) \(n.op.name) " + n.args.map { String(number[$0]!) }.joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n")
    }
}

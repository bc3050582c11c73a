/// Prints a graph in Graphviz dot: one box per live node, an edge from each argument to its
/// user, shared nodes (used more than once: what hash-consing saved) filled, roots doubled.
public enum DotPrinter {
    public static func dot(_ g: Graph, roots: [NodeID], rootNames: [String], kind: LossKind, params: [ParamInfo],
                           title: String) -> String {
        let live = g.reachable(from: roots)
        var uses = [Int](repeating: 0, count: g.count)
        for i in 0..<g.count where live[i] { for a in g.nodes[i].args { uses[Int(a)] += 1 } }
        var out = "digraph \(quoted(title)) {\n"
        out += "  graph [rankdir=BT, fontname=\"Helvetica\", label=\(quoted(title)), labelloc=t];\n"
        out += "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
        out += "  edge [arrowsize=0.6];\n"
        let rootName = Dictionary(zip(roots, rootNames), uniquingKeysWith: { a, b in a + ", " + b })
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            var label: String
            switch n.op {
            case .constant: label = formatNumber(n.constant)
            case .input: label = kind.inputs[Int(n.index)].name
            case .param: label = params.indices.contains(Int(n.index)) ? params[Int(n.index)].name : "param"
            default: label = n.op.name
            }
            if g.shapes[i] == .classVector { label += " [C]" }
            var attrs = ["label=\(quoted(label))"]
            if n.op.isLeaf { attrs.append("shape=ellipse") }
            if uses[i] > 1 { attrs.append("style=\"rounded,filled\""); attrs.append("fillcolor=\"#fde68a\"") }
            if let r = rootName[NodeID(i)] {
                attrs.append("peripheries=2")
                attrs.append("xlabel=\(quoted(r))")
            }
            out += "  n\(i) [\(attrs.joined(separator: ", "))];\n"
        }
        for i in 0..<g.count where live[i] {
            for (k, a) in g.nodes[i].args.enumerated() {
                let ordered = g.nodes[i].args.count > 1 && !g.nodes[i].op.isCommutative
                out += "  n\(a) -> n\(i)" + (ordered ? " [taillabel=\"\(k + 1)\", labelfontsize=8]" : "") + ";\n"
            }
        }
        return out + "}\n"
    }

    /// A dot string literal: quotes and backslashes escaped, control characters dropped.
    static func quoted(_ s: String) -> String {
        var o = "\""
        for u in s.unicodeScalars {
            if u == "\"" || u == "\\" { o += "\\" + String(u) } else if u.value >= 0x20 { o.unicodeScalars.append(u) }
        }
        return o + "\""
    }
}

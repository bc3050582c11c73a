/// The "protected" evaluation of CSE-Autoloss's published search code, as an option:
/// log(a) -> log(a + 1e-20), a / b -> a / (b + 1e-20), exp(a) -> exp(min(a, 88)).
/// Not the default meaning of a formula (it changes values); `--protected` turns it on.
public enum Protect {
    public static let epsilon = 1e-20
    public static let expLimit = 88.0

    public static func run(_ g: Graph, roots: [NodeID], origins: SourceOrigins = [:])
        -> (graph: Graph, roots: [NodeID], origins: SourceOrigins) {
        GraphRewriter.rebuild(g, roots: roots, origins: origins) { graph, node in
            switch node.op {
            case .log:
                return graph.apply(.log, graph.apply(.add, node.args[0], graph.constant(epsilon)))
            case .div:
                return graph.apply(.div, node.args[0], graph.apply(.add, node.args[1], graph.constant(epsilon)))
            case .exp:
                return graph.apply(.exp, graph.apply(.min, node.args[0], graph.constant(expLimit)))
            default:
                return graph.add(node)
            }
        }
    }
}

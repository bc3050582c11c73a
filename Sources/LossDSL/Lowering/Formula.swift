/// A parsed, name-resolved, shape-checked loss: its graph before any optimization.
public struct Formula: Sendable {
    public var name: String
    public var kind: LossKind
    public var params: [ParamInfo]
    public var graph: Graph
    public var root: NodeID
    /// Where each node was first written in the source (for diagnostics on later passes).
    public var origins: SourceOrigins
    public var file: SourceFile
    /// Warnings found while lowering (unused bindings, …).
    public var warnings: [Diagnostic]

    /// The current value of each param, in param-index order.
    public var paramValues: [Double] { params.map(\.value) }

    /// Parses and lowers a loss file. `params` overrides the file's defaults by name.
    public static func parse(_ file: SourceFile, params: [String: Double] = [:]) throws(DiagnosticError) -> Formula {
        let ast: LossFile
        switch Parser.parse(file) {
        case .success(let f): ast = f
        case .failure(let e): throw e
        }
        return try Lowering.lower(ast, file: file, overrides: params)
    }

    /// Parses loss source text (`path` is the name diagnostics print).
    public static func parse(_ text: String, path: String = "<string>", params: [String: Double] = [:]) throws(DiagnosticError) -> Formula {
        try parse(SourceFile(path: path, text: text), params: params)
    }

    /// Whether every operator used is one of the 21 of CSE-Autoloss's search space
    /// (constants, inputs and params aside).
    public var isInSearchSpace: Bool { outsideSearchSpace.isEmpty }

    /// The operators used that are not in the search space.
    public var outsideSearchSpace: [Op] {
        let live = graph.reachable(from: [root])
        var seen = Set<Op>()
        for i in 0..<graph.count where live[i] {
            let f = graph.nodes[i].op.info.family
            if f == .extra || f == .helper { seen.insert(graph.nodes[i].op) }
        }
        return seen.sorted { $0.info.id < $1.info.id }
    }
}

extension Formula {
    /// A formula from a graph built in code (a search candidate, a random or shrunk formula),
    /// without printing and reparsing it: the live part of `graph` under `root`, in the same
    /// topological order. `file` holds the printed source, for display only; `origins` is empty.
    /// Nil when the root is not one value per sample (a class vector), which `parse` rejects too.
    public init?(name: String, kind: LossKind, params: [ParamInfo] = [], graph g: Graph, root: NodeID) {
        guard g.shape(root) == .scalar else { return nil }
        let live = GraphRewriter.rebuild(g, roots: [root]) { graph, node in graph.add(node) }
        self.name = name
        self.kind = kind
        self.params = params
        graph = live.graph
        self.root = live.roots[0]
        origins = [:]
        file = SourceFile(path: "<\(name)>", text: SourcePrinter.source(name: name, kind: kind, params: params, graph: live.graph, root: self.root))
        warnings = []
    }
}

/// A `param` of a formula.
public struct ParamInfo: Sendable, Equatable {
    public let name: String
    /// The file's default.
    public let defaultValue: Double
    /// The value in force (the default unless overridden).
    public var value: Double
    public let span: SourceSpan
}

/// Options for `CompiledLoss.compile`.
public struct CompileOptions: Sendable {
    /// CSE-Autoloss's protected evaluation (see `Protect`); off by default.
    public var protected: Bool
    /// Run the stabilize rewrites (on by default; off only to study their effect).
    public var stabilize: Bool
    /// Keep the graph after each pass in `CompiledLoss.stages` (for `lossc dump` and
    /// `lossc graph`); off by default, so each pass's graph is freed as the next is built.
    public var keepStages: Bool
    public init(protected: Bool = false, stabilize: Bool = true, keepStages: Bool = false) {
        self.protected = protected; self.stabilize = stabilize; self.keepStages = keepStages
    }
}

/// A snapshot of the graph after one pass, for `lossc dump`.
public struct PassSnapshot: Sendable {
    public let name: String
    public let graph: Graph
    public let roots: [NodeID]
    public let rootNames: [String]
    /// Where each node came from in the source.
    public let origins: SourceOrigins
}

/// A loss compiled to an optimized graph holding its value and its gradient.
///
/// The pipeline: lower -> (protect) -> canonicalize -> stabilize -> (box front end) ->
/// differentiate -> canonicalize + stabilize the value and gradient together.
public struct CompiledLoss: Sendable {
    public let formula: Formula
    public let graph: Graph
    /// The per-sample loss.
    public let value: NodeID
    /// The gradient, one node per differentiated input: `d_x` for binary, the class vector
    /// `d_x` for multiclass, `d_x1, d_y1, d_x2, d_y2` for box.
    public let gradient: [NodeID]
    /// Names of the gradient outputs (`d_x`, `d_x1`, …).
    public let gradientNames: [String]
    public let origins: SourceOrigins
    /// The graph after each pass (empty unless `CompileOptions.keepStages`).
    public let stages: [PassSnapshot]
    /// The formula-level graph after canonicalize and stabilize (inputs i, u, e for box).
    public let optimizedFormula: PassSnapshot
    public let options: CompileOptions

    public var kind: LossKind { formula.kind }

    public static func compile(_ formula: Formula, options: CompileOptions = CompileOptions()) -> CompiledLoss {
        var stages: [PassSnapshot] = []
        var g = formula.graph, roots = [formula.root], origins = formula.origins
        func snap(_ name: String, _ names: [String] = ["loss"]) {
            guard options.keepStages else { return }
            stages.append(PassSnapshot(name: name, graph: g, roots: roots, rootNames: names, origins: origins))
        }
        snap("lowered")
        if options.protected { (g, roots, origins) = Protect.run(g, roots: roots, origins: origins); snap("protected") }
        (g, roots, origins) = Canonicalize.run(g, roots: roots, origins: origins); snap("canonicalized")
        if options.stabilize { (g, roots, origins) = Stabilize.run(g, roots: roots, origins: origins); snap("stabilized") }
        let optimizedFormula = PassSnapshot(name: options.stabilize ? "stabilized" : "canonicalized", graph: g, roots: roots,
                                            rootNames: ["loss"], origins: origins)

        let kind = formula.kind
        if kind == .box { (g, roots, origins) = BoxFrontEnd.expand(g, roots: roots, origins: origins); snap("box front end") }

        let inputs = kind.inputs
        let diffIndices = inputs.indices.filter { inputs[$0].differentiated }
        let names = kind == .multiclass ? ["d_x"] : diffIndices.map { "d_" + inputs[$0].name }
        let value = roots[0]
        var grads: [NodeID]
        switch kind {
        case .multiclass:
            let x = g.input(0, shape: .classVector)
            grads = ReverseSweep.gradient(&g, root: value, wrt: [x])
        default:
            grads = diffIndices.map { idx in
                let leaf = g.input(idx, shape: inputs[idx].shape)
                return Tangent.forward(&g, roots: [value], seeds: [leaf: g.constant(1)])[0]
            }
        }
        roots = [value] + grads
        snap("differentiated", ["loss"] + names)
        (g, roots, origins) = Canonicalize.run(g, roots: roots, origins: origins)
        if options.stabilize { (g, roots, origins) = Stabilize.run(g, roots: roots, origins: origins) }
        snap("optimized", ["loss"] + names)
        return CompiledLoss(formula: formula, graph: g, value: roots[0], gradient: Array(roots.dropFirst()),
                            gradientNames: names, origins: origins, stages: stages,
                            optimizedFormula: optimizedFormula, options: options)
    }
}

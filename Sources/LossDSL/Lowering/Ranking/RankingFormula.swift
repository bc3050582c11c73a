/// A parsed `ranking` loss: the formula graph (leaves: `RankingInput`s and slots), its batch
/// constructs (`slots`) and its curves.
///
///     let f = try RankingFormula.parse(source, path: "ap_loss.loss", params: ["delta": 0.5])
///     let r = RankingReference<Double>(f).evaluate(RankingBatch(s: s, y: y, u: u))
///     print(r.loss, r.ds)
public struct RankingFormula: Sendable {
    /// Name, params, graph, value root, source file and warnings. The graph's input indices
    /// are `RankingInput` raw values and slots (`RankingInput.slotIndex`), not `kind.inputs`.
    public let formula: Formula
    /// The batch constructs, in the order they were written (a slot's argument only uses
    /// earlier slots).
    public let slots: [RankingSlot]
    /// The curves in force (overrides applied), in declaration order.
    public let curves: [Curve]

    /// The loss's name, params (values in force) and graph.
    public var name: String { formula.name }
    public var params: [ParamInfo] { formula.params }
    public var graph: Graph { formula.graph }
    /// The loss of the batch.
    public var root: NodeID { formula.root }

    /// Parses and lowers a ranking loss file. `params` overrides params by name, `curves`
    /// replaces the points of curves by name.
    public static func parse(_ file: SourceFile, params: [String: Double] = [:],
                             curves: [String: [CurvePoint]] = [:]) throws(DiagnosticError) -> RankingFormula {
        let ast: LossFile
        switch Parser.parse(file) {
        case .success(let f): ast = f
        case .failure(let e): throw e
        }
        guard ast.kind == .ranking else {
            throw DiagnosticError(file: file, diagnostics: [Diagnostic("not-ranking", at: ast.kindSpan,
                "this is a \(ast.kind.rawValue) loss, not a ranking loss", hint: "parse it with Formula.parse")])
        }
        let (formula, state) = try Lowering.lowerWithState(ast, file: file, overrides: params, curves: curves, allowRanking: true)
        return RankingFormula(formula: formula, slots: state.ranking.slots, curves: state.curveOrder.compactMap { state.curves[$0]?.curve })
    }

    /// Parses loss source text (`path` is the name diagnostics print).
    public static func parse(_ text: String, path: String = "<string>", params: [String: Double] = [:],
                             curves: [String: [CurvePoint]] = [:]) throws(DiagnosticError) -> RankingFormula {
        try parse(SourceFile(path: path, text: text), params: params, curves: curves)
    }

    /// Whether a file's header declares a ranking loss (nil when it does not parse).
    public static func isRanking(_ file: SourceFile) -> Bool? {
        guard case .success(let ast) = Parser.parse(file) else { return nil }
        return ast.kind == .ranking
    }

    /// The graph input index of a slot.
    public func slotInput(_ k: Int) -> Int { RankingInput.slotIndex(k) }
}

/// The partial derivatives the ranking evaluators need, as nodes of one graph built with the
/// core reverse sweep (so the derivative rules are the operator table's): for the loss and for
/// each slot's argument, the partials with respect to the leaves that vary at its level.
public struct RankingDerivatives: Sendable {
    /// Partials of one node: `leaves[k]` (a graph input index) has derivative `nodes[k]`.
    /// Leaves with an identically zero partial are left out.
    public struct Partials: Sendable {
        /// Graph input indices, and the node of each one's partial derivative.
        public var leaves: [Int] = []
        public var nodes: [NodeID] = []
        /// The partial with respect to a leaf, nil when it is identically zero.
        public func node(for leaf: Int) -> NodeID? { leaves.firstIndex(of: leaf).map { nodes[$0] } }
    }

    /// The formula graph plus the derivative nodes.
    public let graph: Graph
    /// The partials of the loss (with respect to the batch-level slots) and of each slot's argument.
    public let root: Partials
    public let slots: [Partials]
    /// Whether slot k's value can receive a nonzero adjoint from the loss.
    public let reached: [Bool]
    /// Whether the gradient reaches the scores, and the qualities u.
    public let reachesS: Bool
    public let reachesU: Bool

    /// Builds the partials of a formula.
    public init(_ f: RankingFormula) {
        var g = f.graph
        func partials(_ of: NodeID, _ leaves: [Int]) -> Partials {
            let wrt = leaves.map { g.input($0, shape: .scalar) }
            let grads = ReverseSweep.gradient(&g, root: of, wrt: wrt)
            var p = Partials()
            for (leaf, node) in zip(leaves, grads) where g.constantValue(node) != 0 {
                p.leaves.append(leaf); p.nodes.append(node)
            }
            return p
        }
        let slotInputs = f.slots.indices.map { RankingInput.slotIndex($0) }
        root = partials(f.root, slotInputs)
        var slotPartials: [Partials] = []
        for (k, s) in f.slots.enumerated() {
            let own: [RankingInput] = { if case .pairSum = s.kind { return [.d, .si, .sj, .ui, .uj] }; return [.si, .ui] }()
            slotPartials.append(partials(s.argument, own.map(\.rawValue) + slotInputs.prefix(k)))
        }
        slots = slotPartials
        var reached = [Bool](repeating: false, count: f.slots.count)
        var s = false, u = false
        for k in f.slots.indices.reversed() {
            let slot = RankingInput.slotIndex(k)
            reached[k] = root.node(for: slot) != nil
                || ((k + 1)..<f.slots.count).contains { reached[$0] && slotPartials[$0].node(for: slot) != nil }
            guard reached[k] else { continue }
            for leaf in slotPartials[k].leaves {
                if [RankingInput.d, .si, .sj].contains(where: { $0.rawValue == leaf }) { s = true }
                if [RankingInput.ui, .uj].contains(where: { $0.rawValue == leaf }) { u = true }
            }
        }
        self.reached = reached
        reachesS = s
        reachesU = u
        graph = g
    }
}

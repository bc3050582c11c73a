import LossDSL

/// How a ranking formula is evaluated fast, independent of any backend: for every `pairsum`
/// the `PairPiecewise` form of its argument and of each backward partial (with the per-positive
/// and per-entry factor nodes their terms use), for every other construct its argument and
/// partials, all as nodes of one graph. `RankingKernel` (Swift) and the C emitter
/// (`CRankingEmitter`) both run this plan, so the two backends cannot drift apart.
///
/// Params are folded in at planning time: breakpoints and polynomial coefficients depend on
/// them (AP-Loss's δ sets the breakpoints ±δ), so a plan is for one set of param values.
public struct RankingPlan: Sendable {
    /// Where the row sums of a backward partial go: the positive's s or u, or the adjoint of an
    /// earlier slot (per positive, or for the batch when that slot is batch-level).
    public enum RowTarget: Sendable, Equatable { case s, u, slot(Int) }
    /// Where the column sums of a backward partial go: the entry's s or u.
    public enum ColumnTarget: Sendable, Equatable { case s, u }

    /// One pair expression: its node, its form, and the factor nodes its terms name.
    public struct PairExpression: Sendable {
        public let node: NodeID
        public let form: PairPiecewise
        /// Per-positive factors A(i) (nodes of si, ui, anchor slots, batch values).
        public let anchorFactors: [NodeID]
        /// Per-entry factors W(j) (nodes of sj, uj, batch values).
        public let entryFactors: [NodeID]
    }

    /// A `pairsum`: its set, its argument, and the partials of its backward pass
    /// (d loss/d s_i gets ∂q/∂si − ∂q/∂d, d loss/d s_j gets ∂q/∂sj + ∂q/∂d).
    public struct PairSlot: Sendable {
        public let set: RankingSet
        public let forward: PairExpression
        /// The partials summed over each positive's row (empty when the loss's gradient never
        /// reaches the slot).
        public let rows: [(target: RowTarget, expression: PairExpression)]
        /// The partials summed over each member's column (empty likewise).
        public let columns: [(target: ColumnTarget, expression: PairExpression)]
    }

    /// `max_below`, `mean_positive`, `sum_positive`: the argument and its partials.
    public struct AnchorSlot: Sendable {
        public let forward: NodeID
        /// The partials (empty when the slot is not reached), with respect to `leaves`.
        public let backward: [NodeID]
        /// The input indices (`RankingInput` raw values, slots included) `backward` differentiates by.
        public let leaves: [Int]
    }

    /// The formula planned.
    public let formula: RankingFormula
    /// Its partial derivatives (with `reachesU`, which a backend's ABI reports).
    public let derivatives: RankingDerivatives
    /// The derivatives' graph plus the factor nodes the pair analysis added.
    public let graph: Graph
    /// Param values, by param index.
    public let params: [Double]
    /// The `pairsum` constructs by slot number.
    public let pairs: [Int: PairSlot]
    /// The other constructs by slot number.
    public let anchors: [Int: AnchorSlot]

    /// Inputs that vary per positive, per pair, and per entry of a set.
    public let anchorVarying: Set<Int>
    public static let pairVarying: Set<Int> = [RankingInput.d.rawValue, RankingInput.sj.rawValue, RankingInput.uj.rawValue]
    public static let entryVarying: Set<Int> = [RankingInput.sj.rawValue, RankingInput.uj.rawValue]

    /// Plans a formula: derivatives, then the analysis of each pair expression.
    public init(_ f: RankingFormula) {
        formula = f
        let dv = RankingDerivatives(f)
        derivatives = dv
        let params = f.formula.paramValues
        self.params = params
        var analyzer = PairAnalyzer(graph: dv.graph, params: params)
        anchorVarying = Set([RankingInput.si.rawValue, RankingInput.ui.rawValue]
                            + f.slots.indices.filter { f.slots[$0].level == .anchor }.map { RankingInput.slotIndex($0) })
        var pairs: [Int: PairSlot] = [:], anchors: [Int: AnchorSlot] = [:]
        for (k, slot) in f.slots.enumerated() {
            let pd = dv.slots[k]
            switch slot.kind {
            case .pairSum(let set):
                var rowNodes: [(RowTarget, NodeID)] = [], colNodes: [(ColumnTarget, NodeID)] = []
                if dv.reached[k] {
                    let n = { (i: RankingInput) in pd.node(for: i.rawValue) }
                    func combine(_ a: NodeID?, _ b: NodeID?, _ op: Op) -> NodeID? {
                        guard let b else { return a }
                        guard let a else { return op == .add ? b : analyzer.graph.apply(.neg, b) }
                        return analyzer.graph.apply(op, a, b)
                    }
                    if let r = combine(n(.si), n(.d), .sub) { rowNodes.append((.s, r)) }
                    if let r = n(.ui) { rowNodes.append((.u, r)) }
                    for k2 in 0..<k { if let r = pd.node(for: RankingInput.slotIndex(k2)) { rowNodes.append((.slot(k2), r)) } }
                    if let c = combine(n(.sj), n(.d), .add) { colNodes.append((.s, c)) }
                    if let c = n(.uj) { colNodes.append((.u, c)) }
                }
                func prepare(_ node: NodeID) -> PairExpression {
                    let form = analyzer.analyze(node)
                    let (a, w) = form.factors
                    return PairExpression(node: node, form: form, anchorFactors: a, entryFactors: w)
                }
                let forward = prepare(slot.argument)
                pairs[k] = PairSlot(set: set, forward: forward,
                                    rows: rowNodes.map { (target: $0.0, expression: prepare($0.1)) },
                                    columns: colNodes.map { (target: $0.0, expression: prepare($0.1)) })
            case .maxBelow, .meanPositive, .sumPositive:
                anchors[k] = AnchorSlot(forward: slot.argument, backward: dv.reached[k] ? pd.nodes : [], leaves: pd.leaves)
            }
        }
        self.pairs = pairs
        self.anchors = anchors
        graph = analyzer.graph
    }

    /// How each `pairsum` is evaluated, one line each (`lossc check`, the emitted C's comment).
    public var summary: [String] {
        formula.slots.indices.compactMap { k in
            guard let p = pairs[k] else { return nil }
            let f = p.forward.form
            let how: String
            if f.isPolynomial { how = "sort + prefix sums (\(f.cuts.count) breakpoint\(f.cuts.count == 1 ? "" : "s"))" }
            else if f.isGeneral { how = "pair by pair: not piecewise polynomial in d" }
            else {
                let g = f.forms.filter { $0 == .general }.count
                how = "sort + prefix sums, pair by pair on \(g) of \(f.forms.count) intervals of d (not polynomial there)"
            }
            let back = (p.rows.map(\.expression) + p.columns.map(\.expression)).allSatisfy { $0.form.isPolynomial }
                ? "" : "; its gradient has pair-by-pair intervals"
            return "pairsum #\(k + 1) over \(p.set): \(how)\(back)"
        }
    }
}

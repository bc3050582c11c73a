import LossDSL

/// The fast evaluator of ranking losses: value and gradient of a batch, in Float or Double.
///
/// Two strategies for `pairsum`:
/// - `.sorted` (default): sort the entries by score once, then sum each pair expression with
///   prefix sums over its `PairPiecewise` form (`SortedPairSums`): O(n log n) for piecewise
///   polynomial expressions of d (AP-Loss's step, PAP's curves of a clamp, hard steps, times
///   any factors of i and of j). Where an expression is not piecewise polynomial in d (e.g. a
///   sigmoid of d, Smooth-AP), its non-polynomial intervals are evaluated pair by pair over the
///   entries whose d falls there: O(P·N) in the worst case, less when the expression is
///   constant outside a window (Smooth-AP's clamped exponent).
/// - `.direct`: every pair evaluated (O(P·N)) by the block interpreter; the brute-force
///   baseline of `lossc bench ranking`.
/// Per-positive and batch constructs are the same in both. The reverse pass follows
/// `RankingReference` (its documentation gives the semantics); results agree with it to
/// rounding (exactly on the pairs evaluated pair by pair).
///
/// Not thread-safe (it reuses its buffers): one kernel per thread.
public final class RankingKernel<T: LossReal> {
    /// How `pairsum`s are evaluated (see the type's documentation).
    public enum Strategy: String, Sendable, CaseIterable { case sorted, direct }

    /// The formula, the strategy, and the partial derivatives the reverse pass uses.
    public let formula: RankingFormula
    public let strategy: Strategy
    public let derivatives: RankingDerivatives
    /// The backend-independent plan the kernel runs.
    public let evaluationPlan: RankingPlan
    let params: [Double]
    let pairs: [Int: PairSlot]
    let anchors: [Int: AnchorSlot]
    let rootTape: RankingTape<T>
    let rootPartials: RankingTape<T>?

    /// One pair expression prepared for both strategies.
    struct PairNode {
        let form: PairPiecewise
        let tape: RankingTape<T>
        let aTape: RankingTape<T>?
        let aNodes: [NodeID]
        let wTape: RankingTape<T>?
        let wNodes: [NodeID]
    }
    typealias RowTarget = RankingPlan.RowTarget
    typealias ColTarget = RankingPlan.ColumnTarget
    struct PairSlot {
        let set: RankingSet
        let forward: PairNode
        let rows: [(RowTarget, PairNode)]
        let cols: [(ColTarget, PairNode)]
        /// Direct strategy: all backward roots in one tape (rows first).
        let backward: RankingTape<T>?
    }
    struct AnchorSlot {
        let forward: RankingTape<T>
        let backward: RankingTape<T>?
        let leaves: [Int]
    }

    /// Prepares the kernel: the plan (derivatives, the analysis of each pair expression), the tapes.
    public convenience init(_ f: RankingFormula, strategy: Strategy = .sorted) {
        self.init(plan: RankingPlan(f), strategy: strategy)
    }

    /// Prepares the kernel for a plan.
    public init(plan: RankingPlan, strategy: Strategy = .sorted) {
        let f = plan.formula
        formula = f
        self.strategy = strategy
        evaluationPlan = plan
        let dv = plan.derivatives
        derivatives = dv
        let params = plan.params, g = plan.graph
        self.params = params
        let anchorVarying = plan.anchorVarying
        var pairs: [Int: PairSlot] = [:], anchors: [Int: AnchorSlot] = [:]
        func prepare(_ e: RankingPlan.PairExpression) -> PairNode {
            let a = e.anchorFactors, w = e.entryFactors
            return PairNode(form: e.form, tape: RankingTape(graph: g, roots: [e.node], params: params, varying: RankingPlan.pairVarying),
                            aTape: a.isEmpty ? nil : RankingTape(graph: g, roots: a, params: params, varying: anchorVarying),
                            aNodes: a,
                            wTape: w.isEmpty ? nil : RankingTape(graph: g, roots: w, params: params, varying: RankingPlan.entryVarying),
                            wNodes: w)
        }
        for (k, p) in plan.pairs {
            let all = p.rows.map(\.expression.node) + p.columns.map(\.expression.node)
            pairs[k] = PairSlot(set: p.set, forward: prepare(p.forward),
                                rows: p.rows.map { ($0.target, prepare($0.expression)) },
                                cols: p.columns.map { ($0.target, prepare($0.expression)) },
                                backward: all.isEmpty ? nil : RankingTape(graph: g, roots: all, params: params, varying: RankingPlan.pairVarying))
        }
        for (k, a) in plan.anchors {
            anchors[k] = AnchorSlot(forward: RankingTape(graph: g, roots: [a.forward], params: params, varying: anchorVarying),
                                    backward: a.backward.isEmpty ? nil : RankingTape(graph: g, roots: a.backward, params: params, varying: anchorVarying),
                                    leaves: a.leaves)
        }
        self.pairs = pairs
        self.anchors = anchors
        rootTape = RankingTape(graph: g, roots: [f.root], params: params, varying: [])
        rootPartials = dv.root.nodes.isEmpty ? nil : RankingTape(graph: g, roots: dv.root.nodes, params: params, varying: [])
    }

    /// How each `pairsum` is evaluated by the sorted strategy, one line each.
    public var plan: [String] { evaluationPlan.summary }

    /// Per-batch state shared by the passes.
    struct Context {
        let batch: RankingBatch<T>
        let pos: [Int]
        /// Positive numbers by ascending (score, index).
        let byScore: [Int]
        let counts: (T, T, T)
        var anchorValues: [[T]]
        var batchValues: [T]
        var members: [RankingSet: SortedPairSums<T>] = [:]
    }

    /// The loss of a batch and its gradient with respect to every entry's s (and u).
    // Prespecialized: callers in other modules would otherwise run it as unspecialized generic code.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func evaluate(_ batch: RankingBatch<T>) -> RankingResult<T> {
        let f = formula, dv = derivatives
        let part = batch.partition()
        let pos = part.positives, np = pos.count
        let sortedValid = strategy == .sorted || f.slots.contains(where: { $0.kind == .maxBelow })
            ? RankingSort.order(part.valid, scores: batch.s) : part.valid
        var number = [Int32](repeating: -1, count: batch.count)
        for (p, i) in pos.enumerated() { number[i] = Int32(p) }
        let byScore = sortedValid.compactMap { number[$0] >= 0 ? Int(number[$0]) : nil }
        var ctx = Context(batch: batch, pos: pos, byScore: byScore, counts: (T(np), T(part.negatives.count), T(part.valid.count)),
                          anchorValues: [[T]](repeating: [], count: f.slots.count), batchValues: [T](repeating: 0, count: f.slots.count))
        var argmax = [[Int]](repeating: [], count: f.slots.count)
        func members(_ s: RankingSet) -> SortedPairSums<T> {
            if let m = ctx.members[s] { return m }
            let j = strategy == .sorted ? RankingSort.members(s, sortedValid: sortedValid, batch: batch)
                                        : RankingReference<T>.members(s, batch: batch, partition: part)
            let m = SortedPairSums(entries: j, batch: batch)
            ctx.members[s] = m
            return m
        }

        for (k, slot) in f.slots.enumerated() {
            if let p = pairs[k] {
                let set = members(p.set)
                ctx.anchorValues[k] = strategy == .sorted
                    ? rowSums(p.forward, set, &ctx).map { T($0) }
                    : directRows(p.forward.tape, set, &ctx, weights: nil).map { T($0[0]) }
            } else if let a = anchors[k] {
                let values = runAnchors(a.forward, &ctx)[0]
                switch slot.kind {
                case .maxBelow:
                    var out = [T](repeating: 0, count: np), arg = [Int](repeating: 0, count: np)
                    var best = -T.infinity, at = -1, g = 0
                    while g < byScore.count {
                        // A group of equal scores: every member sees the max over the whole group.
                        var e = g
                        while e < byScore.count, batch.s[pos[byScore[e]]] == batch.s[pos[byScore[g]]] { e += 1 }
                        for q in byScore[g..<e] where values[q] > best || (values[q].isNaN && !best.isNaN) { best = values[q]; at = q }
                        for q in byScore[g..<e] { out[q] = best; arg[q] = at >= 0 ? at : q }
                        g = e
                    }
                    ctx.anchorValues[k] = out; argmax[k] = arg
                case .meanPositive, .sumPositive:
                    var sum: T = 0
                    for v in values { sum += v }
                    ctx.batchValues[k] = slot.kind == .sumPositive ? sum : (np == 0 ? 0 : sum / T(np))
                case .pairSum: break
                }
            }
        }
        setBatch(rootTape, ctx)
        rootTape.runUniform()
        let loss = rootTape.root(0).values[0]

        // Reverse pass.
        var ds = [Double](repeating: 0, count: batch.count), du = [Double](repeating: 0, count: batch.count)
        var adjBatch = [Double](repeating: 0, count: f.slots.count)
        var adjAnchor = f.slots.map { $0.level == .anchor ? [Double](repeating: 0, count: np) : [] }
        func add(_ leaf: Int, _ v: Double, positive p: Int?) {
            guard leaf >= RankingInput.firstSlot else { return }
            let k = leaf - RankingInput.firstSlot
            if f.slots[k].level == .batch { adjBatch[k] += v } else if let p { adjAnchor[k][p] += v }
        }
        if let t = rootPartials {
            setBatch(t, ctx); t.runUniform()
            for (r, leaf) in dv.root.leaves.enumerated() { add(leaf, Double(t.root(r).values[0]), positive: nil) }
        }
        for k in f.slots.indices.reversed() where dv.reached[k] {
            if let p = pairs[k] {
                let set = members(p.set)
                let w = adjAnchor[k].map { T($0) }
                var rows: [[Double]], cols: [[Double]]
                if strategy == .sorted {
                    rows = p.rows.map { rowSums($0.1, set, &ctx) }
                    cols = p.cols.map { columnSums($0.1, set, &ctx, weights: w) }
                } else if let tape = p.backward {
                    (rows, cols) = directBackward(tape, rowCount: p.rows.count, set, &ctx, weights: w)
                } else { continue }
                for (r, (target, _)) in p.rows.enumerated() {
                    for q in 0..<np {
                        let v = Double(w[q]) * rows[r][q]
                        switch target {
                        case .s: ds[pos[q]] += v
                        case .u: du[pos[q]] += v
                        case .slot(let k2): add(RankingInput.slotIndex(k2), v, positive: q)
                        }
                    }
                }
                for (c, (target, _)) in p.cols.enumerated() {
                    for (position, j) in set.entries.enumerated() {
                        if case .s = target { ds[j] += cols[c][position] } else { du[j] += cols[c][position] }
                    }
                }
            } else if let a = anchors[k], let tape = a.backward, np > 0 {
                var weight = [Double](repeating: 0, count: np)
                switch f.slots[k].kind {
                case .meanPositive: weight = [Double](repeating: adjBatch[k] / Double(np), count: np)
                case .sumPositive: weight = [Double](repeating: adjBatch[k], count: np)
                default: for q in 0..<np { weight[argmax[k][q]] += adjAnchor[k][q] }
                }
                let partials = runAnchors(tape, &ctx)
                for (r, leaf) in a.leaves.enumerated() {
                    for q in 0..<np {
                        let v = weight[q] * Double(partials[r][q])
                        if leaf == RankingInput.si.rawValue { ds[pos[q]] += v }
                        else if leaf == RankingInput.ui.rawValue { du[pos[q]] += v }
                        else { add(leaf, v, positive: q) }
                    }
                }
            }
        }
        return RankingResult(loss: loss, ds: ds.map { T($0) }, du: dv.reachesU ? du.map { T($0) } : nil)
    }
}

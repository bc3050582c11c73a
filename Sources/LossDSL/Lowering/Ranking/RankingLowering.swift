/// Lowering of the names and calls that exist only in `ranking` losses (the core `Lowering`
/// calls in here for ranking files): the inputs d, si, sj, ui, uj and the counts, the sets
/// positives / negatives / valid / top(set, K), and the batch constructs pairsum, max_below,
/// mean_positive, sum_positive. Each construct becomes a slot leaf (`RankingSlot`); levels
/// (pair, per positive, batch) are checked so a value is only used where it is defined.
struct RankingLoweringState: Sendable {
    var slots: [RankingSlot] = []
    /// Set values: graph input `markerBase + k` stands for `sets[k]` until `pairsum` consumes it.
    var sets: [RankingSet] = []
    /// The level of every graph node, extended as nodes are added.
    var levels: [RankingLevel] = []

    static let markerBase = 1 << 20
}

extension Lowering {
    /// The batch constructs, with their one-line summaries (for hints and `docs/ranking.md`).
    static let rankingFunctions: [(name: String, arity: Int, summary: String)] = [
        ("pairsum", 2, "pairsum(expr, set): for each positive i, the sum over the entries j of set of expr (d = sj - si)"),
        ("top", 2, "top(set, K): the K highest-scoring entries of set (all of them when it has at most K)"),
        ("max_below", 1, "max_below(a): for each positive i, the largest a over the positives scored at or below si"),
        ("mean_positive", 1, "mean_positive(a): the mean of a over the positives (0 when there is none)"),
        ("sum_positive", 1, "sum_positive(a): the sum of a over the positives"),
    ]

    /// What `name` is in a ranking loss, if it is reserved there.
    static func rankingReservedName(_ name: String) -> String? {
        if RankingInput.byName[name] != nil { return "an input" }
        if RankingSet.Base(rawValue: name) != nil { return "a set of entries" }
        if rankingFunctions.contains(where: { $0.name == name }) { return "a batch construct" }
        return nil
    }

    /// `'name'` when it is a construct of ranking losses only.
    static func rankingOnlyFunction(_ name: String) -> String? {
        rankingFunctions.contains { $0.name == name } ? "'\(name)'" : nil
    }

    /// The level of a node (computed for all nodes added so far).
    mutating func rankingLevel(_ n: NodeID) -> RankingLevel {
        while ranking.levels.count < graph.count {
            let node = graph.nodes[ranking.levels.count]
            var level = RankingLevel.batch
            if node.op == .input {
                level = rankingInputLevel(Int(node.index))
            } else {
                for a in node.args { level = Swift.max(level, ranking.levels[Int(a)]) }
            }
            ranking.levels.append(level)
        }
        return ranking.levels[Int(n)]
    }

    func rankingInputLevel(_ index: Int) -> RankingLevel {
        if index >= RankingLoweringState.markerBase { return .set }
        if index >= RankingInput.firstSlot { return ranking.slots[index - RankingInput.firstSlot].level }
        return RankingInput(rawValue: index)?.level ?? .batch
    }

    func setOf(_ n: NodeID) -> RankingSet? {
        let node = graph[n]
        guard node.op == .input, Int(node.index) >= RankingLoweringState.markerBase else { return nil }
        return ranking.sets[Int(node.index) - RankingLoweringState.markerBase]
    }

    mutating func setMarker(_ s: RankingSet) -> NodeID {
        let k = ranking.sets.firstIndex(of: s) ?? { ranking.sets.append(s); return ranking.sets.count - 1 }()
        return graph.input(RankingLoweringState.markerBase + k, shape: .scalar)
    }

    /// Resolves a name of a ranking loss that is not a let or a param.
    mutating func rankingResolve(_ name: String, _ span: SourceSpan) -> NodeID? {
        if let input = RankingInput.byName[name] {
            let n = graph.input(input.rawValue, shape: .scalar)
            if origins[n] == nil { origins[n] = span }
            return n
        }
        if let base = RankingSet.Base(rawValue: name) { return setMarker(RankingSet(base)) }
        var hint: String
        if ["s", "y", "u"].contains(name) {
            hint = "a ranking loss names the positive i's score and quality si, ui, the other entry's sj, uj, and d = sj - si; the labels y choose the sets positives, negatives, valid"
        } else if let near = nearestNames(to: name, in: Array(lets.keys) + params.map(\.name) + Array(RankingInput.byName.keys)
                                            + RankingSet.Base.allCases.map(\.rawValue)).first {
            hint = "did you mean '\(near)'?"
        } else {
            hint = "a ranking loss has d, si, sj, ui, uj, num_positive, num_negative, num_valid and the sets positives, negatives, valid"
        }
        if Op.byName[name] != nil || Lowering.rankingOnlyFunction(name) != nil { hint = "'\(name)' is a function; call it: \(name)(...)" }
        if curves[name] != nil { hint = "'\(name)' is a curve; call it: \(name)(...)" }
        diagnostics.append(Diagnostic("unknown-name", at: span, "unknown name '\(name)'", hint: hint))
        return nil
    }

    /// Lowers a call of a ranking construct: nil when `name` is not one (the caller goes on),
    /// `.some(nil)` after reporting an error.
    mutating func rankingCall(_ name: String, _ args: [(NodeID, SourceSpan)], nameSpan: SourceSpan, span: SourceSpan) -> NodeID?? {
        guard let spec = Lowering.rankingFunctions.first(where: { $0.name == name }) else {
            // Any other function of a set is a mistake.
            if let bad = args.first(where: { rankingLevel($0.0) == .set }) {
                diagnostics.append(setMisuse(bad.0, bad.1))
                return .some(nil)
            }
            return nil
        }
        guard args.count == spec.arity else {
            diagnostics.append(Diagnostic("arity", at: span,
                "\(name) takes \(spec.arity) argument\(spec.arity == 1 ? "" : "s"), but \(args.count) \(args.count == 1 ? "was" : "were") given",
                hint: spec.summary))
            return .some(nil)
        }
        switch name {
        case "pairsum":
            guard let set = setOf(args[1].0) else {
                diagnostics.append(Diagnostic("pairsum-set", at: args[1].1, "the second argument of pairsum must be a set of entries",
                                              hint: "write positives, negatives, valid or top(valid, K)"))
                return .some(nil)
            }
            if rankingLevel(args[0].0) == .set { diagnostics.append(setMisuse(args[0].0, args[0].1)); return .some(nil) }
            return .some(addSlot(RankingSlot(kind: .pairSum(set), argument: args[0].0, span: span)))
        case "top":
            guard let set = setOf(args[0].0), set.top == nil else {
                diagnostics.append(Diagnostic("top-set", at: args[0].1, "the first argument of top must be positives, negatives or valid",
                                              hint: spec.summary))
                return .some(nil)
            }
            let k = args[1].0
            let value = graph.constantValue(k) ?? (graph[k].op == .param ? params[Int(graph[k].index)].value : nil)
            guard let v = value, v >= 1, v <= Double(Int32.max), v == v.rounded() else {
                diagnostics.append(Diagnostic("top-count", at: args[1].1, "the count of top must be a whole number >= 1 (a number or a param)",
                                              hint: "e.g. top(valid, 100000) as in Parameterized AP Loss"))
                return .some(nil)
            }
            return .some(setMarker(RankingSet(set.base, top: Int(v))))
        default:
            let kind: RankingSlot.Kind = name == "max_below" ? .maxBelow : (name == "mean_positive" ? .meanPositive : .sumPositive)
            switch rankingLevel(args[0].0) {
            case .set: diagnostics.append(setMisuse(args[0].0, args[0].1)); return .some(nil)
            case .pair:
                diagnostics.append(Diagnostic("pair-outside-pairsum", at: args[0].1,
                    "\(name) reduces per-positive values, but its argument uses d, sj or uj, which exist only inside pairsum(...)",
                    hint: "sum over the entries j first, e.g. pairsum(expr, valid)"))
                return .some(nil)
            case .batch, .anchor:
                return .some(addSlot(RankingSlot(kind: kind, argument: args[0].0, span: span)))
            }
        }
    }

    mutating func addSlot(_ slot: RankingSlot) -> NodeID {
        ranking.slots.append(slot)
        let n = graph.input(RankingInput.slotIndex(ranking.slots.count - 1), shape: .scalar)
        origins[n] = slot.span
        return n
    }

    func setMisuse(_ n: NodeID, _ span: SourceSpan) -> Diagnostic {
        let live = graph.reachable(from: [n])
        let marker = live.indices.first { live[$0] && setOf(NodeID($0)) != nil }
        let what = marker.flatMap { setOf(NodeID($0)) }.map { "'\($0)'" } ?? "this"
        return Diagnostic("set-as-value", at: span, "\(what) is a set of entries, not a value",
                          hint: "a set is only the second argument of pairsum(expr, set)")
    }

    /// Whether the returned node is one value for the batch (reports why not).
    mutating func checkRankingResult(_ n: NodeID, _ span: SourceSpan) -> Bool {
        switch rankingLevel(n) {
        case .batch: return true
        case .anchor:
            diagnostics.append(Diagnostic("ranking-result", at: span, "a ranking loss is one value for the batch, but this is one value per positive",
                                          hint: "reduce it with mean_positive(...) or sum_positive(...)"))
        case .pair:
            diagnostics.append(Diagnostic("pair-outside-pairsum", at: span, "this uses d, sj or uj, which exist only inside pairsum(...)",
                                          hint: "sum over the entries j with pairsum(expr, set), then reduce over the positives with mean_positive(...)"))
        case .set:
            diagnostics.append(setMisuse(n, span))
        }
        return false
    }

    /// Reports sets used as operands (e.g. `valid + 1`), which the calls could not see.
    mutating func validateRankingSets() {
        guard graph.count > 0 else { return }
        _ = rankingLevel(NodeID(graph.count - 1))
        for (i, node) in graph.nodes.enumerated() where node.op != .input && ranking.levels.indices.contains(i) {
            guard ranking.levels[i] == .set, let bad = node.args.first(where: { setOf($0) != nil }) else { continue }
            diagnostics.append(setMisuse(bad, origins[NodeID(i)] ?? origins[bad] ?? SourceSpan(start: 0, length: 0)))
            return
        }
    }
}

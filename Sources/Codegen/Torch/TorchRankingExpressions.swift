import LossDSL
import LossRanking

/// Writes the per-formula Python functions of a torch ranking module from the `RankingPlan`,
/// one statement per graph node with the operator table's torch spelling
/// (`TorchGraphWriter.expression`), params as float literals (the plan folds them in):
///
/// - `anc`: roots at every positive (si, ui, per-positive slots, batch values) → tensors (np,);
/// - `ent`: roots at every member of a set (sj, uj, batch values): the factors W(j);
/// - `bat`: batch-level roots (counts, batch slots) → 0-d tensors;
/// - `pair`: one pair expression at a list of (positive, position) pairs;
/// - `rows` / `cols`: a pair expression's row sums (per positive) and weighted column sums
///   (per member) from its `PairPiecewise` form, as `CRankingSums` does in C: prefix sums for
///   polynomial intervals, difference arrays for column terms, `pair` for general intervals
///   and for the pairs at (or within 8 ulps of) a breakpoint.
/// Each function is written once per distinct root list; the writer returns its name.
struct TorchRankingExpressions {
    let plan: RankingPlan
    private(set) var text = ""
    private var names: [String: String] = [:]

    init(plan: RankingPlan) { self.plan = plan }

    var graph: Graph { plan.graph }

    enum Context { case anchor, entry, batch, pair }

    /// Where an input leaf is read in each context.
    func leaf(_ index: Int, _ context: Context) -> String {
        if index >= RankingInput.firstSlot {
            let k = index - RankingInput.firstSlot
            if plan.formula.slots[k].level == .batch { return "c.b[\(k)]" }
            return context == .pair ? "c.a[\(k)][pi]" : "c.a[\(k)]"
        }
        switch RankingInput(rawValue: index) {
        case .d?: return "S.scores[k] - c.si[pi]"
        case .sj?: return context == .pair ? "S.scores[k]" : "S.scores"
        case .uj?: return context == .pair ? "c.u[S.entries[k]]" : "c.u[S.entries]"
        case .si?: return context == .pair ? "c.si[pi]" : "c.si"
        case .ui?: return context == .pair ? "c.ui[pi]" : "c.ui"
        case .numPositive?: return "c.num_positive"
        case .numNegative?: return "c.num_negative"
        case .numValid?: return "c.num_valid"
        case nil: return "c.zero"  // no such input: the lowering never makes one
        }
    }

    /// Constants and params: Python float literals.
    func literal(_ id: NodeID) -> String? {
        let n = graph[id]
        switch n.op {
        case .constant: return PyNames.floatLiteral(n.constant)
        case .param: return PyNames.floatLiteral(plan.params[Int(n.index)])
        default: return nil
        }
    }

    func name(_ id: NodeID) -> String { literal(id) ?? "t\(id)" }

    /// The body computing `roots` and the return statement, each root broadcast to `shape`.
    func body(_ roots: [NodeID], _ context: Context, shape: String) -> String {
        let live = graph.reachable(from: roots)
        var s = ""
        for i in 0..<graph.count where live[i] && literal(NodeID(i)) == nil {
            let id = NodeID(i), n = graph[id]
            if n.op == .input { s += "    t\(id) = \(leaf(Int(n.index), context))\n"; continue }
            var args = n.args.map(name)
            let floats = Set(n.args.filter { literal($0) != nil })
            // an operator on floats only would run in Python (1.0 / 0.0 raises): make it a tensor
            if n.args.allSatisfy({ literal($0) != nil }), !args.isEmpty { args[0] = "_k(\(args[0]), c.zero)" }
            s += "    t\(id) = \(TorchGraphWriter.expression(graph, id, args: args, literal: floats, reference: "c.zero"))\n"
        }
        s += "    return (" + roots.map { "_full(\(name($0)), \(shape), c.zero)" }.joined(separator: ", ") + ",)\n\n\n"
        return s
    }

    mutating func reserve(_ key: String, _ base: String) -> (name: String, new: Bool) {
        if let n = names[key] { return (n, false) }
        let name = "_\(base)\(names.count)"
        names[key] = name
        return (name, true)
    }

    mutating func anchor(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("anc\(roots)", "anc")
        if new { text += "def \(name)(c):\n" + body(roots, .anchor, shape: "c.si.shape") }
        return name
    }

    mutating func entry(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("ent\(roots)", "ent")
        if new { text += "def \(name)(c, S):\n" + body(roots, .entry, shape: "S.scores.shape") }
        return name
    }

    mutating func batch(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("bat\(roots)", "bat")
        if new { text += "def \(name)(c):\n" + body(roots, .batch, shape: "()") }
        return name
    }

    mutating func pair(_ root: NodeID) -> String {
        let (name, new) = reserve("pair\(root)", "pair")
        if new { text += "def \(name)(c, S, pi, k):\n" + body([root], .pair, shape: "pi.shape") }
        return name
    }

    /// The per-entry factors the terms use (nil: W = 1), in first-use order.
    func usedWeights(_ form: PairPiecewise) -> [NodeID?] {
        var out: [NodeID?] = []
        for case .terms(let ts) in form.forms { for t in ts where !out.contains(t.w) { out.append(t.w) } }
        return out
    }

    /// Factors (a0.. per positive, w0.. per member, float64) and the ranges of every interval.
    mutating func setup(_ e: RankingPlan.PairExpression) -> String {
        var s = ""
        if !e.anchorFactors.isEmpty {
            s += "    a = [v.to(_ACC) for v in \(anchor(e.anchorFactors))(c)]\n"
        }
        if !e.entryFactors.isEmpty {
            s += "    w = \(entry(e.entryFactors))(c, S)\n"
        }
        s += "    edge = _ranges(S, c.si, \(cutsTuple(e.form)))\n"
        s += "    x = c.si.to(_ACC)\n"
        return s
    }

    /// The pair-by-pair ranges: each general interval, and the pairs at (or within 8 ulps of) each breakpoint.
    func directRanges(_ form: PairPiecewise) -> [(Int, Int)] {
        var r: [(Int, Int)] = []
        for (k, f) in form.forms.enumerated() where f == .general { r.append((2 * k, 2 * k + 1)) }
        for k in form.cuts.indices { r.append((2 * k + 1, 2 * k + 2)) }
        return r
    }

    func pairList(_ form: PairPiecewise, _ ranges: [(Int, Int)]) -> String {
        "    pi, k = _pair_list(S, edge, \(cutsTuple(form)), (" + ranges.map { "(\($0.0), \($0.1))," }.joined(separator: " ") + "))\n"
    }

    /// The breakpoints as a Python tuple (the key of the per-set caches).
    func cutsTuple(_ form: PairPiecewise) -> String {
        "(" + form.cuts.map { PyNames.floatLiteral($0) + "," }.joined(separator: " ") + ")"
    }

    /// `NAME(c, S)`: the row sums Σ_j q(p, j) per positive (float64).
    mutating func rows(_ e: RankingPlan.PairExpression) -> String {
        let (name, new) = reserve("rows\(e.node)", "rows")
        guard new else { return name }
        var s = "def \(name)(c, S):\n" + setup(e)
        s += "    out = torch.zeros(c.si.shape, dtype=_ACC, device=c.si.device)\n"
        let used = usedWeights(e.form)
        for (k, w) in used.enumerated() {
            s += w.map { "    pf\(k) = _prefix(S, w[\(e.entryFactors.firstIndex(of: $0)!)])\n" } ?? "    pf\(k) = _pf1(S)\n"
        }
        for (k, f) in e.form.forms.enumerated() {
            guard case .terms(let terms) = f else { continue }
            for t in terms {
                let v = "_row_term(pf\(used.firstIndex(of: t.w)!), edge[\(2 * k)], edge[\(2 * k + 1)], x, "
                    + "\(PyNames.floatLiteral(t.p.c0)), \(PyNames.floatLiteral(t.p.c1)), \(PyNames.floatLiteral(t.p.c2)))"
                s += "    out += " + (t.a.map { "a[\(e.anchorFactors.firstIndex(of: $0)!)] * \(v)" } ?? v) + "\n"
            }
        }
        let direct = directRanges(e.form)
        if !direct.isEmpty {
            s += pairList(e.form, direct)
            s += "    out.index_add_(0, pi, \(pair(e.node))(c, S, pi, k)[0].to(_ACC))\n"
        }
        s += "    return out\n\n\n"
        text += s
        return name
    }

    /// `NAME(c, S, weights)`: out[k] = Σ_p weights[p]·q(p, k) per member (float64).
    mutating func columns(_ e: RankingPlan.PairExpression) -> String {
        let (name, new) = reserve("cols\(e.node)", "cols")
        guard new else { return name }
        var s = "def \(name)(c, S, weights):\n" + setup(e)
        s += "    wp = weights.to(_ACC)\n"
        s += "    out = torch.zeros(S.scores.shape, dtype=_ACC, device=c.si.device)\n"
        let used = usedWeights(e.form)
        for k in used.indices { s += "    diff\(k) = torch.zeros((S.m + 1, 3), dtype=_ACC, device=c.si.device)\n" }
        for (k, f) in e.form.forms.enumerated() {
            guard case .terms(let terms) = f else { continue }
            for t in terms {
                let weight = t.a.map { "wp * a[\(e.anchorFactors.firstIndex(of: $0)!)]" } ?? "wp"
                s += "    _col_term(diff\(used.firstIndex(of: t.w)!), edge[\(2 * k)], edge[\(2 * k + 1)], \(weight), x, "
                    + "\(PyNames.floatLiteral(t.p.c0)), \(PyNames.floatLiteral(t.p.c1)), \(PyNames.floatLiteral(t.p.c2)))\n"
            }
        }
        for (k, w) in used.enumerated() {
            s += "    _col_finish(S, diff\(k), \(w.map { "w[\(e.entryFactors.firstIndex(of: $0)!)]" } ?? "None"), out)\n"
        }
        let direct = directRanges(e.form)
        if !direct.isEmpty {
            s += pairList(e.form, direct)
            s += "    out.index_add_(0, k, wp[pi] * \(pair(e.node))(c, S, pi, k)[0].to(_ACC))\n"
        }
        s += "    return out\n\n\n"
        text += s
        return name
    }
}

import LossDSL
import LossRanking

/// Writes the per-formula C functions of a ranking kernel that evaluate graph nodes, one
/// statement per node with the operator table's C spelling (`CExpression`), params as literals:
///
/// - `anc`: roots at every positive p (si, ui, anchor slots at p, batch values) → out[r][p];
/// - `ent`: roots at every member of a set (sj, uj, batch values) → out[r][k] (factors W(j));
/// - `bat`: batch-level roots (counts, batch slots) → out[r];
/// - `pair` / `pcol`: one pair expression summed over the positions group[lo..hi) of a set for
///   positive p (row sum in double), or added weighted to out[entry of k] (column sums). Nodes that do not vary
///   over the pairs are computed once before the loop, as `RankingTape` does.
/// Each function is written once per distinct root list; the writer returns its name.
struct CRankingExpressions {
    let plan: RankingPlan
    let precision: CPrecision
    /// `lossc_rk_<prefix>`, the start of every emitted static name.
    let stem: String
    /// The functions written so far, in order, and their names by signature.
    private(set) var text = ""
    private var names: [String: String] = [:]

    init(plan: RankingPlan, precision: CPrecision, stem: String) {
        self.plan = plan
        self.precision = precision
        self.stem = stem
    }

    var graph: Graph { plan.graph }
    var T: String { precision.cType }
    var ctx: String { "\(stem)_ctx_\(precision.rawValue)" }
    var set: String { "lossc_rk_set\(precision.helperSuffix)" }
    var expression: CExpression { CExpression(graph: graph, params: plan.params, precision: precision) }

    /// Where an input leaf is read in each kind of function.
    func leaf(_ index: Int) -> String {
        if index >= RankingInput.firstSlot {
            let k = index - RankingInput.firstSlot
            return plan.formula.slots[k].level == .batch ? "c->b\(k)" : "c->a\(k)[p]"
        }
        switch RankingInput(rawValue: index) {
        case .d?: return "sj - si"
        case .sj?: return "sj"
        case .uj?: return "c->u[S->entries[k]]"
        case .si?: return "si"
        case .ui?: return "c->u[c->pos[p]]"
        case .numPositive?: return "c->num_positive"
        case .numNegative?: return "c->num_negative"
        case .numValid?: return "c->num_valid"
        case nil: return CLiteral.c(0, precision)  // no such input: the lowering never makes one
        }
    }

    /// The live nodes of `roots` in id order (a topological order), without literals.
    func nodes(_ roots: [NodeID]) -> [NodeID] {
        let live = graph.reachable(from: roots), e = expression
        return (0..<graph.count).filter { live[$0] && e.literal(NodeID($0)) == nil }.map { NodeID($0) }
    }

    /// `const T t<id> = ...;` for each node.
    func statements(_ ids: [NodeID], indent: String) -> String {
        let e = expression
        var s = ""
        for id in ids {
            let n = graph[id]
            let rhs = n.op == .input ? leaf(Int(n.index)) : e.rhs(id)
            s += "\(indent)const \(T) t\(id) = \(rhs);\n"
        }
        return s
    }

    /// Which of si / sj a list of nodes reads (the loop variables to declare).
    func reads(_ ids: [NodeID], _ inputs: [RankingInput]) -> Bool {
        ids.contains { graph[$0].op == .input && inputs.map(\.rawValue).contains(Int(graph[$0].index)) }
    }

    /// The name of the function for `key`, and whether it still has to be written.
    mutating func reserve(_ key: String, _ base: String) -> (name: String, new: Bool) {
        if let n = names[key] { return (n, false) }
        let name = "\(stem)_\(base)\(names.count)_\(precision.rawValue)"
        names[key] = name
        return (name, true)
    }

    /// roots at every positive: out[r][p].
    mutating func anchor(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("anc\(roots)", "anc")
        if new { text += anchorText(roots, name) }
        return name
    }

    /// roots at every member of a set: out[r][k].
    mutating func entry(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("ent\(roots)", "ent")
        if new { text += entryText(roots, name) }
        return name
    }

    /// batch-level roots: out[r].
    mutating func batch(_ roots: [NodeID]) -> String {
        let (name, new) = reserve("bat\(roots)", "bat")
        if new { text += batchText(roots, name) }
        return name
    }

    /// Σ over positions [lo, hi) of a pair expression for positive p, in double.
    mutating func pairSum(_ root: NodeID) -> String {
        let (name, new) = reserve("pair\(root)", "pair")
        if new { text += pairSumText(root, name) }
        return name
    }

    /// out[k] += weight · q(p, k) for positions [lo, hi).
    mutating func pairColumn(_ root: NodeID) -> String {
        let (name, new) = reserve("pcol\(root)", "pcol")
        if new { text += pairColumnText(root, name) }
        return name
    }

    /// Appends a function written elsewhere (the row and column sums, named with `reserve`).
    mutating func append(_ function: String) { text += function }

    func anchorText(_ roots: [NodeID], _ name: String) -> String {
        let body = nodes(roots), e = expression
        var s = "static void \(name)(const \(ctx) *c, \(T) *const *out)\n{\n    int64_t p;\n"
        s += "    for (p = 0; p < c->np; p++) {\n"
        if reads(body, [.si]) { s += "        const \(T) si = c->s[c->pos[p]];\n" }
        s += statements(body, indent: "        ")
        for (r, root) in roots.enumerated() { s += "        out[\(r)][p] = \(e.name(root));\n" }
        return s + "    }\n}\n\n"
    }

    func entryText(_ roots: [NodeID], _ name: String) -> String {
        let body = nodes(roots), e = expression
        var s = "static void \(name)(const \(ctx) *c, const \(set) *S, \(T) *const *out)\n{\n    int64_t k;\n    (void)c;\n"
        s += "    for (k = 0; k < S->m; k++) {\n"
        if reads(body, [.sj]) { s += "        const \(T) sj = S->scores[k];\n" }
        s += statements(body, indent: "        ")
        for (r, root) in roots.enumerated() { s += "        out[\(r)][k] = \(e.name(root));\n" }
        return s + "    }\n}\n\n"
    }

    func batchText(_ roots: [NodeID], _ name: String) -> String {
        let body = nodes(roots), e = expression
        var s = "static void \(name)(const \(ctx) *c, \(T) *out)\n{\n    (void)c;\n" + statements(body, indent: "    ")
        for (r, root) in roots.enumerated() { s += "    out[\(r)] = \(e.name(root));\n" }
        return s + "}\n\n"
    }

    /// The pair loop shared by row and column sums: uniform statements, then the loop body.
    func pairLoop(_ root: NodeID) -> (before: String, inside: String) {
        let body = nodes([root])
        let varying = graph.varying(on: RankingPlan.pairVarying, from: [root])
        let uniform = body.filter { !varying[Int($0)] }, inner = body.filter { varying[Int($0)] }
        var before = ""
        if reads(body, [.si, .d]) { before += "    const \(T) si = c->s[c->pos[p]];\n" }
        before += statements(uniform, indent: "    ")
        var inside = ""
        if reads(inner, [.sj, .d]) { inside += "        const \(T) sj = S->scores[k];\n" }
        inside += statements(inner, indent: "        ")
        return (before, inside)
    }

    func pairSumText(_ root: NodeID, _ name: String) -> String {
        let (before, inside) = pairLoop(root)
        var s = "static double \(name)(const \(ctx) *c, const \(set) *S, int64_t p, int64_t lo, int64_t hi)\n{\n"
        s += "    double acc = 0.0;\n    int64_t g;\n    (void)c; (void)S; (void)p;\n" + before
        s += "    for (g = lo; g < hi; g++) {\n        const int64_t k = S->group[g];\n" + inside + "        acc += (double)\(expression.name(root));\n    }\n"
        return s + "    return acc;\n}\n\n"
    }

    func pairColumnText(_ root: NodeID, _ name: String) -> String {
        let (before, inside) = pairLoop(root)
        var s = "static void \(name)(const \(ctx) *c, const \(set) *S, int64_t p, int64_t lo, int64_t hi, double weight, double *out)\n{\n"
        s += "    int64_t g;\n    (void)c; (void)S; (void)p;\n" + before
        s += "    for (g = lo; g < hi; g++) {\n        const int64_t k = S->group[g];\n" + inside + "        out[S->entries[k]] += weight * (double)\(expression.name(root));\n    }\n"
        return s + "}\n\n"
    }
}

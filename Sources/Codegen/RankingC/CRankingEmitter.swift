import LossDSL
import LossRanking

/// A ranking construct the C backend cannot emit (the Swift `RankingKernel` runs it).
public struct CRankingUnsupported: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The C backend for `ranking` losses (`lossc emit --target c` on a ranking file): one
/// self-contained C99 translation unit per loss, the method of `RankingKernel` in C with its sort
/// of the batch replaced by buckets between thresholds (O(n) passes plus a short search per entry).
///
/// The code is three layers: the per-sample prelude (`CPrelude`: the operators' C helpers), the
/// fixed ranking runtime (`CRankingRuntime`: radix sort, set buckets, prefix sums,
/// difference arrays), and per-formula functions emitted from the `RankingPlan` (factors, pair
/// expressions, row and column sums: `CRankingExpressions`, `CRankingSums`) with a driver that
/// runs the plan's passes in the order `RankingKernel.evaluate` does. Params are fixed at
/// emission (they set breakpoints and coefficients); re-emit with `--param` to change them.
///
/// ABI, per precision (float shown):
///
///     double NAME_f32(int64_t n, const float *s, const float *y, const float *u, float *d_s, float *d_u);
///
/// returns the batch loss (NaN on allocation failure or n < 0) and writes d loss/d s (n values,
/// 0 for ignored entries) to d_s and d loss/d u to d_u; either may be NULL (both NULL: value
/// only, no reverse pass). `u` may be NULL (all qualities 0). Thread-safe: no global state.
/// `NAME_f32_ws(ws, ...)` does the same with a workspace (`NAME_workspace_new/free`) that keeps
/// its memory between calls: a trainer calling every step then faults in no fresh pages, which
/// at 10⁶ entries halves the time. One workspace per thread.
public enum CRankingEmitter {
    /// Emits `.h` and `.c` text for a ranking formula.
    public static func emit(_ f: RankingFormula, name: String? = nil, precisions: [CPrecision] = CPrecision.allCases,
                            command: String? = nil) throws(CRankingUnsupported) -> CSource {
        try emit(RankingPlan(f), name: name, precisions: precisions, command: command)
    }

    /// Emits `.h` and `.c` text for a planned ranking formula (a caller that also needs the plan,
    /// e.g. for `reachesU`, plans once).
    public static func emit(_ plan: RankingPlan, name: String? = nil, precisions: [CPrecision] = CPrecision.allCases,
                            command: String? = nil) throws(CRankingUnsupported) -> CSource {
        let f = plan.formula
        let live = plan.graph.reachable(from: [f.root] + f.slots.map(\.argument) + plan.derivatives.root.nodes)
        for i in 0..<plan.graph.count where live[i] && plan.graph.nodes[i].op.shapeRule != .elementwise {
            let op = plan.graph.nodes[i].op
            guard op == .constant || op == .input || op == .param else {
                throw CRankingUnsupported(message: "the C backend cannot emit '\(op.name)' in a ranking loss (hint: the Swift kernel RankingKernel runs it)")
            }
        }
        let prefix = CNames.identifier(name ?? f.name)
        let comment = headerComment(plan, prefix: prefix, precisions: precisions, command: command)
        let guardName = "LOSSC_\(prefix)_H"
        let declarations = workspaceDeclarations(prefix)
            + "/* Threads the passes over the entries use: 0 = every online core, default 1. The results have\n"
            + "   the same bits for every count (fixed chunks, sums added in order). Set it before calling.\n"
            + "   The threads are kept between calls: they spin about 100 us after one, then sleep. */\n"
            + "void \(prefix)_set_threads(int n);\n"
            + precisions.map { prototype(prefix, $0) + ";\n" + prototype(prefix, $0, workspace: true) + ";\n" }.joined()
            + "/* 1 when the loss's gradient reaches u (d_u is then written; else it is zeroed) */\n"
            + "#define \(CNames.reachesUMacro(prefix)) \(plan.derivatives.reachesU ? 1 : 0)\n\n"
        var h = comment + "#ifndef \(guardName)\n#define \(guardName)\n\n#include <stdint.h>\n\n"
        h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n" + declarations
        h += "#ifdef __cplusplus\n}\n#endif\n\n#endif /* \(guardName) */\n"
        var c = comment + CPrelude.text + CRankingRuntime.text + "/* ==== the loss ==== */\n\n" + declarations
        c += "struct \(prefix)_workspace { lossc_rk_arena ar; };\n\n"
        c += "\(prefix)_workspace *\(prefix)_workspace_new(void)\n{\n    return (\(prefix)_workspace *)calloc(1, sizeof(\(prefix)_workspace));\n}\n\n"
        c += "void \(prefix)_workspace_free(\(prefix)_workspace *ws)\n{\n    if (ws) { lossc_rk_free(&ws->ar); free(ws); }\n}\n\n"
        c += "static int lossc_rk_threads_\(prefix) = 1;\n\n"
        c += "void \(prefix)_set_threads(int n)\n{\n    lossc_rk_threads_\(prefix) = n < 0 ? 1 : n;\n}\n\n"
        for p in precisions { c += driver(plan, prefix: prefix, p) }
        return CSource(header: h, source: c, prefix: prefix)
    }

    static func prototype(_ prefix: String, _ p: CPrecision, workspace: Bool = false) -> String {
        let T = p.cType
        return "double \(prefix)_\(p.rawValue)\(workspace ? "_ws(\(prefix)_workspace *ws, " : "(")"
            + "int64_t n, const \(T) *s, const \(T) *y, const \(T) *u, \(T) *d_s, \(T) *d_u)"
    }

    /// The opaque workspace type and its constructor and destructor.
    static func workspaceDeclarations(_ prefix: String) -> String {
        "/* Memory kept between calls (one per thread): NAME_f32_ws(ws, ...) reuses it; NULL ws allocates per call. */\n"
            + "typedef struct \(prefix)_workspace \(prefix)_workspace;\n"
            + "\(prefix)_workspace *\(prefix)_workspace_new(void);\nvoid \(prefix)_workspace_free(\(prefix)_workspace *ws);\n"
    }

    /// The context struct, the emitted functions and the driver of one precision.
    static func driver(_ plan: RankingPlan, prefix: String, _ p: CPrecision) -> String {
        let f = plan.formula, dv = plan.derivatives, T = p.cType, sfx = p.helperSuffix
        var w = CRankingExpressions(plan: plan, precision: p, stem: "lossc_rk_\(prefix)")
        let slots = f.slots
        var ctx = "typedef struct {\n    const \(T) *s, *u;\n    const int64_t *pos, *by_score;\n    int64_t np;\n"
        ctx += "    \(T) num_positive, num_negative, num_valid;\n"
        for (k, s) in slots.enumerated() { ctx += s.level == .batch ? "    \(T) b\(k);\n" : "    \(T) *a\(k);\n" }
        ctx += "} \(w.ctx);\n\n"

        // The distinct sets, in first-use order.
        var sets: [RankingSet] = []
        for k in slots.indices { if let s = plan.pairs[k]?.set, !sets.contains(s) { sets.append(s) } }
        // Member lists by base, in entry order (a top(set, K) selects from `valid`).
        let anyTop = sets.contains { $0.top != nil }
        let needs = (neg: sets.contains { $0.base == .negatives && $0.top == nil },
                     valid: anyTop || sets.contains { $0.base == .valid && $0.top == nil })
        let cuts = plan.allCuts
        var r = "    int64_t *pos, *neg = NULL, *valid = NULL, *by_score, np = 0, nn = 0, nv = 0, i, q;\n"
        r += "    \(T) *ps;\n"
        if !cuts.isEmpty { r += "    static const double cuts[\(cuts.count)] = { \(cuts.map { CLiteral.c($0, .f64) }.joined(separator: ", ")) };\n" }
        r += "    \(w.set) sets[\(max(1, sets.count))];\n    \(w.ctx) cx;\n    const \(w.ctx) *const c = &cx;\n"
        r += "    double adj_b[\(max(1, slots.count))] = { 0.0 };\n    (void)q; (void)c; (void)adj_b; (void)neg; (void)valid;\n"
        r += "    memset(&cx, 0, sizeof cx);\n    memset(sets, 0, sizeof sets);\n"
        r += "/*u*/"  // the zeros for a NULL u, when some function reads u (known once all are written)
        // One pass over the labels; the lists get room for every entry (not written: never touched).
        r += "    LOSSC_RK_TRY(pos = LOSSC_RK_RAW(ar, int64_t, n));\n"
        if needs.neg { r += "    LOSSC_RK_TRY(neg = LOSSC_RK_RAW(ar, int64_t, n));\n" }
        if needs.valid { r += "    LOSSC_RK_TRY(valid = LOSSC_RK_RAW(ar, int64_t, n));\n" }
        // Every store made, the counts moved by the label: no branch on the labels.
        r += "    for (i = 0; i < n; i++) {\n        const int l = lossc_rk_label\(sfx)(y[i]);\n"
        r += "        pos[np] = i;\n"
        if needs.neg { r += "        neg[nn] = i;\n" }
        if needs.valid { r += "        valid[nv] = i;\n" }
        r += "        np += l == 1; nn += l == 0; nv += l >= 0;\n    }\n"
        // Positives by ascending score (ties by entry index): their ordinals sorted by score.
        r += "    LOSSC_RK_TRY(ps = LOSSC_RK_RAW(ar, \(T), np)); LOSSC_RK_TRY(by_score = LOSSC_RK_RAW(ar, int64_t, np));\n"
        r += "    for (i = 0; i < np; i++) { ps[i] = s[pos[i]]; by_score[i] = i; }\n"
        r += "    LOSSC_RK_TRY(lossc_rk_sort\(sfx)(ar, ps, by_score, np) == 0);\n"
        r += "    cx.s = s; cx.u = u; cx.pos = pos; cx.by_score = by_score; cx.np = np;\n"
        r += "    cx.num_positive = (\(T))np; cx.num_negative = (\(T))nn; cx.num_valid = (\(T))nv;\n"
        let cutArgs = cuts.isEmpty ? "NULL, 0" : "cuts, \(cuts.count)"
        // Whether a pair-by-pair range over the set can span whole intervals of d (a form with an
        // interval that is not polynomial): then every member is in the group lists.
        func all(_ set: RankingSet) -> Int {
            let general = plan.pairs.values.filter { $0.set == set }.contains { p in
                p.expressions.contains { $0.form.forms.contains(.general) }
            }
            return general ? 1 : 0
        }
        for (k, s) in sets.enumerated() {
            let base = s.base == .positives ? 0 : (s.base == .negatives ? 1 : 2)
            if let top = s.top {
                r += "    {   /* set \(k): \(s) */\n        int64_t *e, m;\n"
                r += "        LOSSC_RK_TRY(e = LOSSC_RK_RAW(ar, int64_t, \(["np", "nn", "nv"][base])));\n"
                r += "        LOSSC_RK_TRY((m = lossc_rk_members\(sfx)(ar, s, y, valid, nv, \(base), \(top), e)) >= 0);\n"
                r += "        LOSSC_RK_TRY(lossc_rk_set_build\(sfx)(ar, &sets[\(k)], s, e, m, ps, np, \(cutArgs), \(all(s)), lossc_rk_threads_\(prefix)) == 0);\n    }\n"
            } else {
                let (list, count) = [("pos", "np"), ("neg", "nn"), ("valid", "nv")][base]
                r += "    /* set \(k): \(s) */\n"
                r += "    LOSSC_RK_TRY(lossc_rk_set_build\(sfx)(ar, &sets[\(k)], s, \(list), \(count), ps, np, \(cutArgs), \(all(s)), lossc_rk_threads_\(prefix)) == 0);\n"
            }
        }
        func setOf(_ k: Int) -> String { "&sets[\(sets.firstIndex(of: plan.pairs[k]!.set)!)]" }

        // Forward, slot by slot.
        for (k, slot) in slots.enumerated() {
            r += "    {   /* slot \(k): \(slot.name) */\n"
            if let pair = plan.pairs[k] {
                let rows = w.rows(pair.forward)
                r += "        double *v;\n        \(T) *a;\n        LOSSC_RK_TRY(v = LOSSC_RK_NEW(ar, double, np));\n"
                r += "        LOSSC_RK_TRY(a = LOSSC_RK_NEW(ar, \(T), np));\n        LOSSC_RK_TRY(\(rows)(ar, c, \(setOf(k)), v) == 0);\n"
                r += "        for (i = 0; i < np; i++) a[i] = (\(T))v[i];\n        cx.a\(k) = a;\n"
            } else if let a = plan.anchors[k] {
                let fn = w.anchor([a.forward])
                r += "        \(T) *v;\n        LOSSC_RK_TRY(v = LOSSC_RK_NEW(ar, \(T), np));\n        { \(T) *const o[1] = { v }; \(fn)(c, o); }\n"
                switch slot.kind {
                case .maxBelow:
                    r += "        {\n            \(T) *m;\n            LOSSC_RK_TRY(m = LOSSC_RK_NEW(ar, \(T), np));\n"
                    r += "            LOSSC_RK_TRY(arg\(k) = LOSSC_RK_NEW(ar, int64_t, np));\n"
                    r += "            lossc_rk_max_below\(sfx)(s, pos, by_score, np, v, m, arg\(k));\n            cx.a\(k) = m;\n        }\n"
                default:
                    r += "        {\n            \(T) sum = \(CLiteral.c(0, p));\n            for (i = 0; i < np; i++) sum += v[i];\n"
                    r += slot.kind == .sumPositive ? "            cx.b\(k) = sum;\n"
                        : "            cx.b\(k) = np == 0 ? \(CLiteral.c(0, p)) : sum / (\(T))np;\n"
                    r += "        }\n"
                }
            }
            r += "    }\n"
        }
        let lossFn = w.batch([f.root])
        r += "    { \(T) o[1]; \(lossFn)(c, o); *loss = (double)o[0]; }\n"
        r += "    if (!d_s && !d_u) return 0;\n"
        r += reverse(plan, &w, p, setOf)
        r += "    if (d_s) for (i = 0; i < n; i++) d_s[i] = (\(T))ds[i];\n"
        r += "    if (d_u) for (i = 0; i < n; i++) d_u[i] = \(dv.reachesU ? "(\(T))du[i]" : CLiteral.c(0, p));\n"
        r += "    return 0;\n}\n\n"

        let readsU = [RankingInput.ui, .uj].contains { w.text.contains(w.leaf($0.rawValue)) }
        r = r.replacingOccurrences(of: "/*u*/", with: readsU ? "    if (!u) { \(T) *z; LOSSC_RK_TRY(z = LOSSC_RK_NEW(ar, \(T), n)); u = z; }\n" : "")
        let argDecls = slots.indices.filter { slots[$0].kind == .maxBelow }.map { "    int64_t *arg\($0) = NULL;\n" }.joined()
        let run = "static int \(w.stem)_run_\(p.rawValue)(lossc_rk_arena *ar, int64_t n, const \(T) *s, const \(T) *y, const \(T) *u, "
            + "\(T) *d_s, \(T) *d_u, double *loss)\n{\n" + argDecls + r
        var out = "/* -- \(T) -- */\n\n" + ctx + w.text + run
        let runName = "\(w.stem)_run_\(p.rawValue)"
        out += prototype(prefix, p) + "\n{\n    lossc_rk_arena ar = { NULL, NULL };\n    double loss = (double)NAN;\n"
        out += "    if (n < 0 || (n > 0 && (!s || !y))) return (double)NAN;\n"
        out += "    if (\(runName)(&ar, n, s, y, u, d_s, d_u, &loss) != 0) loss = (double)NAN;\n"
        out += "    lossc_rk_free(&ar);\n    return loss;\n}\n\n"
        out += prototype(prefix, p, workspace: true) + "\n{\n    double loss = (double)NAN;\n"
        out += "    if (!ws) return \(prefix)_\(p.rawValue)(n, s, y, u, d_s, d_u);\n"
        out += "    if (n < 0 || (n > 0 && (!s || !y))) return (double)NAN;\n"
        out += "    if (\(runName)(&ws->ar, n, s, y, u, d_s, d_u, &loss) != 0) loss = (double)NAN;\n"
        out += "    lossc_rk_release(&ws->ar, NULL);\n    return loss;\n}\n\n"
        return out
    }
}

import LossDSL
import LossRanking

/// The reverse pass of an emitted ranking kernel and the comment at the top of its files.
///
/// The reverse pass accumulates in double, slot by slot from the last, as
/// `RankingKernel.evaluate` does: the loss's partials seed the batch-level adjoints; a reached
/// `pairsum` weights its row sums by its per-positive adjoint (to the positive's s, u, or
/// earlier slots) and its column sums by the same weights (to each member's s, u); the other
/// constructs spread their adjoint (over the positives, or to the argmax for `max_below`) times
/// their argument's partials.
extension CRankingEmitter {
    static func reverse(_ plan: RankingPlan, _ w: inout CRankingExpressions, _ p: CPrecision,
                        _ setOf: (Int) -> String) -> String {
        let f = plan.formula, dv = plan.derivatives, T = p.cType
        /// The statement adding v to the adjoint of a leaf that is a slot (nothing for other leaves).
        func add(_ leaf: Int, _ v: String, positive: String?) -> String {
            guard leaf >= RankingInput.firstSlot else { return "" }
            let k = leaf - RankingInput.firstSlot
            if f.slots[k].level == .batch { return "adj_b[\(k)] += \(v);" }
            return positive.map { "adj_a\(k)[\($0)] += \(v);" } ?? ""
        }
        var r = "    double *ds, *du;\n    LOSSC_RK_TRY(ds = LOSSC_RK_NEW(ar, double, n));\n    LOSSC_RK_TRY(du = LOSSC_RK_NEW(ar, double, \(dv.reachesU ? "n" : "0")));\n    (void)du;\n"
        for (k, s) in f.slots.enumerated() where s.level == .anchor {
            r += "    double *adj_a\(k);\n    LOSSC_RK_TRY(adj_a\(k) = LOSSC_RK_NEW(ar, double, np));\n    (void)adj_a\(k);\n"
        }
        if !dv.root.nodes.isEmpty {
            let fn = w.batch(dv.root.nodes)
            r += "    {\n        \(T) o[\(dv.root.nodes.count)];\n        \(fn)(c, o);\n"
            for (i, leaf) in dv.root.leaves.enumerated() { r += "        " + add(leaf, "(double)o[\(i)]", positive: nil) + "\n" }
            r += "    }\n"
        }
        for k in f.slots.indices.reversed() where dv.reached[k] {
            if let pair = plan.pairs[k], !(pair.rows.isEmpty && pair.columns.isEmpty) {
                r += "    {   /* slot \(k) (pairsum) backward */\n        \(T) *wt;\n"
                r += "        LOSSC_RK_TRY(wt = LOSSC_RK_NEW(ar, \(T), np));\n        for (i = 0; i < np; i++) wt[i] = (\(T))adj_a\(k)[i];\n"
                for (target, e) in pair.rows {
                    let fn = w.rows(e)
                    let apply: String
                    switch target {
                    case .s: apply = "ds[pos[i]] += v;"
                    case .u: apply = "du[pos[i]] += v;"
                    case .slot(let k2): apply = add(RankingInput.slotIndex(k2), "v", positive: "i")
                    }
                    r += "        {\n            double *rr;\n            LOSSC_RK_TRY(rr = LOSSC_RK_NEW(ar, double, np));\n"
                    r += "            LOSSC_RK_TRY(\(fn)(ar, c, \(setOf(k)), rr) == 0);\n"
                    r += "            for (i = 0; i < np; i++) { const double v = (double)wt[i] * rr[i]; \(apply) (void)v; }\n        }\n"
                }
                for (target, e) in pair.columns {
                    let fn = w.columns(e), S = setOf(k), out = target == .s ? "ds" : "du"
                    r += "        LOSSC_RK_TRY(\(fn)(ar, c, \(S), wt, \(out)) == 0);\n"
                }
                r += "    }\n"
            } else if let a = plan.anchors[k], !a.backward.isEmpty {
                let fn = w.anchor(a.backward)
                r += "    if (np > 0) {   /* slot \(k) (\(f.slots[k].name)) backward */\n        double *wt;\n"
                r += "        LOSSC_RK_TRY(wt = LOSSC_RK_NEW(ar, double, np));\n"
                switch f.slots[k].kind {
                case .meanPositive: r += "        for (i = 0; i < np; i++) wt[i] = adj_b[\(k)] / (double)np;\n"
                case .sumPositive: r += "        for (i = 0; i < np; i++) wt[i] = adj_b[\(k)];\n"
                default: r += "        for (i = 0; i < np; i++) wt[arg\(k)[i]] += adj_a\(k)[i];\n"
                }
                for i in a.backward.indices { r += "        \(T) *pr\(i);\n        LOSSC_RK_TRY(pr\(i) = LOSSC_RK_NEW(ar, \(T), np));\n" }
                r += "        { \(T) *const o[\(a.backward.count)] = { \(a.backward.indices.map { "pr\($0)" }.joined(separator: ", ")) }; \(fn)(c, o); }\n"
                for (i, leaf) in a.leaves.enumerated() {
                    let apply: String
                    if leaf == RankingInput.si.rawValue { apply = "ds[pos[i]] += v;" }
                    else if leaf == RankingInput.ui.rawValue { apply = "du[pos[i]] += v;" }
                    else { apply = add(leaf, "v", positive: "i") }
                    if apply.isEmpty { continue }
                    r += "        for (i = 0; i < np; i++) { const double v = wt[i] * (double)pr\(i)[i]; \(apply) }\n"
                }
                r += "    }\n"
            }
        }
        return r
    }

    /// Provenance, the formula, the evaluation plan and the calling convention.
    static func headerComment(_ plan: RankingPlan, prefix: String, precisions: [CPrecision], command: String?) -> String {
        let f = plan.formula.formula
        var s = "/*\n * Generated by lossc \(Codegen.version) (C backend, ranking). Do not edit; regenerate with\n"
        s += " *     \(CNames.commentText(Provenance.regenerate(command, path: f.file.path, target: "c"), multiline: false))\n *\n"
        s += " * Ranking loss '\(CNames.commentText(f.name, multiline: false))'"
        s += f.params.isEmpty ? ", no params.\n" : ", params fixed at emission (re-emit with --param NAME=VALUE to change): "
            + f.params.map { "\(CNames.commentText($0.name, multiline: false)) = \(formatNumber($0.value))" }.joined(separator: ", ") + ".\n"
        s += " * Source formula:\n *\n"
        let lines = String(decoding: f.file.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines.prefix(60) { s += " *     " + CNames.commentText(String(line), multiline: false) + "\n" }
        if lines.count > 60 { s += " *     ... (\(lines.count - 60) more lines)\n" }
        s += " *\n * Evaluation (no sort of the batch: entries bucketed between the scores where a positive's pairs cross a breakpoint, sums per bucket):\n"
        for line in plan.summary { s += " *   " + CNames.commentText(line, multiline: false) + "\n" }
        let name = "\(prefix)_\(precisions.first?.rawValue ?? "f32")"
        let T = precisions.first?.cType ?? "float"
        s += """
         *
         * Calling it (\(precisions.map { "\(prefix)_\($0.rawValue)" }.joined(separator: ", "))):
         *
         *     double loss = \(name)(n, s, y, u, d_s, d_u);
         *
         *   n      entries of the batch (every image, anchor and class, flattened), n >= 0
         *   s      [n] scores (raw logits), finite
         *   y      [n] labels: 1 positive, 0 negative, -1 ignored (> 0.5 positive, < -0.5 ignored)
         *   u      [n] qualities in [0, 1] (e.g. (GIoU + 1)/2 of positives), or NULL for all 0
         *   d_s    [n] out: d loss / d s (0 for ignored entries), or NULL
         *   d_u    [n] out: d loss / d u (zeros when \(CNames.reachesUMacro(prefix)) is 0), or NULL
         *
         * Returns the loss of the whole batch (\(T) math, sums accumulated in double), NaN when n < 0,
         * s or y is NULL with n > 0, or memory runs out. With d_s and d_u both NULL only the
         * value is computed. Temporaries are allocated per call (O(n)); no global state, so
         * concurrent calls are safe. For repeated calls (a training loop), keep a workspace:
         *
         *     \(prefix)_workspace *ws = \(prefix)_workspace_new();     (one per thread)
         *     loss = \(name)_ws(ws, n, s, y, u, d_s, d_u);          (every step)
         *     \(prefix)_workspace_free(ws);
         *
         * it keeps the temporaries' memory between calls (no fresh pages to fault in: about 2x
         * faster at 10^6 entries); a NULL ws allocates per call. Build with e.g.
         * cc -O3 -fno-math-errno -c FILE.c (never -ffast-math: it deletes NaN checks); link with -lm.
         */

        """
        return s
    }
}

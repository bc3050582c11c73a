import LossDSL
import LossRanking

/// The row and column sums of one pair expression in C, from its `PairPiecewise` form, as
/// `SortedPairSums` computes them, except that the set's members are grouped in buckets between
/// the scores where some positive's pairs cross a breakpoint instead of sorted
/// (`lossc_rk_set_build`): positives by ascending score; for each, the bucket range of every
/// interval of d (a table lookup); a polynomial interval's terms A(i)·p(d)·W(j) from prefix
/// sums of W, W·s, W·s² at bucket edges (rows) or on difference arrays over buckets (columns),
/// with the coefficients of p as double literals; a general interval and the pairs exactly at a
/// breakpoint pair by pair over the members' positions (`pair` / `pcol`). Sums accumulate in
/// double, so the result equals the sorted evaluation's up to the order of those sums.
extension CRankingExpressions {
    /// `int NAME(lossc_rk_arena *ar, const ctx *c, const set *S, double *out)`: out[p] = Σ_j q(p, j).
    mutating func rows(_ e: RankingPlan.PairExpression) -> String {
        let (name, new) = reserve("rows\(e.node)", "rows")
        guard new else { return name }
        let form = e.form
        let direct = needsDirect(form) ? pairSum(e.node) : nil
        let (setup, factorIndex) = factors(e, columns: false)
        var s = "static int \(name)(lossc_rk_arena *ar, const \(ctx) *c, const \(set) *S, double *out)\n{\n"
        s += header(form) + setup
        s += "    for (q = 0; q < c->np; q++) {\n        const int64_t p = c->by_score[q];\n"
        s += "        const \(T) si = c->s[c->pos[p]];\n        const double x = (double)si;\n        double total = 0.0;\n        (void)x;\n"
        s += intervals(form, direct: { "total += \(direct!)(c, S, p, \($0));" }) { t, range in
            let v = "lossc_rk_row_term(pf\(factorIndex(t.w)), \(range), x, \(lit(t.p.c0)), \(lit(t.p.c1)), \(lit(t.p.c2)))"
            return "total += " + (t.a.map { "(double)a\(e.anchorFactors.firstIndex(of: $0)!)[p] * \(v)" } ?? v) + ";"
        }
        s += "        out[p] = total;\n    }\n    lossc_rk_release(ar, mark);\n    return 0;\n}\n\n"
        append(s)
        return name
    }

    /// `int NAME(lossc_rk_arena *ar, const ctx *c, const set *S, const T *weights, double *out)`:
    /// out[j] += Σ_p weights[p]·q(p, j) for each member j (out is indexed by entry).
    mutating func columns(_ e: RankingPlan.PairExpression) -> String {
        let (name, new) = reserve("cols\(e.node)", "cols")
        guard new else { return name }
        let form = e.form
        let direct = needsDirect(form) ? pairColumn(e.node) : nil
        let (setup, factorIndex) = factors(e, columns: true)
        let used = usedWeights(form), nw = used.count
        var s = "static int \(name)(lossc_rk_arena *ar, const \(ctx) *c, const \(set) *S, const \(T) *weights, double *out)\n{\n"
        s += header(form) + setup
        s += "    for (q = 0; q < c->np; q++) {\n        const int64_t p = c->by_score[q];\n"
        s += "        const \(T) si = c->s[c->pos[p]];\n        const double x = (double)si, wp = (double)weights[p];\n        (void)x; (void)wp;\n"
        if nw > 0 { s += prefetch("df", stride: 3 * nw, form) }
        s += intervals(form, direct: { "\(direct!)(c, S, p, \($0), wp, out);" }) { t, range in
            let weight = t.a.map { "wp * (double)a\(e.anchorFactors.firstIndex(of: $0)!)[p]" } ?? "wp"
            return "lossc_rk_col_term(df + \(3 * factorIndex(t.w)), \(3 * nw), \(range), \(weight), x, \(lit(t.p.c0)), \(lit(t.p.c1)), \(lit(t.p.c2)));"
        }
        s += "    }\n"
        if nw > 0 {
            let list = used.map { w in w.map { "w\(e.entryFactors.firstIndex(of: $0)!)" } ?? "NULL" }
            s += "    { const \(T) *const wl[\(nw)] = { \(list.joined(separator: ", ")) }; lossc_rk_diff_finish\(precision.helperSuffix)(S, df, \(nw), wl, out); }\n"
        }
        s += "    lossc_rk_release(ar, mark);\n    return 0;\n}\n\n"
        append(s)
        return name
    }

    /// The per-positive body shared by row and column sums: the position range of every interval
    /// of d, each polynomial interval's `term` statements, and a `direct` (pair-by-pair)
    /// statement for each general interval and for the pairs at (or within 8 ulps of) each breakpoint.
    func intervals(_ form: PairPiecewise, direct: (String) -> String, term: (PairTerm, String) -> String) -> String {
        var s = "        lossc_rk_ranges\(precision.helperSuffix)(S, p, \(form.cuts.isEmpty ? "NULL" : "cut_at"), \(form.cuts.count), edge);\n"
        // Terms read prefix sums and difference arrays at bucket edges; a pair-by-pair range
        // runs over the group lists of its buckets (S->gstart of its edges).
        func positions(_ a: Int, _ b: Int) -> (range: String, nonEmpty: String) {
            ("S->gstart[edge[\(a)]], S->gstart[edge[\(b)]]", "if (S->gstart[edge[\(a)]] < S->gstart[edge[\(b)]])")
        }
        for (k, f) in form.forms.enumerated() {
            let range = "edge[\(2 * k)], edge[\(2 * k + 1)]", nonEmpty = "if (edge[\(2 * k)] < edge[\(2 * k + 1)])"
            switch f {
            case .general:
                let at = positions(2 * k, 2 * k + 1)
                s += "        \(at.nonEmpty) \(direct(at.range))\n"
            case .terms(let terms) where !terms.isEmpty:
                s += "        \(nonEmpty) {\n" + terms.map { "            " + term($0, range) + "\n" }.joined() + "        }\n"
            case .terms: break
            }
        }
        for k in form.cuts.indices {
            let at = positions(2 * k + 1, 2 * k + 2)
            s += "        \(at.nonEmpty) \(direct(at.range))\n"
        }
        return s
    }

    /// The positive `prefetchDistance` places later in score order: its interval edges, and a
    /// request for the records of `array` there (`lossc_rk_prefetch_edges`).
    func prefetch(_ array: String, stride: Int, _ form: PairPiecewise) -> String {
        let n = 2 * form.cuts.count + 2, d = Self.prefetchDistance
        return "        if (q + \(d) < c->np) {\n            int64_t ahead[\(n)];\n"
            + "            lossc_rk_ranges\(precision.helperSuffix)(S, c->by_score[q + \(d)], \(form.cuts.isEmpty ? "NULL" : "cut_at"), \(form.cuts.count), ahead);\n"
            + "            lossc_rk_prefetch_edges(\(array), \(stride), ahead, \(n));\n        }\n"
    }

    /// How many positives ahead the records are asked for (PAP's d/du column sum, 10k
    /// positives over 200k buckets: 8 gave 10.8 -> 8.9 ms).
    static var prefetchDistance: Int { 8 }

    /// Whether any pair is evaluated pair by pair (a general interval, or a breakpoint).
    func needsDirect(_ form: PairPiecewise) -> Bool { !form.cuts.isEmpty || form.forms.contains(.general) }

    /// The per-entry factors the terms use (nil: W = 1), in first-use order.
    func usedWeights(_ form: PairPiecewise) -> [NodeID?] {
        var out: [NodeID?] = []
        for case .terms(let ts) in form.forms { for t in ts where !out.contains(t.w) { out.append(t.w) } }
        return out
    }

    /// A double literal for a polynomial coefficient.
    func lit(_ v: Double) -> String { CLiteral.c(v, .f64) }

    /// Locals shared by row and column sums: where the breakpoints are among the formula's
    /// cuts (`RankingPlan.allCuts`, whose thresholds each set was built for), range edges.
    func header(_ form: PairPiecewise) -> String {
        let nc = form.cuts.count, all = plan.allCuts
        var s = ""
        if nc > 0 {
            let at = form.cuts.map { cut in String(all.firstIndex(of: cut)!) }
            s += "    static const int cut_at[\(nc)] = { \(at.joined(separator: ", ")) }; /* \(form.cuts.map(lit).joined(separator: ", ")) */\n"
        }
        s += "    int64_t edge[\(2 * nc + 2)], q;\n"
        s += "    lossc_rk_block *const mark = ar->head; /* temporaries from here on are released on return */\n"
        return s
    }

    /// Allocates and fills the factor arrays a0.. (per positive) and w0.. (per member), and the
    /// prefix sums pf<k> of each used W (rows) or one difference array df for all of them,
    /// interleaved per bucket (columns; W number k at offset 3k of each bucket's 3·nw doubles).
    mutating func factors(_ e: RankingPlan.PairExpression, columns: Bool) -> (String, (NodeID?) -> Int) {
        var s = ""
        let a = e.anchorFactors, w = e.entryFactors
        if !a.isEmpty {
            let f = anchor(a)
            for k in a.indices { s += "    \(T) *a\(k);\n    LOSSC_RK_TRY(a\(k) = LOSSC_RK_NEW(ar, \(T), c->np));\n" }
            s += "    { \(T) *const o[\(a.count)] = { \(a.indices.map { "a\($0)" }.joined(separator: ", ")) }; \(f)(c, o); }\n"
        }
        if !w.isEmpty {
            let f = entry(w)
            for k in w.indices { s += "    \(T) *w\(k);\n    LOSSC_RK_TRY(w\(k) = LOSSC_RK_NEW(ar, \(T), S->m));\n" }
            s += "    { \(T) *const o[\(w.count)] = { \(w.indices.map { "w\($0)" }.joined(separator: ", ")) }; \(f)(c, S, o); }\n"
        }
        let used = usedWeights(e.form)
        if columns, !used.isEmpty {
            // one array, the factors' coefficients interleaved per bucket (lossc_rk_diff_finish)
            s += "    double *df;\n    LOSSC_RK_TRY(df = LOSSC_RK_NEW(ar, double, \(3 * used.count) * (S->nt + 2)));\n"
        }
        for (k, factor) in used.enumerated() where !columns {
            if let factor {
                s += "    double *pf\(k);\n    LOSSC_RK_TRY(pf\(k) = LOSSC_RK_NEW(ar, double, 3 * (S->nt + 2)));\n"
                s += "    lossc_rk_prefix\(precision.helperSuffix)(S, w\(w.firstIndex(of: factor)!), pf\(k));\n"
            } else {
                s += "    const double *const pf\(k) = S->pf1;\n"
            }
        }
        return (s, { factor in used.firstIndex(of: factor)! })
    }
}

extension RankingPlan {
    /// Every breakpoint of every pair expression, ascending and distinct: each set's thresholds
    /// are built for all of them once (`lossc_rk_set_build`), and a row or column sum names
    /// its own breakpoints by their index here.
    var allCuts: [Double] {
        var all = Set<Double>()
        for p in pairs.values { for e in p.expressions { all.formUnion(e.form.cuts) } }
        return all.sorted()
    }
}

extension RankingPlan.PairSlot {
    /// The slot's pair expressions: its argument, then its row and column partials.
    var expressions: [RankingPlan.PairExpression] { [forward] + rows.map(\.expression) + columns.map(\.expression) }
}

/// The fixed Python of emitted torch ranking modules: what every ranking loss needs whatever
/// its formula (as `CRankingRuntime` is for C), written with `torch.sort`, `torch.cumsum`,
/// `torch.searchsorted`, `index_add_` and `repeat_interleave`: no Python loop over entries or
/// positives.
///
/// - `_Set`: a set's members by ascending score (`positives`, `negatives`, `valid`,
///   `top(set, K)` with ties at the cut going to the lower entry index, as `RankingSort.members`);
/// - `_prefix`: prefix sums of W, W·s, W·s² (float64) and `_row_term`, a polynomial interval's
///   row sum from them (`SortedPairSums.rowSums`);
/// - `_col_term` / `_col_finish`: column terms on a difference array and its running sum;
/// - `_ranges`: for every positive, the position range of each interval of d and of the pairs
///   at (or within 8 ulps of) each breakpoint (the first position with fl(s_j - s_i) ≥ b − w,
///   resp. > b + w);
/// - `_pairs`: the (positive, position) pairs of a list of ranges, for the pair-by-pair parts;
/// - `_max_below`: `max_below` over the positives by ascending score.
enum TorchRankingRuntime {
    static let text = """
    _ACC = torch.float64  # sums accumulate in float64, as the C and Swift kernels do in double


    class _Set:
        # members (entry indices) by ascending score, their scores, and what every pair expression
        # over the set shares within one call: the prefix sums of 1, the interval edges per list
        # of breakpoints, the pair lists per list of ranges
        __slots__ = ("entries", "scores", "m", "pf1", "edges", "pairs")

        def __init__(self, entries, s):
            self.entries = entries
            self.scores = s[entries]
            self.m = entries.numel()
            self.pf1 = None
            self.edges = {}
            self.pairs = {}


    class _Ctx:
        # what the formula's functions read: every entry's s and u, the positives' si and ui,
        # the slots' values (a: per positive, b: per batch) and the counts
        pass


    def _members(s, y, sorted_valid, base, top):
        # base 0 positives, 1 negatives, 2 valid; sorted_valid is sorted by (score, index)
        if base == 0:
            e = sorted_valid[y[sorted_valid] > 0.5]
        elif base == 1:
            e = sorted_valid[y[sorted_valid] <= 0.5]
        else:
            e = sorted_valid
        m = e.numel()
        if top is not None and m > top:
            if top <= 0:
                e = e[:0]
            else:
                sc = s[e]
                cut = sc[m - top].reshape(1)
                above = torch.searchsorted(sc, cut, right=True)  # first score > cut
                first = torch.searchsorted(sc, cut)  # first score == cut
                k = torch.arange(m, device=e.device)
                keep = top - (m - above)
                e = e[(k >= above) | ((k >= first) & (k < first + keep))]
        return _Set(e, s)


    def _prefix(S, w):
        # prefix sums [m + 1, 3] of W, W s, W s^2 (W = 1 when w is None), in float64
        sc = S.scores.to(_ACC)
        wk = torch.ones_like(sc) if w is None else w.to(_ACC)
        terms = torch.stack([wk, wk * sc, wk * sc * sc], 1)
        return torch.cat([torch.zeros((1, 3), dtype=_ACC, device=sc.device), torch.cumsum(terms, 0)], 0)


    def _pf1(S):
        if S.pf1 is None:
            S.pf1 = _prefix(S, None)
        return S.pf1


    def _row_term(pf, lo, hi, x, c0, c1, c2):
        # sum over positions [lo, hi) of W_j p(s_j - x), p = c0 + c1 d + c2 d^2
        s0 = pf[hi, 0] - pf[lo, 0]
        s1 = pf[hi, 1] - pf[lo, 1]
        v = c0 * s0 + c1 * (s1 - x * s0)
        if c2 != 0.0:
            s2 = pf[hi, 2] - pf[lo, 2]
            v = v + c2 * (s2 - 2.0 * x * s1 + x * x * s0)
        return v


    def _col_term(diff, lo, hi, k, x, c0, c1, c2):
        # k p(s_j - x) over positions [lo, hi), as coefficients of 1, s_j, s_j^2 on a difference array
        coef = torch.stack([k * (c0 - c1 * x + c2 * x * x), k * (c1 - 2.0 * c2 * x), k * c2 + 0.0 * x], 1)
        diff.index_add_(0, lo, coef)
        diff.index_add_(0, hi, -coef)


    def _col_finish(S, diff, w, out):
        # out[k] += W_k (c0 + c1 s_k + c2 s_k^2) with the running sums of the difference array
        run = torch.cumsum(diff[:-1], 0)
        sc = S.scores.to(_ACC)
        v = run[:, 0] + sc * (run[:, 1] + sc * run[:, 2])
        out += v if w is None else w.to(_ACC) * v


    def _search(S, si, b, strict):
        # the first position whose fl(s_j - si) >= b (strict: > b): a binary search for si + b,
        # then one step either way where rounding puts fl(s_j - si) on the other side of b
        m = S.m
        pos = torch.searchsorted(S.scores, (si + b).contiguous(), right=strict)
        def after(p):
            # fl(s_j - si) in the compute dtype, compared with b in float64 (as the C kernel does)
            d = (S.scores[p.clamp(0, max(m - 1, 0))] - si).to(_ACC)
            return d > b if strict else d >= b
        if m == 0:
            return pos
        pos = torch.where((pos > 0) & after(pos - 1), pos - 1, pos)
        pos = torch.where((pos < m) & ~after(pos), pos + 1, pos)
        return pos


    def _ranges(S, si, cuts):
        # interval k of d is positions [edge[2k], edge[2k+1]); the pairs at cut k (its window) are
        # [edge[2k+1], edge[2k+2]) (si: the positives' scores, the same for every call on S)
        edge = S.edges.get(cuts)
        if edge is None:
            edge = S.edges[cuts] = _edges(S, si, cuts)
        return edge


    def _edges(S, si, cuts):
        zero = torch.zeros(si.shape, dtype=torch.int64, device=si.device)
        edge = [zero]
        start = zero
        eps = torch.finfo(S.scores.dtype).eps
        for b in cuts:
            # pairs within 8 ulps of a breakpoint are evaluated on their own: their rounded
            # arithmetic may switch there (SortedPairSums.window)
            w = 8 * eps * (abs(b) + 1)
            lo = torch.maximum(_search(S, si, b - w, False), start)
            hi = torch.maximum(_search(S, si, b + w, True), lo)
            edge += [lo, hi]
            start = hi
        edge.append(torch.full(si.shape, S.m, dtype=torch.int64, device=si.device))
        return edge


    def _pair_list(S, edge, cuts, ranges):
        # _pairs of the ranges (pairs of edge numbers) of the intervals of cuts, once per set
        key = (cuts, ranges)
        hit = S.pairs.get(key)
        if hit is None:
            hit = S.pairs[key] = _pairs([edge[a] for a, _ in ranges], [edge[b] for _, b in ranges])
        return hit


    def _pairs(los, his):
        # the (positive, position) pairs of the ranges [los[r][p], his[r][p]); one host read
        # (the number of pairs, which sizes the result)
        lo = torch.cat(los)
        hi = torch.cat(his)
        np_ = los[0].numel()
        owner = torch.arange(np_, device=lo.device).repeat(len(los))
        counts = (hi - lo).clamp(min=0)
        pi = torch.repeat_interleave(owner, counts)
        starts = torch.cumsum(counts, 0) - counts
        k = torch.arange(pi.numel(), device=lo.device) - torch.repeat_interleave(starts - lo, counts)
        return pi, k


    def _max_below(c, values):
        # for each positive the largest value over the positives scored at or below it (a group of
        # equal scores sees the whole group), and the positive where it is first attained
        n = values.numel()
        order = c.by_score
        if n == 0:
            return values, order
        v = values[order]
        best, _ = torch.cummax(v, 0)
        q = torch.arange(n, device=v.device)
        changed = torch.ones(n, dtype=torch.bool, device=v.device)
        changed[1:] = best[1:] != best[:-1]
        first, _ = torch.cummax(torch.where(changed, q, 0), 0)
        ss = c.si[order]
        end = torch.searchsorted(ss, ss, right=True) - 1
        out = torch.empty_like(values)
        out[order] = best[end]
        arg = torch.empty_like(order)
        arg[order] = order[first[end]]
        return out, arg



    """
}

import LossDSL

/// The two sums a `pairsum` needs, for a pair expression q with a `PairPiecewise` form, over a
/// set J of entries sorted by score:
///
/// - row sums, for each positive i: R(i) = Σ_{j ∈ J} q(i, j)  (the value, and the backward
///   pass to the positive's own inputs);
/// - weighted column sums, for each j ∈ J: C(j) = Σ_i ā(i) q(i, j)  (the backward pass to the
///   other entry's inputs).
///
/// For positive i, the entries with d = s_j - s_i in one interval of the form are a contiguous
/// range of J (two searches per breakpoint, comparing fl(s_j - s_i) exactly as the reference
/// does; galloping from the previous positive's answer, positives taken by ascending score). On a polynomial interval a term A(i)·p(d)·W(j) sums with prefix sums of W,
/// W·s and W·s² (row sums), or adds its coefficients in s_j to difference arrays over the range
/// (column sums); general intervals and the pairs at (or within 8 ulps of) a breakpoint are evaluated pair by
/// pair with the tape. Cost: a sort, O(P·B·log|J|) searches for B breakpoints, O(|J|) prefix
/// work, plus the pairs in general intervals. Sums are accumulated in Double.
struct SortedPairSums<T: LossReal> {
    /// J: entry indices by ascending score, and the scores.
    let entries: [Int]
    let scores: [T]

    init(entries: [Int], batch: RankingBatch<T>) {
        self.entries = entries
        scores = entries.map { batch.s[$0] }
    }

    /// Prefix sums of W, W·s, W·s² over J (W = 1 when `w` is nil).
    struct Prefix { var w: [Double], ws: [Double], ws2: [Double] }

    func prefix(_ w: [T]?) -> Prefix {
        let n = entries.count
        var p = Prefix(w: [Double](repeating: 0, count: n + 1), ws: [Double](repeating: 0, count: n + 1), ws2: [Double](repeating: 0, count: n + 1))
        var a = 0.0, b = 0.0, c = 0.0
        for k in 0..<n {
            let wk = w.map { Double($0[k]) } ?? 1, s = Double(scores[k])
            a += wk; b += wk * s; c += wk * s * s
            p.w[k + 1] = a; p.ws[k + 1] = b; p.ws2[k + 1] = c
        }
        return p
    }

    /// The first position whose fl(s_j - si) is >= b (`strict`: > b), searched from `hint`
    /// outward by doubling steps (galloping): positives are visited by ascending score, so the
    /// answer moves little and monotonically from one positive to the next.
    func search(_ si: T, _ b: Double, strict: Bool, hint: inout Int) -> Int {
        @inline(__always) func after(_ k: Int) -> Bool {
            let d = Double(scores[k] - si)
            return strict ? d > b : d >= b
        }
        let n = entries.count
        var lo: Int, hi: Int
        let h = Swift.min(Swift.max(hint, 0), n)
        if h < n && !after(h) {
            // The answer is above h.
            var step = 1
            lo = h + 1; hi = h + 1
            while hi < n && !after(hi) { lo = hi + 1; hi = Swift.min(n, hi + step); step <<= 1 }
            hi = Swift.min(hi, n)
        } else {
            var step = 1
            hi = h; lo = h
            while lo > 0 && after(lo - 1) { hi = lo - 1; lo = Swift.max(0, lo - step); step <<= 1 }
        }
        while lo < hi {
            let mid = (lo + hi) >> 1
            if after(mid) { hi = mid } else { lo = mid + 1 }
        }
        hint = lo
        return lo
    }

    /// How far from a breakpoint b a pair is still evaluated on its own: 8 ulps of T at
    /// max(|b|, 1). The breakpoints are exact math, but the pair's expression switches where its
    /// own rounded arithmetic says: PAP's x = fl(fl(d/2) + 0.5) is exactly 1, its clamp's bound,
    /// at d = 1 + 2^-52, so that pair takes the bound's derivative while the interval d > 1 has
    /// none. Within the window the pair gets exactly the reference's value.
    static func window(_ b: Double) -> Double { 8 * Double(T.ulpOfOne) * (Swift.abs(b) + 1) }

    /// For positive score si: the position ranges of each interval of the form, and of the
    /// pairs at each breakpoint (fl(s_j - si) within `window` of it). `hints` holds two search
    /// starts per breakpoint.
    func ranges(_ si: T, _ form: PairPiecewise, hints: inout [Int]) -> (intervals: [Range<Int>], points: [Range<Int>]) {
        var intervals: [Range<Int>] = [], points: [Range<Int>] = []
        intervals.reserveCapacity(form.cuts.count + 1); points.reserveCapacity(form.cuts.count)
        var start = 0
        for (k, b) in form.cuts.enumerated() {
            let w = Self.window(b)
            let lo = Swift.max(start, search(si, b - w, strict: false, hint: &hints[2 * k]))
            let hi = Swift.max(lo, search(si, b + w, strict: true, hint: &hints[2 * k + 1]))
            intervals.append(start..<lo); points.append(lo..<hi)
            start = hi
        }
        intervals.append(start..<entries.count)
        return (intervals, points)
    }

    /// Row sums for each positive (`anchorScores[p]` = s_i). `a(node, p)` gives a term's
    /// per-positive factor, `w` the prefix sums of each per-entry factor, and `direct(p, range)`
    /// the pair-by-pair sum over a range of positions.
    func rowSums(_ form: PairPiecewise, anchorScores: [T], order: [Int], a: (NodeID, Int) -> T, prefixes: [NodeID?: Prefix],
                 direct: (Int, Range<Int>) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: anchorScores.count)
        var hints = [Int](repeating: 0, count: 2 * form.cuts.count)
        for p in order {
            let si = anchorScores[p], x = Double(si)
            let (intervals, points) = ranges(si, form, hints: &hints)
            var total = 0.0
            for (range, f) in zip(intervals, form.forms) where !range.isEmpty {
                guard case .terms(let terms) = f else { total += direct(p, range); continue }
                for t in terms {
                    let w = prefixes[t.w]!
                    let s0 = w.w[range.upperBound] - w.w[range.lowerBound]
                    let s1 = w.ws[range.upperBound] - w.ws[range.lowerBound]
                    var v = t.p.c0 * s0 + t.p.c1 * (s1 - x * s0)
                    if t.p.c2 != 0 {
                        let s2 = w.ws2[range.upperBound] - w.ws2[range.lowerBound]
                        v += t.p.c2 * (s2 - 2 * x * s1 + x * x * s0)
                    }
                    total += t.a.map { Double(a($0, p)) * v } ?? v
                }
            }
            for range in points where !range.isEmpty { total += direct(p, range) }
            out[p] = total
        }
        return out
    }

    /// Weighted column sums over J's positions. `direct(p, range, weight, &out)` adds
    /// weight·q(p, j) for each position of the range.
    func columnSums(_ form: PairPiecewise, anchorScores: [T], order: [Int], weights: [T], a: (NodeID, Int) -> T, w: [NodeID?: [T]],
                    direct: (Int, Range<Int>, Double, inout [Double]) -> Void) -> [Double] {
        let n = entries.count
        var out = [Double](repeating: 0, count: n)
        // Difference arrays of the coefficients of 1, s_j, s_j^2, per per-entry factor.
        var diff: [NodeID?: [Double]] = [:]
        for case .terms(let ts) in form.forms { for t in ts where diff[t.w] == nil { diff[t.w] = [Double](repeating: 0, count: 3 * (n + 1)) } }
        var hints = [Int](repeating: 0, count: 2 * form.cuts.count)
        for p in order {
            let si = anchorScores[p], x = Double(si), wp = Double(weights[p])
            let (intervals, points) = ranges(si, form, hints: &hints)
            for (range, f) in zip(intervals, form.forms) where !range.isEmpty {
                guard case .terms(let terms) = f else { direct(p, range, wp, &out); continue }
                for t in terms {
                    let k = t.a.map { wp * Double(a($0, p)) } ?? wp
                    let c = (k * (t.p.c0 - t.p.c1 * x + t.p.c2 * x * x), k * (t.p.c1 - 2 * t.p.c2 * x), k * t.p.c2)
                    diff[t.w]!.withUnsafeMutableBufferPointer { d in
                        let lo = 3 * range.lowerBound, hi = 3 * range.upperBound
                        d[lo] += c.0; d[lo + 1] += c.1; d[lo + 2] += c.2
                        d[hi] -= c.0; d[hi + 1] -= c.1; d[hi + 2] -= c.2
                    }
                }
            }
            for range in points where !range.isEmpty { direct(p, range, wp, &out) }
        }
        for (factor, d) in diff {
            var c0 = 0.0, c1 = 0.0, c2 = 0.0
            let values = factor.map { w[$0]! }
            for k in 0..<n {
                c0 += d[3 * k]; c1 += d[3 * k + 1]; c2 += d[3 * k + 2]
                let s = Double(scores[k])
                let v = c0 + s * (c1 + s * c2)
                out[k] += values.map { Double($0[k]) * v } ?? v
            }
        }
        return out
    }
}

import LossDSL

/// The passes of `RankingKernel` over one batch: filling the tapes, the sorted strategy's row
/// and column sums (`SortedPairSums`), and the direct strategy's pair-by-pair sums.
extension RankingKernel {
    // MARK: - Filling tapes

    func setBatch(_ t: RankingTape<T>, _ ctx: Context) {
        t.setUniform(RankingInput.numPositive.rawValue, ctx.counts.0)
        t.setUniform(RankingInput.numNegative.rawValue, ctx.counts.1)
        t.setUniform(RankingInput.numValid.rawValue, ctx.counts.2)
        for (k, v) in ctx.batchValues.enumerated() where formula.slots[k].level == .batch { t.setUniform(RankingInput.slotIndex(k), v) }
    }

    func setPositive(_ t: RankingTape<T>, _ ctx: Context, _ p: Int) {
        let i = ctx.pos[p]
        t.setUniform(RankingInput.si.rawValue, ctx.batch.s[i])
        t.setUniform(RankingInput.ui.rawValue, ctx.batch.u[i])
        for (k, v) in ctx.anchorValues.enumerated() where !v.isEmpty { t.setUniform(RankingInput.slotIndex(k), v[p]) }
    }

    /// Every root of an anchor-level tape at every positive.
    func runAnchors(_ t: RankingTape<T>, _ ctx: inout Context) -> [[T]] {
        let np = ctx.pos.count, roots = t.rootCount
        var out = [[T]](repeating: [T](repeating: 0, count: np), count: roots)
        setBatch(t, ctx); t.runUniform()
        var start = 0
        while start < np {
            let n = Swift.min(t.blockSize, np - start)
            if let b = t.varyingInput(RankingInput.si.rawValue) { for q in 0..<n { b[q] = ctx.batch.s[ctx.pos[start + q]] } }
            if let b = t.varyingInput(RankingInput.ui.rawValue) { for q in 0..<n { b[q] = ctx.batch.u[ctx.pos[start + q]] } }
            for (k, v) in ctx.anchorValues.enumerated() where !v.isEmpty {
                if let b = t.varyingInput(RankingInput.slotIndex(k)) { for q in 0..<n { b[q] = v[start + q] } }
            }
            t.run(count: n)
            for r in 0..<roots {
                let (v, s) = t.root(r)
                for q in 0..<n { out[r][start + q] = v[q * s] }
            }
            start += n
        }
        return out
    }

    /// Fills the pair inputs for positions `range` of a set, starting at `at`.
    func fillPairs(_ t: RankingTape<T>, _ set: SortedPairSums<T>, _ ctx: Context, si: T, _ range: Range<Int>) {
        let d = t.varyingInput(RankingInput.d.rawValue), sj = t.varyingInput(RankingInput.sj.rawValue), uj = t.varyingInput(RankingInput.uj.rawValue)
        for (q, position) in range.enumerated() {
            let j = set.entries[position]
            d?[q] = ctx.batch.s[j] - si
            sj?[q] = ctx.batch.s[j]
            uj?[q] = ctx.batch.u[j]
        }
    }

    // MARK: - Sorted strategy

    func factors(_ node: PairNode, _ set: SortedPairSums<T>, _ ctx: inout Context) -> (a: [NodeID: [T]], w: [NodeID: [T]]) {
        var a: [NodeID: [T]] = [:], w: [NodeID: [T]] = [:]
        if let t = node.aTape { for (r, v) in runAnchors(t, &ctx).enumerated() { a[node.aNodes[r]] = v } }
        if let t = node.wTape {
            setBatch(t, ctx); t.runUniform()
            var values = [[T]](repeating: [T](repeating: 0, count: set.entries.count), count: node.wNodes.count)
            var start = 0
            while start < set.entries.count {
                let n = Swift.min(t.blockSize, set.entries.count - start)
                fillPairs(t, set, ctx, si: 0, start..<(start + n))
                t.run(count: n)
                for r in node.wNodes.indices { let (v, s) = t.root(r); for q in 0..<n { values[r][start + q] = v[q * s] } }
                start += n
            }
            for (r, n) in node.wNodes.enumerated() { w[n] = values[r] }
        }
        return (a, w)
    }

    func rowSums(_ node: PairNode, _ set: SortedPairSums<T>, _ ctx: inout Context) -> [Double] {
        let (a, w) = factors(node, set, &ctx)
        var prefixes: [NodeID?: SortedPairSums<T>.Prefix] = [nil: set.prefix(nil)]
        for (n, v) in w { prefixes[n] = set.prefix(v) }
        let scores = ctx.pos.map { ctx.batch.s[$0] }
        setBatch(node.tape, ctx)
        let c = ctx
        return set.rowSums(node.form, anchorScores: scores, order: ctx.byScore, a: { a[$0]![$1] }, prefixes: prefixes) { p, range in
            self.directSum(node.tape, set, c, p, range)
        }
    }

    func columnSums(_ node: PairNode, _ set: SortedPairSums<T>, _ ctx: inout Context, weights: [T]) -> [Double] {
        let (a, w) = factors(node, set, &ctx)
        let scores = ctx.pos.map { ctx.batch.s[$0] }
        setBatch(node.tape, ctx)
        let c = ctx
        return set.columnSums(node.form, anchorScores: scores, order: ctx.byScore, weights: weights, a: { a[$0]![$1] }, w: w) { p, range, weight, out in
            self.setPositive(node.tape, c, p); node.tape.runUniform()
            var start = range.lowerBound
            while start < range.upperBound {
                let n = Swift.min(node.tape.blockSize, range.upperBound - start)
                self.fillPairs(node.tape, set, c, si: c.batch.s[c.pos[p]], start..<(start + n))
                node.tape.run(count: n)
                let (v, s) = node.tape.root(0)
                for q in 0..<n { out[start + q] += weight * Double(v[q * s]) }
                start += n
            }
        }
    }

    /// Σ over a range of positions of a one-root pair tape, for positive p.
    func directSum(_ t: RankingTape<T>, _ set: SortedPairSums<T>, _ ctx: Context, _ p: Int, _ range: Range<Int>) -> Double {
        setPositive(t, ctx, p); t.runUniform()
        let si = ctx.batch.s[ctx.pos[p]]
        var total = 0.0, start = range.lowerBound
        while start < range.upperBound {
            let n = Swift.min(t.blockSize, range.upperBound - start)
            fillPairs(t, set, ctx, si: si, start..<(start + n))
            t.run(count: n)
            let (v, s) = t.root(0)
            for q in 0..<n { total += Double(v[q * s]) }
            start += n
        }
        return total
    }

    // MARK: - Direct strategy

    /// Row sums of every root of a pair tape, per positive (the brute force).
    func directRows(_ t: RankingTape<T>, _ set: SortedPairSums<T>, _ ctx: inout Context, weights: [T]?) -> [[Double]] {
        setBatch(t, ctx)
        return ctx.pos.indices.map { p in [directSum(t, set, ctx, p, 0..<set.entries.count)] }
    }

    /// The backward sums of a pair slot pair by pair: row sums of the first `rowCount` roots
    /// and weighted column sums of the others.
    func directBackward(_ t: RankingTape<T>, rowCount: Int, _ set: SortedPairSums<T>, _ ctx: inout Context,
                                weights: [T]) -> ([[Double]], [[Double]]) {
        let np = ctx.pos.count, nj = set.entries.count
        var rows = [[Double]](repeating: [Double](repeating: 0, count: np), count: rowCount)
        var cols = [[Double]](repeating: [Double](repeating: 0, count: nj), count: t.rootCount - rowCount)
        setBatch(t, ctx)
        for p in 0..<np {
            setPositive(t, ctx, p); t.runUniform()
            let si = ctx.batch.s[ctx.pos[p]], w = Double(weights[p])
            var start = 0
            while start < nj {
                let n = Swift.min(t.blockSize, nj - start)
                fillPairs(t, set, ctx, si: si, start..<(start + n))
                t.run(count: n)
                for r in 0..<rowCount { let (v, s) = t.root(r); var sum = 0.0; for q in 0..<n { sum += Double(v[q * s]) }; rows[r][p] += sum }
                for c in cols.indices { let (v, s) = t.root(rowCount + c); for q in 0..<n { cols[c][start + q] += w * Double(v[q * s]) } }
                start += n
            }
        }
        return (rows, cols)
    }
}

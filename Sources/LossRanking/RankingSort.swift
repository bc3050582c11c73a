import LossDSL

/// Sorting entries by score for the ranking kernels: a stable LSD radix sort on the scores'
/// order-preserving 64-bit keys (11-bit digits, so each pass's buckets stay in cache; digits
/// that are the same for every key are skipped), O(n) and much faster than a comparison sort
/// at a million entries. Ties keep their input order.
enum RankingSort {
    /// An unsigned key whose order is the order of the values (-0 and +0 equal, as they
    /// compare; NaN outside).
    @inline(__always) static func key(_ v: Double) -> UInt64 {
        let b = (v == 0 ? 0 : v).bitPattern
        return b >> 63 == 1 ? ~b : b | (1 << 63)
    }

    /// `indices` stably sorted by ascending `scores[index]`.
    static func order<T: LossReal>(_ indices: [Int], scores: [T]) -> [Int] {
        let n = indices.count
        guard n > 1 else { return indices }
        if n < 256 {
            return indices.enumerated().sorted { a, b in
                scores[a.element] != scores[b.element] ? scores[a.element] < scores[b.element] : a.offset < b.offset
            }.map(\.element)
        }
        // A Float converts to a Double with 29 zero low significand bits: its key's low 29 bits
        // carry no order (0 for positives, all ones for negatives), so the digits start above.
        let low = T.significandBitCount <= Float.significandBitCount ? 29 : 0
        let bits = 11, buckets = 1 << bits, mask = UInt64(buckets - 1)
        let shifts = Array(stride(from: low, to: 64, by: bits))
        var keys = indices.map { key(Double(scores[$0])) }, idx = indices
        // All digit histograms in one pass.
        var hist = [Int](repeating: 0, count: shifts.count * buckets)
        for k in keys { for (d, sh) in shifts.enumerated() { hist[d * buckets + Int((k >> UInt64(sh)) & mask)] += 1 } }
        var keys2 = [UInt64](repeating: 0, count: n), idx2 = [Int](repeating: 0, count: n)
        for (d, sh) in shifts.enumerated() {
            let h = hist[(d * buckets)..<((d + 1) * buckets)]
            if h.contains(n) { continue }  // every key has the same digit: nothing to reorder
            var offsets = [Int](repeating: 0, count: buckets)
            var sum = 0
            for (b, c) in h.enumerated() { offsets[b] = sum; sum += c }
            let shift = UInt64(sh)
            keys.withUnsafeBufferPointer { kp in
                idx.withUnsafeBufferPointer { ip in
                    keys2.withUnsafeMutableBufferPointer { k2 in
                        idx2.withUnsafeMutableBufferPointer { i2 in
                            for p in 0..<n {
                                let b = Int((kp[p] >> shift) & mask)
                                let o = offsets[b]
                                k2[o] = kp[p]; i2[o] = ip[p]
                                offsets[b] = o + 1
                            }
                        }
                    }
                }
            }
            swap(&keys, &keys2); swap(&idx, &idx2)
        }
        return idx
    }

    /// The members of `set`, sorted by ascending score, from the valid entries sorted by
    /// (score, index) and the entry labels. `top` keeps the K highest scores, ties at the cut
    /// going to the lower entry index (as `RankingReference.members`).
    static func members<T: LossReal>(_ set: RankingSet, sortedValid: [Int], batch: RankingBatch<T>) -> [Int] {
        var j: [Int]
        switch set.base {
        case .positives: j = sortedValid.filter { batch.y[$0] > 0.5 }
        case .negatives: j = sortedValid.filter { batch.y[$0] <= 0.5 }
        case .valid: j = sortedValid
        }
        guard let k = set.top, j.count > k else { return j }
        let cut = batch.s[j[j.count - k]]
        var above = j.count
        while above > 0, batch.s[j[above - 1]] > cut { above -= 1 }
        var first = above
        while first > 0, batch.s[j[first - 1]] == cut { first -= 1 }
        // Entries at the cut are in index order: keep the lowest indices.
        return Array(j[first..<(first + k - (j.count - above))]) + Array(j[above...])
    }
}

/// Sorting entries by score for the ranking kernels: a stable LSD radix sort on the scores'
/// order-preserving 64-bit keys (4 passes of 16 bits), O(n) and much faster than a comparison
/// sort at a million entries. Ties keep their input order.
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
        // A Float converts to a Double with 29 zero low significand bits, so the lowest 16 bits
        // of its key are the same for every value of one sign: that pass can be skipped.
        let passes = T.significandBitCount <= Float.significandBitCount ? [1, 2, 3] : [0, 1, 2, 3]
        var keys = indices.map { key(Double(scores[$0])) }, idx = indices
        var keys2 = [UInt64](repeating: 0, count: n), idx2 = [Int](repeating: 0, count: n)
        var count = [Int](repeating: 0, count: 1 << 16)
        for pass in passes {
            let shift = UInt64(pass * 16)
            for k in 0..<(1 << 16) { count[k] = 0 }
            for k in keys { count[Int((k >> shift) & 0xFFFF)] += 1 }
            var sum = 0
            for k in 0..<(1 << 16) { let c = count[k]; count[k] = sum; sum += c }
            for p in 0..<n {
                let b = Int((keys[p] >> shift) & 0xFFFF)
                keys2[count[b]] = keys[p]; idx2[count[b]] = idx[p]
                count[b] += 1
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

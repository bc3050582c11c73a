import LossDSL

/// The reference evaluator of ranking losses: the obvious O(P·N) way, every pair (i, j)
/// evaluated on its own with the core `ReferenceEvaluator`, the gradient by reverse
/// accumulation over the slots with the partials of `RankingDerivatives`. Slow and plainly
/// correct: the oracle the fast kernels (`RankingKernel`) are tested against.
///
/// Semantics, shared by every ranking evaluator:
/// - positives P, negatives N and valid entries V = P ∪ N by label; ignored entries are in no set;
/// - `pairsum(e, S)` at positive i is Σ_{j ∈ S} e(i, j), the pair (i, i) included when i ∈ S;
///   `top(S, K)` keeps the K highest scores of S (ties at the cut: lower entry index first);
/// - `max_below(a)` at i is the max of a over the positives k with s_k <= s_i; its derivative
///   goes to the positive attaining it (the first in order of (score, index));
/// - `mean_positive(a)` is Σ_{i ∈ P} a_i / |P|, and 0 (with zero gradient) when P is empty;
/// - d = s_j - s_i rounded in T; ∂d/∂s_j = 1, ∂d/∂s_i = -1.
public struct RankingReference<T: LossReal>: Sendable {
    /// The formula and the partial derivatives the reverse accumulation uses.
    public let formula: RankingFormula
    public let derivatives: RankingDerivatives

    /// Prepares the oracle for a formula.
    public init(_ formula: RankingFormula) {
        self.formula = formula
        derivatives = RankingDerivatives(formula)
    }

    /// The entries of a set (in index order; `top` applied).
    public static func members(_ set: RankingSet, batch: RankingBatch<T>,
                               partition: (positives: [Int], negatives: [Int], valid: [Int])) -> [Int] {
        var j: [Int]
        switch set.base {
        case .positives: j = partition.positives
        case .negatives: j = partition.negatives
        case .valid: j = partition.valid
        }
        if let k = set.top, j.count > k {
            j.sort { batch.s[$0] != batch.s[$1] ? batch.s[$0] > batch.s[$1] : $0 < $1 }
            j = Array(j.prefix(k)).sorted()
        }
        return j
    }

    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    /// The loss of a batch and its gradient with respect to every entry's s (and u).
    public func evaluate(_ batch: RankingBatch<T>) -> RankingResult<T> {
        let f = formula, dv = derivatives, g = dv.graph
        let params = f.formula.paramValues
        let part = batch.partition()
        let pos = part.positives
        let np = pos.count
        var inputs = [InputValue<T>](repeating: .scalar(0), count: RankingInput.firstSlot + f.slots.count)
        func set(_ i: RankingInput, _ v: T) { inputs[i.rawValue] = .scalar(v) }
        set(.numPositive, T(np)); set(.numNegative, T(part.negatives.count)); set(.numValid, T(part.valid.count))

        var anchorValues = [[T]](repeating: [], count: f.slots.count)
        var batchValues = [T](repeating: 0, count: f.slots.count)
        var members = [[Int]](repeating: [], count: f.slots.count)
        var argmax = [[Int]](repeating: [], count: f.slots.count)
        /// Fills the anchor inputs of positive number `p` (slots before `upTo`).
        func anchor(_ p: Int, upTo: Int) {
            let i = pos[p]
            set(.si, batch.s[i]); set(.ui, batch.u[i])
            for k in 0..<upTo where f.slots[k].level == .anchor { inputs[RankingInput.slotIndex(k)] = .scalar(anchorValues[k][p]) }
        }
        func pair(_ p: Int, _ j: Int, upTo: Int) {
            anchor(p, upTo: upTo)
            let i = pos[p]
            set(.d, batch.s[j] - batch.s[i]); set(.sj, batch.s[j]); set(.uj, batch.u[j])
        }
        // Positives in order of (score, index): the scan order of max_below.
        let byScore = (0..<np).sorted { batch.s[pos[$0]] != batch.s[pos[$1]] ? batch.s[pos[$0]] < batch.s[pos[$1]] : $0 < $1 }

        // Forward, slot by slot.
        for (k, slot) in f.slots.enumerated() {
            let ev = ReferenceEvaluator<T>(graph: g, roots: [slot.argument], params: params)
            switch slot.kind {
            case .pairSum(let s):
                members[k] = Self.members(s, batch: batch, partition: part)
                anchorValues[k] = (0..<np).map { p in
                    var sum: T = 0
                    for j in members[k] { pair(p, j, upTo: k); sum += ev.evaluate(inputs)[0][0] }
                    return sum
                }
            case .maxBelow:
                let a = (0..<np).map { p -> T in anchor(p, upTo: k); return ev.evaluate(inputs)[0][0] }
                var values = [T](repeating: 0, count: np), arg = [Int](repeating: 0, count: np)
                for p in 0..<np {
                    var best = -T.infinity, at = p
                    for q in byScore where batch.s[pos[q]] <= batch.s[pos[p]] {
                        if a[q] > best || (a[q].isNaN && !best.isNaN) { best = a[q]; at = q }
                    }
                    values[p] = best; arg[p] = at
                }
                anchorValues[k] = values; argmax[k] = arg
            case .meanPositive, .sumPositive:
                var sum: T = 0
                for p in 0..<np { anchor(p, upTo: k); sum += ev.evaluate(inputs)[0][0] }
                batchValues[k] = slot.kind == .sumPositive ? sum : (np == 0 ? 0 : sum / T(np))
            }
            if slot.level == .batch { inputs[RankingInput.slotIndex(k)] = .scalar(batchValues[k]) }
        }
        let loss = ReferenceEvaluator<T>(graph: g, roots: [f.root], params: params).evaluate(inputs)[0][0]

        // Reverse accumulation over the slots.
        var ds = [T](repeating: 0, count: batch.count), du = [T](repeating: 0, count: batch.count)
        var adjBatch = [T](repeating: 0, count: f.slots.count)
        var adjAnchor = f.slots.map { $0.level == .anchor ? [T](repeating: 0, count: np) : [] }
        /// Adds `weight` times the partials (already evaluated) to the adjoints of earlier slots.
        func spread(_ partials: RankingDerivatives.Partials, _ values: [T], weight: T, positive p: Int?) {
            for (leaf, v) in zip(partials.leaves, values) where leaf >= RankingInput.firstSlot {
                let k = leaf - RankingInput.firstSlot
                if f.slots[k].level == .batch { adjBatch[k] += weight * v } else if let p { adjAnchor[k][p] += weight * v }
            }
        }
        let rootPartials = ReferenceEvaluator<T>(graph: g, roots: dv.root.nodes, params: params).evaluate(inputs).map { $0[0] }
        spread(dv.root, rootPartials, weight: 1, positive: nil)

        for k in f.slots.indices.reversed() where dv.reached[k] {
            let slot = f.slots[k], pd = dv.slots[k]
            guard !pd.nodes.isEmpty else { continue }
            let ev = ReferenceEvaluator<T>(graph: g, roots: pd.nodes, params: params)
            func value(_ leaf: RankingInput, _ v: [T]) -> T { pd.leaves.firstIndex(of: leaf.rawValue).map { v[$0] } ?? 0 }
            /// The anchor-level partials at positive p, weighted.
            func anchorStep(_ p: Int, _ weight: T) {
                anchor(p, upTo: k)
                let v = ev.evaluate(inputs).map { $0[0] }
                ds[pos[p]] += weight * value(.si, v); du[pos[p]] += weight * value(.ui, v)
                spread(pd, v, weight: weight, positive: p)
            }
            switch slot.kind {
            case .meanPositive, .sumPositive:
                guard np > 0 else { continue }
                let w = slot.kind == .sumPositive ? adjBatch[k] : adjBatch[k] / T(np)
                for p in 0..<np { anchorStep(p, w) }
            case .maxBelow:
                var routed = [T](repeating: 0, count: np)
                for p in 0..<np { routed[argmax[k][p]] += adjAnchor[k][p] }
                for p in 0..<np { anchorStep(p, routed[p]) }
            case .pairSum:
                for p in 0..<np {
                    let w = adjAnchor[k][p], i = pos[p]
                    for j in members[k] {
                        pair(p, j, upTo: k)
                        let v = ev.evaluate(inputs).map { $0[0] }
                        let dd = value(.d, v)
                        ds[i] += w * (value(.si, v) - dd); ds[j] += w * (value(.sj, v) + dd)
                        du[i] += w * value(.ui, v); du[j] += w * value(.uj, v)
                        spread(pd, v, weight: w, positive: p)
                    }
                }
            }
        }
        return RankingResult(loss: loss, ds: ds, du: dv.reachesU ? du : nil)
    }
}

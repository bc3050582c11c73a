/// The vocabulary of `ranking` losses (AP-Loss, Parameterized AP Loss, Smooth-AP): a ranking
/// loss acts on the whole batch at once. For each positive entry i it sums, over entries j of
/// a set, a function of d = s_j - s_i (and of u_i, u_j); per-positive values are then reduced
/// over the positives. See `docs/ranking.md` for the language and `RankingFormula` for the API.
///
/// A ranking formula is one ordinary `Graph` whose leaves are the `RankingInput`s below plus
/// one *slot* per batch construct (`pairsum`, `max_below`, `mean_positive`, `sum_positive`):
/// a slot is an input leaf whose value the ranking evaluators compute from its argument
/// (`RankingSlot`). Everything else is operators of the table, so autodiff, the printers and
/// the interval analysis read the same table as for the per-sample kinds.

/// The leaves of a ranking graph, by graph input index.
public enum RankingInput: Int, CaseIterable, Sendable {
    /// s_j - s_i, for the pair (positive i, entry j).
    case d
    /// The positive's score and quality.
    case si
    /// The other entry's score and quality.
    case sj
    case ui
    case uj
    /// Entry counts of the batch (ignored entries excluded).
    case numPositive
    case numNegative
    case numValid

    /// The name written in a `.loss` file.
    public var name: String {
        switch self {
        case .d: return "d"
        case .si: return "si"
        case .sj: return "sj"
        case .ui: return "ui"
        case .uj: return "uj"
        case .numPositive: return "num_positive"
        case .numNegative: return "num_negative"
        case .numValid: return "num_valid"
        }
    }

    /// Where the value varies: per pair, per positive, or once per batch.
    public var level: RankingLevel {
        switch self {
        case .d, .sj, .uj: return .pair
        case .si, .ui: return .anchor
        case .numPositive, .numNegative, .numValid: return .batch
        }
    }

    /// The inputs by their names in `.loss` files.
    public static let byName: [String: RankingInput] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    /// The graph input index of slot `k`.
    public static func slotIndex(_ k: Int) -> Int { firstSlot + k }
    /// Graph input indices from here on are slots.
    public static let firstSlot = 16
}

/// How finely a value varies. Ordered: a node's level is the finest of its arguments'.
public enum RankingLevel: UInt8, Comparable, Sendable {
    /// One value for the batch (params, counts, `mean_positive`).
    case batch
    /// One value per positive i (si, ui, `pairsum`, `max_below`).
    case anchor
    /// One value per pair (i, j): d, sj, uj; only inside `pairsum`.
    case pair
    /// A set of entries (`valid`, `top(valid, K)`): only as `pairsum`'s second argument.
    case set

    /// Coarser levels order first.
    public static func < (a: RankingLevel, b: RankingLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The entries j a `pairsum` runs over (ignored entries are never in a set).
public struct RankingSet: Sendable, Hashable, CustomStringConvertible {
    /// The entries by label.
    public enum Base: String, Sendable, CaseIterable {
        case positives, negatives, valid
    }
    /// Which label(s).
    public var base: Base
    /// `top(set, K)`: only the K highest-scoring entries of the set (when it has more than K);
    /// ties at the cut go to the lower entry index.
    public var top: Int?

    /// A set, optionally capped to its `top` highest scores.
    public init(_ base: Base, top: Int? = nil) { self.base = base; self.top = top }

    /// As written in a `.loss` file.
    public var description: String { top.map { "top(\(base.rawValue), \($0))" } ?? base.rawValue }
}

/// A batch construct of a ranking formula; its value is graph input `RankingInput.slotIndex(k)`.
public struct RankingSlot: Sendable {
    /// Which construct.
    public enum Kind: Sendable, Equatable {
        /// For each positive i: the sum over j in the set of the argument at (i, j).
        case pairSum(RankingSet)
        /// For each positive i: the largest value of the argument over the positives scored at
        /// or below s_i (interpolated precision).
        case maxBelow
        /// The mean over the positives of the argument (0 when there is no positive).
        case meanPositive
        /// The sum over the positives of the argument.
        case sumPositive
    }
    /// Which construct it is.
    public let kind: Kind
    /// The node the construct reduces.
    public let argument: NodeID
    /// Where it is written.
    public let span: SourceSpan

    /// The level of the slot's value.
    public var level: RankingLevel {
        switch kind {
        case .pairSum, .maxBelow: return .anchor
        case .meanPositive, .sumPositive: return .batch
        }
    }

    /// The name written in a `.loss` file.
    public var name: String {
        switch kind {
        case .pairSum: return "pairsum"
        case .maxBelow: return "max_below"
        case .meanPositive: return "mean_positive"
        case .sumPositive: return "sum_positive"
        }
    }
}

/// One batch of a ranking loss: score, label and quality of every entry.
public struct RankingBatch<T: LossReal>: Sendable {
    /// Raw scores (logits).
    public var s: [T]
    /// 1 positive, 0 negative, -1 ignored (any other value: > 0.5 positive, < -0.5 ignored,
    /// else negative; `lossc eval` refuses other values).
    public var y: [T]
    /// Quality in [0, 1] (e.g. (GIoU + 1)/2 for positives, 0 for negatives).
    public var u: [T]

    /// A batch; `u` defaults to 0 for every entry.
    public init(s: [T], y: [T], u: [T]? = nil) {
        self.s = s; self.y = y; self.u = u ?? [T](repeating: 0, count: s.count)
    }

    /// The number of entries.
    public var count: Int { s.count }

    /// Entry indices of positives, negatives and valid entries, each in index order.
    public func partition() -> (positives: [Int], negatives: [Int], valid: [Int]) {
        var p: [Int] = [], n: [Int] = [], v: [Int] = []
        for k in 0..<s.count {
            let label = y[k]
            if label > 0.5 { p.append(k); v.append(k) } else if label >= -0.5 { n.append(k); v.append(k) }
        }
        return (p, n, v)
    }
}

/// The value of a ranking loss over a batch and its gradient with respect to every entry.
public struct RankingResult<T: LossReal>: Sendable {
    /// The loss of the batch.
    public var loss: T
    /// d loss / d s_k for every entry (0 for ignored entries).
    public var ds: [T]
    /// d loss / d u_k, when the loss's gradient reaches u (nil otherwise).
    public var du: [T]?

    /// A result (other backends build theirs).
    public init(loss: T, ds: [T], du: [T]?) { self.loss = loss; self.ds = ds; self.du = du }
}

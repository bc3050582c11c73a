/// Where each node of a graph came from in the source: node id -> the span that created it,
/// for diagnostics that point at a subexpression. Node ids are small and dense, so this is an
/// array, not a dictionary: every pass copies the map node by node, and hashing each id was a
/// tenth of compiling a 100k-node formula.
public struct SourceOrigins: Sendable, ExpressibleByDictionaryLiteral {
    private var spans: [SourceSpan?] = []

    public init() {}

    public init(dictionaryLiteral elements: (NodeID, SourceSpan)...) {
        for (id, span) in elements { self[id] = span }
    }

    /// The span of node `id`, or nil where the node has none (made by a pass, or by the search).
    public subscript(id: NodeID) -> SourceSpan? {
        get { Int(id) < spans.count ? spans[Int(id)] : nil }
        set {
            if Int(id) >= spans.count {
                guard newValue != nil else { return }
                spans += [SourceSpan?](repeating: nil, count: max(Int(id) + 1 - spans.count, spans.count))
            }
            spans[Int(id)] = newValue
        }
    }

    /// Room for ids below `count` without regrowth.
    public mutating func reserveCapacity(_ count: Int) { spans.reserveCapacity(count) }
}

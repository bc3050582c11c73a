/// The arguments of a node: at most three ids, stored inline. A node's arguments are read in
/// every pass and hashed on every insertion; an inline value (instead of an `Array`) spares a
/// heap allocation, reference counting and a pointer chase per node.
public struct NodeArgs: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    public static let capacity = 3
    private var a0: NodeID = 0, a1: NodeID = 0, a2: NodeID = 0
    /// Stored as one byte so that a `Node` is 32 bytes: every pass walks the node array, and
    /// hash-consing reads nodes at random.
    private var stored: UInt8 = 0
    public var count: Int { Int(stored) }

    public init() {}

    public init<S: Sequence>(_ s: S) where S.Element == NodeID {
        for v in s { append(v) }
    }

    public init(arrayLiteral elements: NodeID...) { self.init(elements) }

    public mutating func append(_ v: NodeID) {
        precondition(count < NodeArgs.capacity, "an operator has at most \(NodeArgs.capacity) arguments")
        stored += 1
        self[count - 1] = v
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> NodeID {
        get {
            switch i {
            case 0: return a0
            case 1: return a1
            default: return a2
            }
        }
        set {
            switch i {
            case 0: a0 = newValue
            case 1: a1 = newValue
            default: a2 = newValue
            }
        }
    }

    /// The arguments with every id replaced by `transform(id)`, without an intermediate array
    /// (passes remap every node's arguments; an `Array` per node was a tenth of compile time).
    @inlinable public func remapped(_ transform: (NodeID) -> NodeID) -> NodeArgs {
        var r = NodeArgs()
        for v in self { r.append(transform(v)) }
        return r
    }

    public mutating func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]; self[i] = self[j]; self[j] = t
    }

    /// The three ids and the count as two words, for `NodeTable`'s hash.
    @inline(__always) var packed: (low: UInt64, high: UInt64) {
        (UInt64(UInt32(bitPattern: a0)) | UInt64(UInt32(bitPattern: a1)) << 32,
         UInt64(UInt32(bitPattern: a2)) | UInt64(count) << 32)
    }

    public static func == (l: NodeArgs, r: NodeArgs) -> Bool {
        l.count == r.count && l.a0 == r.a0 && l.a1 == r.a1 && l.a2 == r.a2
    }

    public func hash(into h: inout Hasher) {
        // Unused slots are always 0, so hashing all three is consistent with ==.
        h.combine(UInt64(UInt32(bitPattern: a0)) | UInt64(UInt32(bitPattern: a1)) << 32)
        h.combine(a2)
        h.combine(UInt8(count))
    }
}

/// The hash-consing table of a `Graph`: node -> id, open addressing with linear probing over a
/// power-of-two array of slots, at most half full. A slot holds an id and the upper half of its
/// node's hash, so a probe touches the node array only when the hashes agree: inserting a new
/// node (the common case) reads no node at all. The home slot comes from those same stored bits,
/// so growing the table re-places the slots without reading a node: on a 100k-node formula the
/// node array is megabytes, and recomputing each hash from it was 5% of compiling.
///
/// A `[Node: NodeID]` dictionary spent most of its time in the standard library's seeded
/// SipHash of each node (op, three argument ids, constant bits, leaf index), a quarter of
/// compiling a 100k-node formula. A node is already a handful of small integers, so one
/// multiply-xorshift round over them spreads it well enough. The hash is keyed with a seed drawn
/// once per process (as the standard library's is): unkeyed, a file of constants chosen to land
/// in one bucket would make every insert probe the whole cluster, a quadratic hang. Node ids
/// follow insertion order, never the table's layout, so the seed changes no output.
struct NodeTable: Sendable {
    /// The process's key, copied into each table so the hot path reads a field, not a global.
    static let processSeed = UInt64.random(in: .min ... .max)
    private let seed: UInt64
    /// The upper 32 bits of the node's hash above its id, or `empty`.
    private var slots: [UInt64]
    private static let empty = UInt64.max
    private var mask: Int
    private(set) var count = 0

    /// A table that holds `capacity` nodes without growing.
    init(capacity: Int = 0, seed: UInt64 = NodeTable.processSeed) {
        self.seed = seed
        let size = Self.size(for: capacity)
        slots = [UInt64](repeating: Self.empty, count: size)
        mask = size - 1
    }

    @inline(__always) func hash(_ n: Node) -> UInt64 {
        var x = (UInt64(n.op.rawValue) &* 0x9E37_79B9_7F4A_7C15 ^ n.bits) &+ seed
        x = mix(x ^ n.args.packed.low)
        return mix(x ^ n.args.packed.high ^ UInt64(UInt32(bitPattern: n.index)) << 40)
    }

    /// The id of a node equal to `node` in `nodes`; when there is none, `id` is recorded for it
    /// in the empty slot the search ended on (the caller then appends `node` as `nodes[id]`).
    /// One hash and one probe walk serve both the lookup and the insertion.
    mutating func findOrInsert(_ node: Node, id: NodeID, in nodes: [Node]) -> (id: NodeID, found: Bool) {
        if 2 * (count + 1) > slots.count { grow() }
        let tag = hash(node) & Self.tagMask
        var i = Self.home(tag) & mask
        while true {
            let s = slots[i]
            if s == Self.empty {
                slots[i] = tag | UInt64(UInt32(bitPattern: id))
                count += 1
                return (id, false)
            }
            if s & Self.tagMask == tag, nodes[Int(s & 0xFFFF_FFFF)] == node { return (NodeID(truncatingIfNeeded: s), true) }
            i = (i + 1) & mask
        }
    }

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000
    /// The home slot of a tag, before masking: the tag's own bits (a table of up to 2^32 slots).
    @inline(__always) static func home(_ slot: UInt64) -> Int { Int(truncatingIfNeeded: slot >> 32) }

    private static func size(for capacity: Int) -> Int {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        return size
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: Self.empty, count: old.count * 2)
        mask = slots.count - 1
        for s in old where s != Self.empty { place(s) }
    }

    /// Stores a slot (tag | id) at the first free place from its home.
    @inline(__always) private mutating func place(_ slot: UInt64) {
        var i = Self.home(slot) & mask
        while slots[i] != Self.empty { i = (i + 1) & mask }
        slots[i] = slot
    }
}

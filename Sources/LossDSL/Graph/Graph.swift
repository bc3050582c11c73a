/// A node's index in its `Graph`. Arguments always have smaller indices than their users,
/// so index order is a topological order and every pass is a single forward loop.
public typealias NodeID = Int32

/// Whether a value is one number per sample or one per class.
public enum Shape: String, Sendable, Hashable {
    case scalar
    /// One value per class (`multiclass` losses only).
    case classVector = "class"
}

/// One node of the expression DAG.
public struct Node: Hashable, Sendable {
    // Field order is memory layout: widest first packs a node into 32 bytes.
    /// The value of a `constant`; unused otherwise (stored as bits so -0 and NaN hash exactly).
    public let bits: UInt64
    public let args: NodeArgs
    /// The input or param index for leaves; unused otherwise.
    public let index: Int32
    public let op: Op

    public var constant: Double { Double(bitPattern: bits) }

    init(op: Op, args: NodeArgs = [], value: Double = 0, index: Int32 = 0) {
        self.op = op; self.args = args; self.bits = value.bitPattern; self.index = index
    }

    init(op: Op, args: [NodeID], value: Double = 0, index: Int32 = 0) {
        self.init(op: op, args: NodeArgs(args), value: value, index: index)
    }
}

/// A hash-consed expression DAG: adding a node equal to an existing one returns the existing
/// id, so a repeated subexpression is one node and common-subexpression elimination is free.
///
/// The graph only grows. Passes build a new graph from an old one (see `GraphRewriter`).
public struct Graph: Sendable {
    public private(set) var nodes: [Node] = []
    public private(set) var shapes: [Shape] = []
    /// Each node's operator, one byte a node: the rewrite rules ask "is this argument a
    /// constant / a negation?" of random earlier nodes, and on a large formula the byte array
    /// stays in cache where the 32-byte nodes do not.
    public private(set) var ops: [Op] = []
    /// Structural key of each node (see `structuralKey`), maintained as nodes are added.
    public private(set) var keys: [UInt64] = []
    private var table = NodeTable()

    public init() {}

    /// An empty graph with room for `capacity` nodes (passes rebuilding a graph of known size
    /// skip the table's regrowth).
    public init(reservingCapacity capacity: Int) {
        nodes.reserveCapacity(capacity)
        shapes.reserveCapacity(capacity)
        ops.reserveCapacity(capacity)
        keys.reserveCapacity(capacity)
        table = NodeTable(capacity: capacity)
    }

    public var count: Int { nodes.count }
    public subscript(id: NodeID) -> Node { nodes[Int(id)] }
    public func shape(_ id: NodeID) -> Shape { shapes[Int(id)] }

    /// Adds (or finds) a node. The caller guarantees the shape rule holds (`Lowering` checks it
    /// for source, `Genome.graph` and `Variation` for the search's genomes);
    /// the shape is derived here from the arguments.
    @discardableResult
    public mutating func add(_ node: Node, shape: Shape? = nil) -> NodeID {
        let (id, found) = table.findOrInsert(node, id: NodeID(nodes.count), in: nodes)
        if found { return id }
        nodes.append(node)
        shapes.append(shape ?? inferShape(node))
        ops.append(node.op)
        keys.append(structuralKey(node))
        return id
    }

    private func inferShape(_ node: Node) -> Shape {
        switch node.op.shapeRule {
        case .classMap: return .classVector
        case .classReduce: return .scalar
        case .elementwise:
            return node.args.contains { shapes[Int($0)] == .classVector } ? .classVector : .scalar
        }
    }

    public mutating func constant(_ v: Double) -> NodeID { add(Node(op: .constant, value: v), shape: .scalar) }
    public mutating func input(_ index: Int, shape: Shape) -> NodeID {
        add(Node(op: .input, index: Int32(index)), shape: shape)
    }
    public mutating func param(_ index: Int) -> NodeID { add(Node(op: .param, index: Int32(index)), shape: .scalar) }
    public mutating func apply(_ op: Op, _ args: NodeID...) -> NodeID { add(Node(op: op, args: NodeArgs(args))) }
    public mutating func apply(_ op: Op, _ args: [NodeID]) -> NodeID { add(Node(op: op, args: NodeArgs(args))) }
    public mutating func apply(_ op: Op, _ args: NodeArgs) -> NodeID { add(Node(op: op, args: args)) }

    /// The constant value of a node, if it is a constant.
    @inline(__always) public func constantValue(_ id: NodeID) -> Double? {
        ops[Int(id)] == .constant ? nodes[Int(id)].constant : nil
    }

    /// The operator of a node (`self[id].op` without reading the node).
    @inline(__always) public func op(_ id: NodeID) -> Op { ops[Int(id)] }

    /// Marks the nodes reachable from `roots`.
    public func reachable(from roots: [NodeID]) -> [Bool] {
        var live = [Bool](repeating: false, count: count)
        for r in roots { live[Int(r)] = true }
        var i = count - 1
        while i >= 0 {
            if live[i] { for a in nodes[i].args { live[Int(a)] = true } }
            i -= 1
        }
        return live
    }

    /// Marks the nodes reachable from `roots` that depend on one of the input indices `inputs`:
    /// what must be recomputed when those inputs change (the rest is hoisted out of a loop).
    public func varying(on inputs: Set<Int>, from roots: [NodeID]) -> [Bool] {
        let live = reachable(from: roots)
        var v = [Bool](repeating: false, count: count)
        for i in 0..<count where live[i] {
            let n = nodes[i]
            v[i] = n.op == .input ? inputs.contains(Int(n.index)) : n.args.contains { v[Int($0)] }
        }
        return v
    }

    /// Number of nodes reachable from `roots`: the formula's size as a DAG.
    public func liveCount(from roots: [NodeID]) -> Int { reachable(from: roots).lazy.filter { $0 }.count }

    /// Whether any node reachable from `roots` uses `op`.
    public func uses(_ op: Op, from roots: [NodeID]) -> Bool {
        let live = reachable(from: roots)
        return nodes.indices.contains { live[$0] && nodes[$0].op == op }
    }

    /// A 64-bit hash of the subtree under a node that does not depend on node numbering,
    /// with commutative arguments combined order-independently. Canonicalize orders the
    /// arguments of commutative operators by it, so `a + b` and `b + a` become one node.
    /// The operator enters by its permanent number (`Op.stableKey`), never by its position in
    /// the enum, so adding an operator cannot reorder the arguments of existing formulas.
    private func structuralKey(_ n: Node) -> UInt64 {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15 &* n.op.stableKey
        x = mix(x ^ n.bits)
        x = mix(x ^ UInt64(UInt32(bitPattern: n.index)))
        if n.op.isCommutative, n.args.count == 2 {
            let a = keys[Int(n.args[0])], b = keys[Int(n.args[1])]
            x = mix(x ^ (Swift.min(a, b) &* 3) ^ mix(Swift.max(a, b)))
        } else {
            for a in n.args { x = mix(x ^ keys[Int(a)]) &* 0x100_0000_01B3 }
        }
        return x
    }
}

@inline(__always) func mix(_ v: UInt64) -> UInt64 {
    var z = v &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

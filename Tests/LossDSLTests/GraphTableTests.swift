import Testing
@testable import LossDSL

/// Hash-consing (`NodeTable`): a node equal to an existing one gets its id, any difference
/// (operator, an argument, argument order, a constant's bits, a leaf's index) makes a new node,
/// through many regrowths of the table. Expected ids come from a plain dictionary of node
/// descriptions built alongside, not from the table.
struct GraphTableTests {
    @Test func equalNodesShareAnIdAndDistinctNodesDoNot() {
        var g = Graph()
        var expected: [String: NodeID] = [:]
        var rng = SeededGenerator(seed: 7)
        func record(_ key: String, _ id: NodeID) {
            if let known = expected[key] { #expect(known == id, "\(key): \(id), first added as \(known)") } else {
                #expect(!expected.values.contains(id), "\(key) reused id \(id)")
                expected[key] = id
            }
        }
        var ids: [NodeID] = []
        for k in 0..<4 { let id = g.input(k, shape: .scalar); record("in\(k)", id); ids.append(id) }
        for v in [0.0, -0.0, 1.0, .nan, -.nan, .infinity] { record("c\(v.bitPattern)", g.constant(v)) }
        let ops: [Op] = [.add, .sub, .mul, .div, .min, .max]
        // 40k random binary nodes over earlier ones (with repeats), then every one again.
        var added: [(Op, NodeID, NodeID)] = []
        for _ in 0..<40_000 {
            let op = ops.randomElement(using: &rng)!
            let a = ids.randomElement(using: &rng)!, b = ids.randomElement(using: &rng)!
            let id = g.apply(op, a, b)
            record("\(op.name) \(a) \(b)", id)
            ids.append(id); added.append((op, a, b))
        }
        for (op, a, b) in added { record("\(op.name) \(a) \(b)", g.apply(op, a, b)) }
        #expect(g.count == expected.count)
        #expect(g.constant(-0.0) != g.constant(0.0))
        #expect(g.param(0) != g.param(1) && g.param(1) == g.param(1))
    }

    /// The table's hash is keyed: constants whose home slot is one bucket under one key (what a
    /// hostile file would hold to make every insert probe a long cluster) spread out under
    /// another key.
    @Test func aClusterUnderOneKeyIsNotOneUnderAnother() {
        let a = NodeTable(seed: 1), b = NodeTable(seed: 2)
        let buckets = 1 << 10
        let cluster = (0..<200_000).map { Node(op: .constant, value: Double($0)) }
            .filter { NodeTable.home(a.hash($0)) & (buckets - 1) == 0 }
        #expect(cluster.count > 100)
        let spread = Set(cluster.map { NodeTable.home(b.hash($0)) & (buckets - 1) })
        #expect(spread.count > cluster.count / 2, "\(cluster.count) nodes in one bucket under key 1 fill \(spread.count) under key 2")
    }
}

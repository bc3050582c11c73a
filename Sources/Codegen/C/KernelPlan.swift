import LossDSL

/// The schedule of a compiled loss, shared by the C and Swift emitters: which live nodes
/// are computed once per call (params and what depends only on them), which once per element
/// (or per row), and, for `multiclass`, the passes over the class axis.
///
/// Nodes keep their graph ids (`t<id>` in emitted code); each becomes one statement, in id
/// order, which is a topological order.
public struct KernelPlan: Sendable {
    public let loss: CompiledLoss
    public var graph: Graph { loss.graph }
    public var kind: LossKind { loss.kind }
    /// Params, and nodes computed from params and constants only, live from value or gradient,
    /// in id order (constants excluded: they are literals). Computed once per kernel call.
    public let invariants: [NodeID]
    /// True for constants, params and invariant nodes.
    public let isInvariant: [Bool]
    /// `pow` nodes whose exponent is a constant or an invariant that is a small integer (for
    /// invariants: at the formula's param values): written as products. An invariant exponent
    /// is checked at run time (`powGuards`), and the general `pow` runs when it differs.
    public let powIntegers: [NodeID: Int]
    /// The invariant exponents the fast path assumes, with the integer each must equal.
    public let powGuards: [(node: NodeID, value: Int)]

    /// Whether the emitted kernel has a fast version for the default exponents.
    public var hasFastPath: Bool { !powGuards.isEmpty }
    /// The roots of the version that computes the value only, and of the full version.
    public var valueRoots: [NodeID] { [loss.value] }
    public var allRoots: [NodeID] { [loss.value] + loss.gradient }

    /// Integer exponents in this range become products (at most 3 squarings + 1 multiply).
    static let integerExponents = -4...8

    /// The exponent a `pow` with exponent value `v` is written with as products, if any (the
    /// one rule for per-sample and ranking kernels).
    static func productExponent(_ v: Double?) -> Int? {
        guard let v, v == v.rounded(), Double(integerExponents.lowerBound) <= v, v <= Double(integerExponents.upperBound) else { return nil }
        return Int(v)
    }

    public init(_ loss: CompiledLoss) {
        self.loss = loss
        let g = loss.graph
        let live = g.reachable(from: [loss.value] + loss.gradient)
        var inv = [Bool](repeating: false, count: g.count)
        var list: [NodeID] = []
        for i in 0..<g.count {
            let n = g.nodes[i]
            switch n.op {
            case .constant, .param: inv[i] = true
            case .input: inv[i] = false
            // Class-axis operators depend on the class count even on constants (sum(2) = 2C).
            default: inv[i] = n.op.shapeRule == .elementwise && n.args.allSatisfy { inv[Int($0)] }
            }
            if inv[i], live[i], n.op != .constant { list.append(NodeID(i)) }
        }
        isInvariant = inv
        invariants = list

        // Exponents: constants are known now; invariants are evaluated at the param values.
        var ints: [NodeID: Int] = [:], guards: [NodeID: Int] = [:]
        let evaluator = ReferenceEvaluator<Double>(graph: g, roots: list, params: loss.formula.paramValues)
        let values = list.isEmpty ? [] : evaluator.evaluate([])
        var invariantValue: [NodeID: Double] = [:]
        for (k, id) in list.enumerated() { invariantValue[id] = values[k][0] }
        for i in 0..<g.count where live[i] && g.nodes[i].op == .pow {
            let e = g.nodes[i].args[1]
            guard let k = Self.productExponent(g.constantValue(e) ?? invariantValue[e]) else { continue }
            ints[NodeID(i)] = k
            if g.constantValue(e) == nil { guards[e] = k }
        }
        powIntegers = ints
        powGuards = guards.keys.sorted().map { ($0, guards[$0]!) }
    }

    /// Whether `pow` node `id` is written as a product in a version (`fast`: guards hold).
    public func integerExponent(of id: NodeID, fast: Bool) -> Int? {
        guard let n = powIntegers[id] else { return nil }
        let e = graph[id].args[1]
        return graph.constantValue(e) != nil || fast ? n : nil
    }

    /// The non-invariant nodes reachable from `roots`, in id order (inputs included).
    public func elementNodes(_ roots: [NodeID]) -> [NodeID] {
        let live = graph.reachable(from: roots)
        return (0..<graph.count).filter { live[$0] && !isInvariant[$0] }.map { NodeID($0) }
    }

    /// The invariants that the nodes `used` read directly (what a block function loads).
    public func invariantsRead(by used: [NodeID], fast: Bool) -> [NodeID] {
        var read = Set<NodeID>()
        for id in used {
            let n = graph[id]
            for (position, a) in n.args.enumerated() where isInvariant[Int(a)] && graph[a].op != .constant {
                // A pow exponent written as a product is not read.
                if n.op == .pow, position == 1, integerExponent(of: id, fast: fast) != nil { continue }
                read.insert(a)
            }
        }
        return invariants.filter { read.contains($0) }
    }

    /// The data inputs (kind input indices) that `roots` read.
    public func inputsRead(_ roots: [NodeID]) -> [Int] {
        let live = graph.reachable(from: roots)
        var set = Set<Int>()
        for i in 0..<graph.count where live[i] && graph.nodes[i].op == .input { set.insert(Int(graph.nodes[i].index)) }
        return set.sorted()
    }
}

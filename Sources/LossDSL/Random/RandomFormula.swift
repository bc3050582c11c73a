/// Generates random formulas from CSE-Autoloss's search space: expression trees over a kind's
/// inputs, the kind's operator subset and the constants {1, 2, 3}, within depth and size
/// limits (the published losses have height up to 9 and about 40 nodes). Shape-correct by
/// construction: multiclass class vectors only meet scalars where broadcasting allows, and the
/// root is one value per sample. Used by the search, the differential tests and benchmarks.
public struct RandomFormula: Sendable {
    public var kind: LossKind
    /// Largest height of the tree (root at height 0).
    public var maxDepth: Int
    /// Largest number of tree nodes.
    public var maxNodes: Int
    public var constants: [Double] = [1, 2, 3]
    public var operators: [Op]

    public init(kind: LossKind, maxDepth: Int = 6, maxNodes: Int = 30) {
        self.kind = kind
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        operators = RandomFormula.searchSpace(for: kind)
    }

    /// The operators of the published per-kind primitive sets (reference §1.2), plus the
    /// scaled erfc for the classification sets: binary has no `dot`; box has no softmax,
    /// dot or scaled S-curves.
    public static func searchSpace(for kind: LossKind) -> [Op] {
        let all = Op.allCases.filter { $0.info.family == .searchSpace }
        switch kind {
        case .multiclass: return all
        case .binary: return all.filter { $0 != .dot && $0 != .softmax }
        case .box, .ranking: return all.filter { ![.softmax, .dot, .scaledGD, .scaledALF, .scaledERF, .scaledERFC].contains($0) }
        }
    }

    /// One random formula that uses the kind's prediction (x, or one of i, u, e for box).
    public func next<R: RandomNumberGenerator>(using rng: inout R) -> Formula {
        while true {
            var b = Builder(spec: self)
            let root = b.grow(.scalar, depth: 0, rng: &rng)
            guard b.usesPrediction(root) else { continue }
            if let f = Formula(name: "random", kind: kind, graph: b.graph, root: root) { return f }
        }
    }

    struct Builder {
        let spec: RandomFormula
        var graph = Graph()
        var nodes = 0

        mutating func terminal(_ shape: Shape, rng: inout some RandomNumberGenerator) -> NodeID {
            let inputs = spec.kind.inputs.indices.filter {
                spec.kind.inputs[$0].shape == shape && (spec.kind != .box || $0 <= 2)
            }
            if shape == .scalar, inputs.isEmpty || Int.random(in: 0..<3, using: &rng) == 0 {
                return graph.constant(spec.constants.randomElement(using: &rng)!)
            }
            let i = inputs.randomElement(using: &rng)!
            return graph.input(i, shape: shape)
        }

        mutating func grow(_ shape: Shape, depth: Int, rng: inout some RandomNumberGenerator) -> NodeID {
            nodes += 1
            let stop = depth >= spec.maxDepth || nodes >= spec.maxNodes
                || (depth > 1 && Double.random(in: 0..<1, using: &rng) < 0.3)
            // A multiclass scalar must reduce the class axis somewhere; force a dot near the top.
            let needsDot = spec.kind == .multiclass && shape == .scalar && depth == 0
            if stop && !needsDot { return terminal(shape, rng: &rng) }
            var ops = spec.operators.filter { op in
                switch op.shapeRule {
                case .classMap: return shape == .classVector
                case .classReduce: return shape == .scalar
                case .elementwise: return true
                }
            }
            if needsDot { ops = [.dot] }
            let op = ops.randomElement(using: &rng)!
            switch op.shapeRule {
            case .classMap:
                return graph.apply(op, grow(.classVector, depth: depth + 1, rng: &rng))
            case .classReduce:
                let a = grow(.classVector, depth: depth + 1, rng: &rng)
                let b = grow(.classVector, depth: depth + 1, rng: &rng)
                return graph.apply(op, a, b)
            case .elementwise:
                if op.arity == 1 { return graph.apply(op, grow(shape, depth: depth + 1, rng: &rng)) }
                // A class-vector result needs one class-vector argument; the other may be scalar.
                let other: Shape = shape == .classVector && Bool.random(using: &rng) ? .scalar : shape
                let first = grow(shape, depth: depth + 1, rng: &rng)
                let second = grow(other, depth: depth + 1, rng: &rng)
                return Bool.random(using: &rng) ? graph.apply(op, first, second) : graph.apply(op, second, first)
            }
        }

        func usesPrediction(_ root: NodeID) -> Bool {
            let live = graph.reachable(from: [root])
            return graph.nodes.indices.contains { i in
                live[i] && graph.nodes[i].op == .input
                    && (spec.kind == .box ? graph.nodes[i].index <= 2 : graph.nodes[i].index == 0)
            }
        }
    }
}

/// A small, fast, seedable generator (SplitMix64) for reproducible runs.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

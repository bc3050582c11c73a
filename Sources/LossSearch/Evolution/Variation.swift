import LossDSL

/// Random trees and the variation operators of the evolutionary search: node replacement,
/// insertion, deletion (shrink), subtree replacement and subtree crossover — the DEAP
/// operators `mutNodeReplacement`, `mutInsert`, `mutShrink`, `mutUniform`, `cxOnePoint` —
/// kept shape-correct for multiclass losses and within the size limits.
public struct Variation: Sendable {
    public let kind: LossKind
    public var maxHeight: Int
    public var maxSize: Int
    public var operators: [Op]
    public var constants: [Double] = [1, 2, 3]

    public init(kind: LossKind, maxHeight: Int = 10, maxSize: Int = 50) {
        self.kind = kind
        self.maxHeight = maxHeight
        self.maxSize = maxSize
        operators = RandomFormula.searchSpace(for: kind)
    }

    // MARK: Random trees

    /// A terminal: a constant or an input. For binary losses the terminals are the published
    /// search space's X, PY, NY and Q: x, y, 1 - y and w·y (the last two as small subtrees).
    func terminal(_ shape: Shape, _ rng: inout SeededGenerator, labelFree: Bool = false) -> [Gene] {
        if labelFree, kind == .binary {
            // Inside a label-split branch: x (most often), w, or a constant.
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return [.input(2)]
            case 1: return [.constant(constants.randomElement(using: &rng)!)]
            default: return [.input(0)]
            }
        }
        let inputs = kind.inputs.indices.filter { kind.inputs[$0].shape == shape && (kind != .box || $0 <= 2) }
        if shape == .scalar, inputs.isEmpty || Int.random(in: 0..<3, using: &rng) == 0 {
            return [.constant(constants.randomElement(using: &rng)!)]
        }
        if kind == .binary {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return [.input(0)]
            case 1: return [.input(1)]
            case 2: return [.op(.sub), .constant(1), .input(1)]
            default: return [.op(.mul), .input(2), .input(1)]
            }
        }
        return [.input(inputs.randomElement(using: &rng)!)]
    }

    /// A random tree of the given shape and at most `depth` levels (DEAP's "grow").
    public func randomTree(_ shape: Shape, depth: Int, _ rng: inout SeededGenerator, forceOp: Bool = false,
                           labelFree: Bool = false) -> [Gene] {
        if depth <= 0 || (!forceOp && Double.random(in: 0..<1, using: &rng) < 0.3) { return terminal(shape, &rng, labelFree: labelFree) }
        let ops = operators.filter { op in
            switch op.shapeRule {
            case .classMap: return shape == .classVector
            case .classReduce: return shape == .scalar
            case .elementwise: return true
            }
        }
        let op = ops.randomElement(using: &rng)!
        switch op.shapeRule {
        case .classMap: return [.op(op)] + randomTree(.classVector, depth: depth - 1, &rng, labelFree: labelFree)
        case .classReduce:
            return [.op(op)] + randomTree(.classVector, depth: depth - 1, &rng, labelFree: labelFree) + randomTree(.classVector, depth: depth - 1, &rng, labelFree: labelFree)
        case .elementwise:
            if op.arity == 1 { return [.op(op)] + randomTree(shape, depth: depth - 1, &rng, labelFree: labelFree) }
            let other: Shape = shape == .classVector && Bool.random(using: &rng) ? .scalar : shape
            let a = randomTree(shape, depth: depth - 1, &rng, labelFree: labelFree)
            let b = randomTree(other, depth: depth - 1, &rng, labelFree: labelFree)
            return [.op(op)] + (Bool.random(using: &rng) ? a + b : b + a)
        }
    }

    /// A random individual that uses the prediction (at most `depth` levels). With
    /// `labelSplit`, a binary individual has the form every published classification loss has,
    /// y·A + (1 − y)·B with A and B random trees (the search is still free to leave that form).
    public func randomGenome(depth: Int, labelSplit: Bool = false, _ rng: inout SeededGenerator) -> Genome {
        while true {
            let genes: [Gene]
            if labelSplit, kind == .binary {
                let a = randomTree(.scalar, depth: depth - 2, &rng, forceOp: true, labelFree: true)
                let b = randomTree(.scalar, depth: depth - 2, &rng, forceOp: true, labelFree: true)
                genes = [.op(.add), .op(.mul), .input(1)] + a + [.op(.mul), .op(.sub), .constant(1), .input(1)] + b
            } else if kind == .multiclass {
                genes = [.op(.dot)] + randomTree(.classVector, depth: depth - 1, &rng) + randomTree(.classVector, depth: depth - 1, &rng)
            } else {
                genes = randomTree(.scalar, depth: depth, &rng, forceOp: true)
            }
            let g = Genome(genes, kind: kind)
            if acceptable(g) { return g }
        }
    }

    /// Within the limits, shape-correct, and using the prediction.
    public func acceptable(_ g: Genome) -> Bool {
        guard g.size <= maxSize, g.height <= maxHeight, g.graph() != nil else { return false }
        return g.genes.contains { if case .input(let i) = $0 { return kind == .box ? i <= 2 : i == 0 }; return false }
    }

    /// The shape of the subtree at each position, or nil for a shape-incorrect tree.
    func shapes(_ g: Genome) -> [Shape]? {
        var out = [Shape](repeating: .scalar, count: g.genes.count)
        var stack: [Shape] = []
        for i in stride(from: g.genes.count - 1, through: 0, by: -1) {
            switch g.genes[i] {
            case .constant: out[i] = .scalar
            case .input(let k): out[i] = kind.inputs[k].shape
            case .op(let op):
                guard stack.count >= op.arity else { return nil }
                var args: [Shape] = []
                for _ in 0..<op.arity { args.append(stack.removeLast()) }
                switch op.shapeRule {
                case .classMap: out[i] = .classVector
                case .classReduce: out[i] = .scalar
                case .elementwise: out[i] = args.contains(.classVector) ? .classVector : .scalar
                }
            }
            stack.append(out[i])
        }
        return out
    }

    // MARK: Mutation and crossover

    /// One mutation of `parent`, chosen uniformly among the four kinds; retries until the
    /// child is acceptable (returns the parent unchanged after 30 failed tries).
    public func mutate(_ parent: Genome, _ rng: inout SeededGenerator) -> Genome {
        for _ in 0..<30 {
            guard let sh = shapes(parent) else { return parent }
            var genes = parent.genes
            let p = Int.random(in: 0..<genes.count, using: &rng)
            let end = parent.subtreeEnd(p)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: // node replacement: same arity, same shape behaviour
                switch genes[p] {
                case .op(let op):
                    let same = operators.filter { $0.arity == op.arity && $0.shapeRule == op.shapeRule && $0 != op }
                    guard let o = same.randomElement(using: &rng) else { continue }
                    genes[p] = .op(o)
                default:
                    genes.replaceSubrange(p..<end, with: terminal(sh[p], &rng))
                }
            case 1: // insertion: a new operator above the subtree at p
                let sub = Array(genes[p..<end])
                let candidates = operators.filter { $0.shapeRule == .elementwise }
                let op = candidates.randomElement(using: &rng)!
                var new: [Gene] = [.op(op)]
                if op.arity == 1 { new += sub } else {
                    let other = randomTree(.scalar, depth: 1, &rng)
                    new += Bool.random(using: &rng) ? sub + other : other + sub
                }
                genes.replaceSubrange(p..<end, with: new)
            case 2: // deletion (shrink): replace an operator by one of its same-shaped children
                guard case .op(let op) = genes[p], op.arity > 0 else { continue }
                var children: [Range<Int>] = []
                var c = p + 1
                for _ in 0..<op.arity { let e = parent.subtreeEnd(c); children.append(c..<e); c = e }
                let same = children.filter { sh[$0.lowerBound] == sh[p] }
                guard let pick = same.randomElement(using: &rng) else { continue }
                genes.replaceSubrange(p..<end, with: Array(genes[pick]))
            default: // subtree replacement
                let depthLeft = max(1, maxHeight - parent.depths[p])
                genes.replaceSubrange(p..<end, with: randomTree(sh[p], depth: min(3, depthLeft), &rng))
            }
            let child = Genome(genes, kind: kind)
            if child != parent, acceptable(child) { return child }
        }
        return parent
    }

    /// Subtree crossover: swaps a random subtree of `a` with a same-shaped subtree of `b`.
    public func crossover(_ a: Genome, _ b: Genome, _ rng: inout SeededGenerator) -> (Genome, Genome) {
        guard let sa = shapes(a), let sb = shapes(b) else { return (a, b) }
        for _ in 0..<30 {
            let i = Int.random(in: 0..<a.genes.count, using: &rng)
            let js = b.genes.indices.filter { sb[$0] == sa[i] }
            guard let j = js.randomElement(using: &rng) else { continue }
            let ea = a.subtreeEnd(i), eb = b.subtreeEnd(j)
            var ga = a.genes, gb = b.genes
            ga.replaceSubrange(i..<ea, with: b.genes[j..<eb])
            gb.replaceSubrange(j..<eb, with: a.genes[i..<ea])
            let ca = Genome(ga, kind: kind), cb = Genome(gb, kind: kind)
            if acceptable(ca), acceptable(cb) { return (ca, cb) }
        }
        return (a, b)
    }
}

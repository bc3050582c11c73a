import LossDSL

/// One gene of a genome: an operator, an input of the kind, or a constant.
public enum Gene: Hashable, Sendable {
    case op(Op)
    case input(Int)
    case constant(Double)

    var arity: Int { if case .op(let o) = self { return o.arity }; return 0 }
}

/// A candidate loss as an expression tree in prefix order, as DEAP stores its individuals:
/// a subtree is a contiguous slice, so mutation and crossover are slice replacements.
/// Trees (not DAGs) on purpose: variation operators act on positions of the tree.
public struct Genome: Hashable, Sendable {
    public var genes: [Gene]
    public let kind: LossKind

    public init(_ genes: [Gene], kind: LossKind) { self.genes = genes; self.kind = kind }

    /// The end (exclusive) of the subtree starting at `start`.
    public func subtreeEnd(_ start: Int) -> Int {
        var need = 1, i = start
        while need > 0, i < genes.count { need += genes[i].arity - 1; i += 1 }
        return i
    }

    /// Number of nodes of the tree.
    public var size: Int { genes.count }

    /// Height of the tree (a single leaf has height 0).
    public var height: Int {
        var stack: [Int] = []   // remaining children at each open level
        var best = 0
        for g in genes {
            best = max(best, stack.count)
            if g.arity > 0 { stack.append(g.arity) } else {
                while let last = stack.last {
                    if last > 1 { stack[stack.count - 1] = last - 1; break }
                    stack.removeLast()
                }
            }
        }
        return best
    }

    /// The depth of every position (root 0).
    public var depths: [Int] {
        var out = [Int](repeating: 0, count: genes.count)
        var stack: [Int] = []
        for (i, g) in genes.enumerated() {
            out[i] = stack.count
            if g.arity > 0 { stack.append(g.arity) } else {
                while let last = stack.last {
                    if last > 1 { stack[stack.count - 1] = last - 1; break }
                    stack.removeLast()
                }
            }
        }
        return out
    }

    /// Builds the (non-canonical) graph of the tree; nil when a shape rule is broken
    /// (a class-axis operator without a class vector, or a class-vector result).
    public func graph() -> (Graph, NodeID)? {
        var g = Graph()
        var stack: [NodeID] = []
        for gene in genes.reversed() {
            switch gene {
            case .constant(let v): stack.append(g.constant(v))
            case .input(let i): stack.append(g.input(i, shape: kind.inputs[i].shape))
            case .op(let op):
                guard stack.count >= op.arity else { return nil }
                var args: [NodeID] = []
                for _ in 0..<op.arity { args.append(stack.removeLast()) }
                if op.shapeRule != .elementwise, !args.contains(where: { g.shape($0) == .classVector }) { return nil }
                stack.append(g.apply(op, args))
            }
        }
        guard stack.count == 1, g.shape(stack[0]) == .scalar else { return nil }
        return (g, stack[0])
    }

    /// The formula of this genome; nil when the tree is not shape-correct.
    public func formula(name: String = "candidate") -> Formula? {
        guard let (g, root) = graph() else { return nil }
        return Formula(name: name, kind: kind, graph: g, root: root)
    }

    /// Reads a genome back from a formula's lowered graph (params become their values).
    /// Nil when the formula uses an operator outside the search space.
    public init?(formula f: Formula) {
        var genes: [Gene] = []
        var stack: [NodeID] = [f.root]
        while let id = stack.popLast() {
            let n = f.graph[id]
            switch n.op {
            case .constant: genes.append(.constant(n.constant))
            case .param: genes.append(.constant(f.params[Int(n.index)].value))
            case .input: genes.append(.input(Int(n.index)))
            default:
                guard n.op.info.family == .searchSpace else { return nil }
                genes.append(.op(n.op))
                stack.append(contentsOf: n.args.reversed())
            }
            if genes.count > 10_000 { return nil }
        }
        self.init(genes, kind: f.kind)
    }

    /// Compact prefix text, e.g. `neg(dot(y,log(softmax(x))))`: the form stored in checkpoints.
    public var text: String {
        var out = ""
        var open: [Int] = []
        for g in genes {
            switch g {
            case .op(let o): out += o.name + "("; open.append(o.arity)
            case .input(let i): out += kind.inputs[i].name
            case .constant(let v): out += formatNumber(v)
            }
            if g.arity == 0 {
                while let last = open.last {
                    if last > 1 { open[open.count - 1] = last - 1; out += ","; break }
                    open.removeLast(); out += ")"
                }
            }
        }
        return out
    }

    /// Parses `text` (the format of `Genome.text`); nil if malformed.
    public init?(text: String, kind: LossKind) {
        var genes: [Gene] = []
        var token = ""
        func flush() -> Bool {
            defer { token = "" }
            if token.isEmpty { return true }
            if let v = Double(token) { genes.append(.constant(v)); return true }
            if let i = kind.inputIndex(token) { genes.append(.input(i)); return true }
            return false
        }
        for ch in text {
            switch ch {
            case "(":
                guard let op = Op.byName[token] else { return nil }
                genes.append(.op(op)); token = ""
            case ",", ")":
                guard flush() else { return nil }
            case " ": continue
            default: token.append(ch)
            }
        }
        guard flush() else { return nil }
        // A complete tree: exactly one root and every operator's arguments present.
        var need = 1
        for g in genes { guard need > 0 else { return nil }; need += g.arity - 1 }
        guard !genes.isEmpty, need == 0 else { return nil }
        self.init(genes, kind: kind)
    }
}

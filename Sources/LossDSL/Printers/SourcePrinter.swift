/// Prints loss source text: `format` prints a parsed file canonically (`lossc fmt`), and
/// `source(of:)` prints a graph as a `.loss` file (DEAP import, search results), binding
/// shared subexpressions with `let`. Both build strings bottom-up without recursion, and the
/// output parses back to the same graph.
public enum SourcePrinter {
    /// A printed expression and how tightly it binds (10 = atom).
    struct Piece { var text: String; var precedence: Int }

    /// Which operands of `a op b` need parentheses, given how tightly they bind.
    static func parentheses(_ op: BinaryOperator, _ a: Int, _ b: Int) -> (left: Bool, right: Bool) {
        let p = op.precedence
        return (a < p || (a == p && op.rightAssociative), b < p || (b == p && !op.rightAssociative))
    }

    /// Whether `-a` must be written `-(a)`: `a` binds looser, or starts with a minus itself.
    static func negationWraps(_ precedence: Int, startsWithMinus: Bool) -> Bool {
        precedence < unaryMinusPrecedence || startsWithMinus
    }

    static func binary(_ op: BinaryOperator, _ a: Piece, _ b: Piece) -> Piece {
        let (leftParen, rightParen) = parentheses(op, a.precedence, b.precedence)
        let l = leftParen ? "(\(a.text))" : a.text
        let r = rightParen ? "(\(b.text))" : b.text
        return Piece(text: op == .pow ? "\(l)^\(r)" : "\(l) \(op.rawValue) \(r)", precedence: op.precedence)
    }

    static func negate(_ a: Piece) -> Piece {
        let wrap = negationWraps(a.precedence, startsWithMinus: a.text.hasPrefix("-"))
        return Piece(text: "-" + (wrap ? "(\(a.text))" : a.text), precedence: unaryMinusPrecedence)
    }

    static func number(_ v: Double) -> Piece {
        Piece(text: formatNumber(v), precedence: v.sign == .minus ? unaryMinusPrecedence : 10)
    }

    /// Prints an expression in canonical spacing with the fewest parentheses that keep its structure.
    /// The text is assembled as fragments (`TextFragments`) and joined once at the end: joining
    /// strings at every operator copied the growing left operand each time, quadratic in a long
    /// sum (345,000 terms: 14.3 s).
    public static func format(_ e: Expr) -> String {
        var text = TextFragments()
        var stack: [(id: Int, precedence: Int, startsWithMinus: Bool)] = []
        for item in e.items {
            switch item {
            case .number(let v, _):
                let t = formatNumber(v)
                stack.append((text.leaf(t), v.sign == .minus ? unaryMinusPrecedence : 10, t.hasPrefix("-")))
            case .name(let n, _): stack.append((text.leaf(n), 10, false))
            case .negate:
                let a = stack.removeLast()
                let body = negationWraps(a.precedence, startsWithMinus: a.startsWithMinus) ? text.wrap(a.id) : a.id
                stack.append((text.join([text.leaf("-"), body]), unaryMinusPrecedence, true))
            case .binary(let op, _):
                let b = stack.removeLast(), a = stack.removeLast()
                let (leftParen, rightParen) = parentheses(op, a.precedence, b.precedence)
                let l = leftParen ? text.wrap(a.id) : a.id, r = rightParen ? text.wrap(b.id) : b.id
                let mid = text.leaf(op == .pow ? "^" : " \(op.rawValue) ")
                stack.append((text.join([l, mid, r]), op.precedence, !leftParen && a.startsWithMinus))
            case .call(let n, let argc, _, _):
                var parts = [text.leaf("\(n)(")]
                for (k, arg) in stack.suffix(argc).enumerated() {
                    if k > 0 { parts.append(text.leaf(", ")) }
                    parts.append(arg.id)
                }
                stack.removeLast(argc)
                parts.append(text.leaf(")"))
                stack.append((text.join(parts), 10, false))
            }
        }
        return stack.last.map { text.string($0.id) } ?? ""
    }

    /// Prints a parsed file canonically: comments kept, one space around binary operators,
    /// at most one blank line between statements.
    public static func format(_ f: LossFile) -> String {
        var out = f.leadingComments.map { $0 + "\n" }.joined()
        out += "loss \(f.name): \(f.kind.rawValue)" + (f.headerComment.map { "  " + $0 } ?? "") + "\n"
        for (k, s) in f.statements.enumerated() {
            if s.blankBefore || (k == 0 && !s.leadingComments.isEmpty) { out += "\n" }
            out += s.leadingComments.map { $0 + "\n" }.joined()
            switch s.body {
            case .param(let v): out += "param \(s.name) = \(formatNumber(v))"
            case .curve(let points): out += "curve \(s.name) = " + curveText(points.map { ($0.x, $0.y) })
            case .binding(let e): out += "let \(s.name) = \(format(e))"
            case .result(let e): out += "return \(format(e))"
            }
            if let c = s.trailingComment { out += "  " + c }
            out += "\n"
        }
        if !f.trailingComments.isEmpty { out += "\n" + f.trailingComments.map { $0 + "\n" }.joined() }
        return out
    }

    /// The points of a `curve` statement: `(0, 0), (0.5, 0.25), (1, 1)`.
    public static func curveText(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "(\(formatNumber($0.x)), \(formatNumber($0.y)))" }.joined(separator: ", ")
    }

    /// Prints the formula under `root` as a `.loss` file. Nodes used more than once (and
    /// very deep subexpressions) become `let` bindings named v1, v2, ….
    public static func source(name: String, kind: LossKind, params: [ParamInfo], graph g: Graph, root: NodeID,
                              comments: [String] = []) -> String {
        let live = g.reachable(from: [root])
        var uses = [Int](repeating: 0, count: g.count)
        for i in 0..<g.count where live[i] { for a in g.nodes[i].args { uses[Int(a)] += 1 } }
        let taken = Set(params.map(\.name) + kind.inputs.map(\.name))
        var counter = 0
        func freshName() -> String {
            repeat { counter += 1 } while taken.contains("v\(counter)")
            return "v\(counter)"
        }
        var piece = [Piece?](repeating: nil, count: g.count)
        var depth = [Int](repeating: 0, count: g.count)
        var lets: [String] = []
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            let args = n.args.map { piece[Int($0)]! }
            var p: Piece
            switch n.op {
            case .constant: p = number(n.constant)
            case .input: p = Piece(text: kind.inputs[Int(n.index)].name, precedence: 10)
            case .param: p = Piece(text: params[Int(n.index)].name, precedence: 10)
            case .neg: p = negate(args[0])
            case .add: p = binary(.add, args[0], args[1])
            case .sub: p = binary(.sub, args[0], args[1])
            case .mul: p = binary(.mul, args[0], args[1])
            case .div: p = binary(.div, args[0], args[1])
            case .pow where [.constant, .param].contains(g[n.args[1]].op): p = binary(.pow, args[0], args[1])
            default: p = Piece(text: "\(n.op.name)(\(args.map(\.text).joined(separator: ", ")))", precedence: 10)
            }
            depth[i] = 1 + (n.args.map { depth[Int($0)] }.max() ?? 0)
            let shared = uses[i] > 1 && !n.op.isLeaf && !(n.op == .neg && g[n.args[0]].op.isLeaf)
            if i != Int(root), shared || depth[i] > 40 {
                let v = freshName()
                lets.append("let \(v) = \(p.text)")
                p = Piece(text: v, precedence: 10)
                depth[i] = 0
            }
            piece[i] = p
        }
        // A comment with line breaks (a DEAP string may have them) becomes one `#` line each.
        var out = comments.flatMap { $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) }
            .map { "# " + $0 + "\n" }.joined()
        out += "loss \(name): \(kind.rawValue)\n"
        if !params.isEmpty { out += "\n" + params.map { "param \($0.name) = \(formatNumber($0.value))\n" }.joined() }
        out += "\n" + lets.map { $0 + "\n" }.joined()
        out += "return \(piece[Int(root)]!.text)\n"
        return out
    }
}

/// Text as a tree of fragments in one array: joining is O(1) and the whole is written out once,
/// without recursion (a 345,000-term sum is a tree that deep).
struct TextFragments {
    private enum Node { case leaf(String), join([Int]) }
    private var nodes: [Node] = []

    mutating func leaf(_ s: String) -> Int { nodes.append(.leaf(s)); return nodes.count - 1 }
    mutating func join(_ parts: [Int]) -> Int { nodes.append(.join(parts)); return nodes.count - 1 }
    /// `(` fragment `)`.
    mutating func wrap(_ id: Int) -> Int { join([leaf("("), id, leaf(")")]) }

    /// The text of fragment `id`, left to right.
    func string(_ id: Int) -> String {
        var out = "", pending = [id]
        while let i = pending.popLast() {
            switch nodes[i] {
            case .leaf(let s): out += s
            case .join(let parts): pending.append(contentsOf: parts.reversed())
            }
        }
        return out
    }
}

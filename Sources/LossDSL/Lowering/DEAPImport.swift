/// Imports CSE-Autoloss's published prefix strings (DEAP `gp` syntax), such as
/// `Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))`, into a formula.
///
/// Argument names are mapped to the kind's inputs as in the published code:
/// multiclass `X, Y, Z` -> x, y, w; binary `X, Q, PY, NY` -> x, w*y, y, 1-y;
/// box `U, I, E` -> u, i, e.
public enum DEAPImport {
    /// The published argument names of each kind and the source text each stands for.
    public static func arguments(for kind: LossKind) -> [String: String] {
        switch kind {
        case .multiclass: return ["X": "x", "Y": "y", "Z": "w"]
        case .binary: return ["X": "x", "Q": "w * y", "PY": "y", "NY": "1 - y"]
        case .box: return ["U": "u", "I": "i", "E": "e"]
        case .ranking: return [:]
        }
    }

    /// Parses a DEAP string into a formula of the given kind. Diagnostics point into the string.
    public static func formula(_ text: String, kind: LossKind, name: String = "imported") throws(DiagnosticError) -> Formula {
        let file = SourceFile(path: "<deap>", text: text)
        let b = file.bytes
        var g = Graph()
        var origins: SourceOrigins = [:]
        func fail(_ at: Int, _ len: Int, _ msg: String, hint: String? = nil) -> DiagnosticError {
            DiagnosticError(file: file, diagnostics: [Diagnostic("deap-syntax", at: SourceSpan(start: min(at, b.count), length: len), msg, hint: hint)])
        }
        let argMap = arguments(for: kind)
        func argument(_ name: String, _ span: SourceSpan) throws(DiagnosticError) -> NodeID {
            guard let src = argMap[name] else {
                throw fail(span.start, span.length, "unknown argument '\(name)' for a \(kind.rawValue) loss",
                           hint: "the arguments are \(argMap.keys.sorted().joined(separator: ", "))")
            }
            let idx = { (n: String) in kind.inputIndex(n)! }
            let shape = { (n: String) in kind.inputs[idx(n)].shape }
            switch src {
            case "w * y": return g.apply(.mul, g.input(idx("w"), shape: shape("w")), g.input(idx("y"), shape: shape("y")))
            case "1 - y": return g.apply(.sub, g.constant(1), g.input(idx("y"), shape: shape("y")))
            default: return g.input(idx(src), shape: shape(src))
            }
        }
        // Iterative parse: a stack of open calls, each collecting its argument nodes.
        var stack: [(op: Op, name: String, start: Int, args: [NodeID])] = []
        var result: NodeID?
        var i = 0
        func skipSpace() { while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 } }
        func finish(_ n: NodeID) { if stack.isEmpty { result = n } else { stack[stack.count - 1].args.append(n) } }
        skipSpace()
        while i < b.count {
            if result != nil { throw fail(i, 1, "unexpected text after the end of the expression") }
            let start = i
            if isDigit(b[i]) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: ".") {
                i += 1
                while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") { i += 1 }
                let t = file.text(SourceSpan(start: start, length: i - start))
                guard let v = Double(t), v.isFinite else { throw fail(start, i - start, "malformed number '\(t)'") }
                finish(g.constant(v))
            } else if isIdentifierStart(b[i]) {
                while i < b.count, isIdentifierStart(b[i]) || isDigit(b[i]) { i += 1 }
                let name = file.text(SourceSpan(start: start, length: i - start))
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "(") {
                    guard let op = Op.byDEAPName[name] else {
                        let near = nearestNames(to: name, in: Array(Op.byDEAPName.keys))
                        throw fail(start, name.utf8.count, "unknown DEAP primitive '\(name)'",
                                   hint: near.first.map { "did you mean '\($0)'?" })
                    }
                    if stack.count >= Parser.maxNesting { throw fail(start, 1, "expression nested more than \(Parser.maxNesting) calls deep") }
                    stack.append((op, name, start, []))
                    i += 1
                    skipSpace()
                    continue
                }
                finish(try argument(name, SourceSpan(start: start, length: name.utf8.count)))
            } else {
                throw fail(start, 1, "unexpected '\(file.text(SourceSpan(start: start, length: 1)))'",
                           hint: "DEAP strings look like Neg(Log(Sig(X)))")
            }
            skipSpace()
            // Close as many calls as there are ')'.
            while i < b.count, b[i] == UInt8(ascii: ")") {
                guard let top = stack.popLast() else { throw fail(i, 1, "unmatched ')'") }
                guard top.args.count == top.op.arity else {
                    throw fail(top.start, top.name.utf8.count, "\(top.name) takes \(top.op.arity) argument\(top.op.arity == 1 ? "" : "s"), got \(top.args.count)")
                }
                if top.op.shapeRule != .elementwise, !top.args.contains(where: { g.shape($0) == .classVector }) {
                    throw fail(top.start, top.name.utf8.count, "\(top.name) needs a class axis, which a \(kind.rawValue) loss does not have")
                }
                let n = g.apply(top.op, top.args)
                if origins[n] == nil { origins[n] = SourceSpan(start: top.start, length: i + 1 - top.start) }
                finish(n)
                i += 1
                skipSpace()
            }
            if i < b.count, b[i] == UInt8(ascii: ",") {
                guard !stack.isEmpty else { throw fail(i, 1, "unexpected ','") }
                i += 1
                skipSpace()
            }
        }
        if let open = stack.last { throw fail(open.start, open.name.utf8.count, "\(open.name)( is never closed") }
        guard let root = result else { throw fail(0, 0, "the DEAP string is empty") }
        if g.shape(root) == .classVector {
            throw fail(0, b.count, "the expression is a class vector, not one value per sample", hint: "wrap it in Dot(...)")
        }
        return Formula(name: name, kind: kind, params: [], graph: g, root: root, origins: origins, file: file, warnings: [])
    }

    /// The `.loss` text of an imported DEAP string.
    public static func source(_ text: String, kind: LossKind, name: String = "imported") throws(DiagnosticError) -> String {
        let f = try formula(text, kind: kind, name: name)
        return SourcePrinter.source(name: name, kind: kind, params: [], graph: f.graph, root: f.root,
                                    comments: ["Imported from the CSE-Autoloss DEAP string:", text])
    }
}

/// Parses the tokens of a `.loss` file into a `LossFile`.
///
/// Grammar (newlines end statements, except inside parentheses):
///
///     file      := comment* 'loss' NAME ':' KIND stmt*
///     stmt      := 'param' NAME '=' ['-'] NUMBER
///                | 'curve' NAME '=' point (',' point)*      (a newline may follow a ',')
///                | 'let' NAME '=' expr
///                | 'return' expr
///     point     := '(' ['-'] NUMBER ',' ['-'] NUMBER ')'
///     expr      := shunting-yard over + - * / ^, unary -, calls NAME(expr, ...), (expr)
public struct Parser {
    /// Deeper nesting than this is reported, not parsed (nothing recurses, but no real
    /// formula comes close, and every later pass stays fast).
    public static let maxNesting = 1000

    let file: SourceFile
    var tokens: [Token]
    var pos = 0

    public init(file: SourceFile, tokens: [Token]) { self.file = file; self.tokens = tokens }

    /// Lexes and parses a file.
    public static func parse(_ file: SourceFile) -> Result<LossFile, DiagnosticError> {
        switch Lexer(file: file).tokenize() {
        case .failure(let e): return .failure(e)
        case .success(let tokens):
            var p = Parser(file: file, tokens: tokens)
            do { return .success(try p.parseFile()) } catch let d as Diagnostic {
                return .failure(DiagnosticError(file: file, diagnostics: [d]))
            } catch { return .failure(DiagnosticError(file: file, diagnostics: [])) }
        }
    }

    var peek: Token { tokens[pos] }
    mutating func advance() -> Token { let t = tokens[pos]; if pos < tokens.count - 1 { pos += 1 }; return t }
    func text(_ t: Token) -> String { file.text(t.span) }

    /// Skips newlines and collects comment lines; reports whether a blank line was seen.
    mutating func skipTrivia(comments: inout [String]) -> Bool {
        // Called at the start of a line: a newline here ends an empty line.
        var atLineStart = true, blank = false
        while true {
            switch peek.kind {
            case .newline:
                if atLineStart { blank = true }
                atLineStart = true
                _ = advance()
            case .comment:
                comments.append(text(advance()))
                atLineStart = false
            default: return blank
            }
        }
    }

    mutating func parseFile() throws -> LossFile {
        var f = LossFile()
        _ = skipTrivia(comments: &f.leadingComments)
        if peek.kind == .end {
            throw Diagnostic("empty-file", at: nil, "the file is empty",
                             hint: "a loss file starts with a header such as 'loss focal: binary'")
        }
        let head = advance()
        guard head.kind == .identifier, text(head) == "loss" else {
            throw Diagnostic("missing-header", at: head.span, "expected the header 'loss NAME: KIND', found \(describe(head))",
                             hint: "start the file with e.g. 'loss focal: binary' (kinds: \(LossKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let name = try expect(.identifier, "a name for the loss after 'loss'")
        f.name = text(name); f.nameSpan = name.span
        _ = try expect(.colon, "':' and a kind after the loss's name")
        let kind = try expect(.identifier, "a kind (\(LossKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        guard let k = LossKind(rawValue: text(kind)) else {
            let near = nearestNames(to: text(kind), in: LossKind.allCases.map(\.rawValue))
            throw Diagnostic("unknown-kind", at: kind.span, "unknown kind '\(text(kind))'",
                             hint: near.isEmpty ? "kinds are \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))"
                                : "did you mean '\(near[0])'?", fixIt: near.first)
        }
        f.kind = k; f.kindSpan = kind.span
        f.headerComment = try endOfLine()

        while true {
            var comments: [String] = []
            let blank = skipTrivia(comments: &comments)
            if peek.kind == .end { f.trailingComments = comments; break }
            var s = try parseStatement()
            s.leadingComments = comments
            s.blankBefore = blank
            s.trailingComment = try endOfLine()
            f.statements.append(s)
        }
        return f
    }

    mutating func parseStatement() throws -> Statement {
        let kw = advance()
        let word = kw.kind == .identifier ? text(kw) : ""
        switch word {
        case "param":
            let name = try expect(.identifier, "a parameter name after 'param'")
            _ = try expect(.equals, "'=' after the parameter name")
            var sign = 1.0
            if peek.kind == .minus { _ = advance(); sign = -1 }
            let num = advance()
            guard num.kind == .number else {
                throw Diagnostic("param-value", at: num.span, "a param's default must be a number, found \(describe(num))",
                                 hint: "write e.g. 'param gamma = 2'; use 'let' for expressions")
            }
            return Statement(body: .param(sign * num.value), name: text(name), nameSpan: name.span, keywordSpan: kw.span)
        case "curve":
            let name = try expect(.identifier, "a name for the curve after 'curve'")
            _ = try expect(.equals, "'=' after the curve's name")
            return Statement(body: .curve(try parseCurvePoints()), name: text(name), nameSpan: name.span, keywordSpan: kw.span)
        case "let":
            let name = try expect(.identifier, "a name after 'let'")
            _ = try expect(.equals, "'=' after the name")
            return Statement(body: .binding(try parseExpression()), name: text(name), nameSpan: name.span, keywordSpan: kw.span)
        case "return":
            return Statement(body: .result(try parseExpression()), name: "", nameSpan: kw.span, keywordSpan: kw.span)
        default:
            let hint: String
            if kw.kind == .identifier, !Parser.keywords.contains(word),
               let near = nearestNames(to: word, in: Parser.keywords).first {
                hint = "did you mean '\(near)'?"
            } else {
                hint = "each line is 'param NAME = NUMBER', 'let NAME = EXPR', 'curve NAME = (x, y), ...' or 'return EXPR'"
            }
            throw Diagnostic("expected-statement", at: kw.span, "expected 'param', 'let' or 'return', found \(describe(kw))", hint: hint)
        }
    }

    /// The statement keywords.
    static let keywords = ["param", "let", "return", "curve"]

    /// Parses `(x, y), (x, y), ...` (at least one point; validated by lowering).
    mutating func parseCurvePoints() throws -> [CurvePoint] {
        var points: [CurvePoint] = []
        while true {
            let open = try expect(.leftParen, points.isEmpty ? "'(' to start the curve's first point (x, y)" : "'(' to start the next point (x, y)")
            let x = try signedNumber("the point's x coordinate")
            _ = try expect(.comma, "',' between the point's x and y")
            let y = try signedNumber("the point's y coordinate")
            let close = try expect(.rightParen, "')' to end the point")
            points.append(CurvePoint(x: x, y: y, span: open.span.union(close.span)))
            guard peek.kind == .comma else { return points }
            _ = advance()
            while peek.kind == .newline || peek.kind == .comment { _ = advance() }
        }
    }

    mutating func signedNumber(_ what: String) throws -> Double {
        var sign = 1.0
        if peek.kind == .minus { _ = advance(); sign = -1 }
        let t = advance()
        guard t.kind == .number else {
            throw Diagnostic("curve-point", at: t.span, "expected a number for \(what), found \(describe(t))",
                             hint: "curve points are numbers, e.g. 'curve H = (0, 0), (0.5, 0.25), (1, 1)'")
        }
        return sign * t.value
    }

    /// Consumes a trailing comment and the newline (or end of file).
    mutating func endOfLine() throws -> String? {
        var comment: String?
        if peek.kind == .comment { comment = text(advance()) }
        switch peek.kind {
        case .newline: _ = advance(); return comment
        case .end: return comment
        default:
            throw Diagnostic("trailing-tokens", at: peek.span, "unexpected \(describe(peek)) at the end of the statement",
                             hint: "one statement per line; an expression continues onto the next line only inside parentheses")
        }
    }

    mutating func expect(_ kind: Token.Kind, _ what: String) throws -> Token {
        if peek.kind == kind { return advance() }
        throw Diagnostic("expected-token", at: peek.span, "expected \(what), found \(describe(peek))")
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: return "the end of the file"
        case .newline: return "the end of the line"
        case .comment: return "a comment"
        case .identifier: return "'\(truncate(text(t)))'"
        case .number: return "the number \(truncate(text(t)))"
        default: return "'\(text(t))'"
        }
    }
}

func truncate(_ s: String, _ n: Int = 40) -> String { s.count <= n ? s : String(s.prefix(n)) + "…" }

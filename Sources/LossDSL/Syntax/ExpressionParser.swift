/// The expression half of the parser: Dijkstra's shunting-yard algorithm, which needs no
/// recursion, so nesting depth is limited by a counted rule rather than by the stack.
extension Parser {
    private enum Pending {
        case binary(BinaryOperator, SourceSpan)
        case negate(SourceSpan)
        case paren(SourceSpan)
        case call(String, nameSpan: SourceSpan, open: SourceSpan, argc: Int)

        var precedence: Int {
            switch self {
            case .binary(let op, _): return op.precedence
            case .negate: return unaryMinusPrecedence
            case .paren, .call: return -1
            }
        }
        var item: ExprItem? {
            switch self {
            case .binary(let op, let s): return .binary(op, s)
            case .negate(let s): return .negate(s)
            default: return nil
            }
        }
    }

    mutating func parseExpression() throws -> Expr {
        var out = Expr()
        var stack: [Pending] = []
        var expectOperand = true
        var depth = 0
        let startSpan = peek.span
        var lastSpan = startSpan

        func popOperators(above prec: Int, rightAssociative: Bool) {
            while let top = stack.last, let item = top.item,
                  top.precedence > prec || (top.precedence == prec && !rightAssociative) {
                out.items.append(item); stack.removeLast()
            }
        }

        loop: while true {
            let t = peek
            // Newlines and comments inside parentheses continue the expression.
            if depth > 0, t.kind == .newline || t.kind == .comment { _ = advance(); continue }
            if expectOperand {
                switch t.kind {
                case .number:
                    out.items.append(.number(t.value, t.span)); _ = advance(); expectOperand = false
                case .identifier:
                    _ = advance()
                    if peek.kind == .leftParen {
                        let open = advance()
                        depth += 1
                        try checkDepth(depth, open.span)
                        if peek.kind == .rightParen {
                            let close = advance(); depth -= 1
                            out.items.append(.call(text(t), argc: 0, nameSpan: t.span, close: close.span))
                            expectOperand = false
                        } else {
                            stack.append(.call(text(t), nameSpan: t.span, open: open.span, argc: 0))
                        }
                    } else {
                        out.items.append(.name(text(t), t.span)); expectOperand = false
                    }
                case .leftParen:
                    _ = advance(); depth += 1
                    try checkDepth(depth, t.span)
                    stack.append(.paren(t.span))
                case .minus:
                    _ = advance(); stack.append(.negate(t.span))
                    if stack.count > Parser.maxNesting * 8 {
                        throw Diagnostic("nesting-limit", at: t.span, "too many unary minus signs in a row")
                    }
                default:
                    if t.kind == .end, depth > 0, let open = stack.last(where: { if case .binary = $0 { return false }; if case .negate = $0 { return false }; return true }) {
                        var span = t.span
                        if case .paren(let s) = open { span = s }
                        if case .call(_, _, let o, _) = open { span = o }
                        throw Diagnostic("unterminated-expression", at: span, "this '(' is never closed",
                                         hint: "add ')' before the end of the file")
                    }
                    let after: String
                    if let top = stack.last, case .binary(let op, _) = top { after = " after '\(op.rawValue)'" }
                    else if case .negate = stack.last { after = " after '-'" } else { after = "" }
                    throw Diagnostic(t.kind == .end || t.kind == .newline ? "unterminated-expression" : "expected-expression",
                                     at: t.span, "expected an expression\(after), found \(describe(t))",
                                     hint: t.kind == .plus ? "there is no unary '+'; drop it" : nil)
                }
            } else {
                switch t.kind {
                case .plus, .minus, .star, .slash, .caret:
                    let op = BinaryOperator(rawValue: text(t))!
                    popOperators(above: op.precedence, rightAssociative: op.rightAssociative)
                    stack.append(.binary(op, t.span)); _ = advance(); expectOperand = true
                case .comma:
                    popOperators(above: -1, rightAssociative: false)
                    guard case .call(let n, let ns, let o, let argc)? = stack.last else {
                        throw Diagnostic("unexpected-comma", at: t.span, "unexpected ',' outside a call's arguments")
                    }
                    stack[stack.count - 1] = .call(n, nameSpan: ns, open: o, argc: argc + 1)
                    _ = advance(); expectOperand = true
                case .rightParen:
                    popOperators(above: -1, rightAssociative: false)
                    switch stack.popLast() {
                    case .paren?: break
                    case .call(let n, let ns, _, let argc)?:
                        out.items.append(.call(n, argc: argc + 1, nameSpan: ns, close: t.span))
                    default:
                        throw Diagnostic("unmatched-paren", at: t.span, "unmatched ')'", hint: "remove it or add a matching '('")
                    }
                    depth -= 1; lastSpan = t.span
                    _ = advance()
                case .newline, .end, .comment:
                    break loop
                default:
                    // A statement keyword inside an open '(' means the paren was never closed (the
                    // newlines inside parens were skipped): point at the paren, not at the keyword.
                    if depth > 0, t.kind == .identifier, ["return", "let", "param", "curve", "loss"].contains(text(t)),
                       let open = stack.last(where: { if case .paren = $0 { return true }; if case .call = $0 { return true }; return false }) {
                        var span = t.span
                        if case .paren(let sp) = open { span = sp }
                        if case .call(_, _, let o, _) = open { span = o }
                        throw Diagnostic("unterminated-expression", at: span, "this '(' is never closed",
                                         hint: "add ')' before the next statement ('\(text(t))' starts one)")
                    }
                    throw Diagnostic("expected-operator", at: t.span, "expected an operator or the end of the line, found \(describe(t))",
                                     hint: t.kind == .leftParen || t.kind == .identifier || t.kind == .number
                                        ? "multiplication is written with '*'" : nil)
                }
            }
            if case .number = t.kind { lastSpan = t.span } else if t.kind == .identifier { lastSpan = t.span }
        }
        popOperators(above: -1, rightAssociative: false)
        if let open = stack.last {
            let span: SourceSpan
            switch open {
            case .paren(let s): span = s
            case .call(_, _, let o, _): span = o
            default: span = peek.span
            }
            throw Diagnostic("unterminated-expression", at: span, "this '(' is never closed",
                             hint: "add ')' before the end of the \(peek.kind == .end ? "file" : "statement")")
        }
        out.span = startSpan.union(lastSpan)
        return out
    }

    private func checkDepth(_ depth: Int, _ span: SourceSpan) throws {
        if depth > Parser.maxNesting {
            throw Diagnostic("nesting-limit", at: span, "expression nested more than \(Parser.maxNesting) parentheses deep",
                             hint: "split it into 'let' bindings")
        }
    }
}

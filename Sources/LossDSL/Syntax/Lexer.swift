/// A token of the loss language.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case identifier, number, plus, minus, star, slash, caret, leftParen, rightParen, comma
        case equals, colon, newline, comment, end
    }
    public let kind: Kind
    public let span: SourceSpan
    /// For numbers, the parsed value.
    public let value: Double

    init(_ kind: Kind, _ span: SourceSpan, value: Double = 0) { self.kind = kind; self.span = span; self.value = value }
}

/// Turns bytes into tokens. Stops at the first lexical error: a malformed file produces one
/// clear diagnostic, not thousands (a 10 MB binary file must not flood the terminal).
public struct Lexer {
    let file: SourceFile

    /// The largest file the front end accepts. A hand-written loss is a few hundred bytes and
    /// a generated 100,000-node formula about 2 MB; past this, the input is almost surely not
    /// a loss file, and it is refused at once rather than after a long compile.
    public static let maxBytes = 4 << 20

    public init(file: SourceFile) { self.file = file }

    public func tokenize() -> Result<[Token], DiagnosticError> {
        let b = file.bytes
        if b.count > Lexer.maxBytes {
            return fail(nil, "file-too-large", "the file is \(b.count / 1_000_000) MB; loss files are limited to \(Lexer.maxBytes >> 20) MiB",
                        hint: "a loss formula is a few lines; split generated formulas into smaller ones")
        }
        if let nul = b.firstIndex(of: 0) {
            return fail(nil, "lexer-binary", "this is not a text file (a NUL byte at offset \(nul))",
                        hint: "a .loss file is UTF-8 text")
        }
        if String(validating: b, as: UTF8.self) == nil {
            let bad = firstInvalidUTF8(b)
            return fail(nil, "lexer-encoding", "this file is not valid UTF-8 (at byte offset \(bad))",
                        hint: "a .loss file is UTF-8 text")
        }
        var tokens: [Token] = []
        tokens.reserveCapacity(b.count / 3)
        var i = 0
        while i < b.count {
            let c = b[i]
            let start = i
            func single(_ k: Token.Kind) { tokens.append(Token(k, SourceSpan(start: start, length: 1))); i += 1 }
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): i += 1
            case UInt8(ascii: "\n"): single(.newline)
            case UInt8(ascii: "#"):
                while i < b.count, b[i] != UInt8(ascii: "\n") { i += 1 }
                tokens.append(Token(.comment, SourceSpan(start: start, length: i - start)))
            case UInt8(ascii: "+"): single(.plus)
            case UInt8(ascii: "-"): single(.minus)
            case UInt8(ascii: "*"): single(.star)
            case UInt8(ascii: "/"): single(.slash)
            case UInt8(ascii: "^"): single(.caret)
            case UInt8(ascii: "("): single(.leftParen)
            case UInt8(ascii: ")"): single(.rightParen)
            case UInt8(ascii: ","): single(.comma)
            case UInt8(ascii: "="): single(.equals)
            case UInt8(ascii: ":"): single(.colon)
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
                switch lexNumber(b, &i) {
                case .success(let t): tokens.append(t)
                case .failure(let e): return .failure(e)
                }
            default:
                if isIdentifierStart(c) {
                    while i < b.count, isIdentifierStart(b[i]) || isDigit(b[i]) { i += 1 }
                    tokens.append(Token(.identifier, SourceSpan(start: start, length: i - start)))
                } else {
                    var len = 1
                    while start + len < b.count, b[start + len] & 0xC0 == 0x80 { len += 1 }
                    let ch = String(decoding: b[start..<start + len], as: UTF8.self)
                    let shown = ch.unicodeScalars.first.map { $0.value < 0x20 || $0.value == 0x7F ? "U+\(String($0.value, radix: 16, uppercase: true))" : "'\(ch)'" } ?? "?"
                    return fail(SourceSpan(start: start, length: len), "lexer-character", "unexpected character \(shown)",
                                hint: "names are ASCII letters, digits and '_'; operators are + - * / ^")
                }
            }
        }
        tokens.append(Token(.end, SourceSpan(start: b.count, length: 0)))
        return .success(tokens)
    }

    private func lexNumber(_ b: [UInt8], _ i: inout Int) -> Result<Token, DiagnosticError> {
        let start = i
        while i < b.count, isDigit(b[i]) { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < b.count, b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-") { j += 1 }
            if j < b.count, isDigit(b[j]) {
                i = j
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
        }
        let span = SourceSpan(start: start, length: i - start)
        let text = file.text(span)
        if i < b.count, isIdentifierStart(b[i]) {
            while i < b.count, isIdentifierStart(b[i]) || isDigit(b[i]) { i += 1 }
            return fail(SourceSpan(start: start, length: i - start), "lexer-number",
                        "malformed number '\(file.text(SourceSpan(start: start, length: i - start)))'",
                        hint: "numbers look like 2, 0.25 or 1e-7; names cannot start with a digit")
        }
        guard text != ".", let v = Double(text) else {
            return fail(span, "lexer-number", "malformed number '\(text)'", hint: "numbers look like 2, 0.25 or 1e-7")
        }
        if v.isInfinite {
            return fail(span, "number-range", "number \(text) is out of range (larger than 1.8e308)",
                        hint: "the largest finite double is about 1.8e308")
        }
        if v == 0, text.contains(where: { "123456789".contains($0) }) {
            return fail(span, "number-range", "number \(text) is too small: it would be 0",
                        hint: "the smallest positive double is about 4.9e-324")
        }
        return .success(Token(.number, span, value: v))
    }

    private func fail<T>(_ span: SourceSpan?, _ id: String, _ message: String, hint: String?) -> Result<T, DiagnosticError> {
        .failure(DiagnosticError(file: file, diagnostics: [Diagnostic(id, at: span, message, hint: hint)]))
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) func isIdentifierStart(_ c: UInt8) -> Bool {
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
}

private func firstInvalidUTF8(_ b: [UInt8]) -> Int {
    var i = 0
    while i < b.count {
        let c = b[i]
        let n: Int
        if c < 0x80 { n = 1 } else if c & 0xE0 == 0xC0 { n = 2 } else if c & 0xF0 == 0xE0 { n = 3 }
        else if c & 0xF8 == 0xF0 { n = 4 } else { return i }
        if i + n > b.count || String(validating: b[i..<(i + n)], as: UTF8.self) == nil { return i }
        i += n
    }
    return 0
}

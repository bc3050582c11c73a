/// A problem found in a loss file, in the style of swift-syntax's diagnostics: a stable id,
/// a severity, a source span, a message, and an optional hint and fix-it.
public struct Diagnostic: Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning, note }

    /// A stable identifier, e.g. `unknown-name`, for tools and documentation.
    public let id: String
    public let severity: Severity
    public let span: SourceSpan?
    public let message: String
    /// What to do about it, when we know.
    public let hint: String?
    /// Replacement text for `span` that fixes the problem, when there is one.
    public let fixIt: String?

    /// The most characters of a source line a rendered diagnostic shows.
    static let maxShown = 100

    public init(_ id: String, _ severity: Severity = .error, at span: SourceSpan?, _ message: String,
                hint: String? = nil, fixIt: String? = nil) {
        self.id = id; self.severity = severity; self.span = span; self.message = message
        self.hint = hint; self.fixIt = fixIt
    }

    /// Renders as `file:line:col: severity: message [id]`, the source line with a caret under
    /// the span, then the hint.
    public func render(in file: SourceFile, color: Bool = false) -> String {
        let (bold, red, yellow, cyan, reset) = color
            ? ("\u{1B}[1m", "\u{1B}[31m", "\u{1B}[33m", "\u{1B}[36m", "\u{1B}[0m") : ("", "", "", "", "")
        let sevColor = severity == .error ? red : (severity == .warning ? yellow : cyan)
        var out = ""
        if let span {
            let (line, col) = file.location(of: span.start)
            out += "\(bold)\(file.path):\(line):\(col): \(sevColor)\(severity.rawValue):\(reset)\(bold) \(message) [\(id)]\(reset)\n"
            let endLoc = file.location(of: span.end)
            let full = Array(printable(file.lineText(line)).unicodeScalars)
            var width = endLoc.line == line ? max(1, endLoc.column - col) : max(1, full.count - col + 1)
            // Long lines are shown as a window around the caret.
            var start = 0, end = full.count, caret = col - 1
            if full.count > Diagnostic.maxShown {
                start = max(0, min(caret - 40, full.count - Diagnostic.maxShown))
                end = min(full.count, start + Diagnostic.maxShown)
            }
            var shown = String(String.UnicodeScalarView(full[start..<end]))
            caret -= start
            if start > 0 { shown = "…" + shown; caret += 1 }
            if end < full.count { shown += "…" }
            width = max(1, min(width, end - start - (caret - (start > 0 ? 1 : 0))))
            out += "  \(shown)\n"
            out += "  " + String(repeating: " ", count: caret) + sevColor + "^"
                + String(repeating: "~", count: width - 1) + reset + "\n"
        } else {
            out += "\(bold)\(file.path): \(sevColor)\(severity.rawValue):\(reset)\(bold) \(message) [\(id)]\(reset)\n"
        }
        if let hint { out += "  \(cyan)hint:\(reset) \(hint)\n" }
        return out
    }

    /// One line, `file:line:col: severity: message`, for tests and logs.
    public func summary(in file: SourceFile) -> String {
        guard let span else { return "\(file.path): \(severity.rawValue): \(message)" }
        let (line, col) = file.location(of: span.start)
        return "\(file.path):\(line):\(col): \(severity.rawValue): \(message)"
    }
}

/// Tabs and control characters are shown as one space each so the caret lines up.
private func printable(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
}

/// The error a compile step throws: every diagnostic it found (at least one error).
public struct DiagnosticError: Error, Sendable {
    public let file: SourceFile
    public let diagnostics: [Diagnostic]
    public init(file: SourceFile, diagnostics: [Diagnostic]) { self.file = file; self.diagnostics = diagnostics }

    public func render(color: Bool = false) -> String {
        diagnostics.map { $0.render(in: file, color: color) }.joined()
    }
}

/// Suggests the known name closest to `name` (names longer than 64 characters get no suggestion) (Levenshtein distance at most a third of its length).
public func nearestNames(to name: String, in candidates: [String], limit: Int = 3) -> [String] {
    guard name.unicodeScalars.count <= 64 else { return [] }
    let n = Array(name.lowercased().unicodeScalars)
    var scored: [(Int, String)] = []
    for c in candidates {
        let d = editDistance(n, Array(c.lowercased().unicodeScalars))
        if d <= max(1, (n.count + 2) / 3) { scored.append((d, c)) }
    }
    return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(limit).map(\.1)
}

func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

/// Formats a number the shortest way that reads back to the same Double ("2", "0.25", "1e-07").
public func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v < 0 ? "-inf" : "inf" }
    if v == v.rounded(), Swift.abs(v) < 1e15 {
        return v == 0 && v.sign == .minus ? "-0" : String(Int64(v))
    }
    return "\(v)"
}
extension Diagnostic: Error {}

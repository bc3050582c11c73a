/// The text of one `.loss` file (or command-line string) and a map from byte offsets to
/// lines and columns.
public struct SourceFile: Sendable {
    /// The name diagnostics print: a path, or `<string>` / `<deap>` for text given inline.
    public let path: String
    public let bytes: [UInt8]
    private let lineStarts: [Int]

    public init(path: String, text: String) { self.init(path: path, bytes: Array(text.utf8)) }

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        lineStarts = starts
    }

    /// 1-based line and column (counted in Unicode scalars) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        var col = 1
        var i = start
        while i < min(offset, bytes.count) {
            if bytes[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return (lo + 1, col)
    }

    /// The text of a 1-based line, without its newline (invalid UTF-8 shown as U+FFFD).
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    public func text(_ span: SourceSpan) -> String {
        let end = min(bytes.count, span.start + span.length)
        return String(decoding: bytes[min(span.start, end)..<end], as: UTF8.self)
    }
}

/// A range of bytes in a `SourceFile`.
public struct SourceSpan: Hashable, Sendable {
    public var start: Int
    public var length: Int
    public init(start: Int, length: Int) { self.start = start; self.length = length }
    public var end: Int { start + length }
    /// The smallest span covering both.
    public func union(_ o: SourceSpan) -> SourceSpan {
        let s = min(start, o.start)
        return SourceSpan(start: s, length: max(end, o.end) - s)
    }
}

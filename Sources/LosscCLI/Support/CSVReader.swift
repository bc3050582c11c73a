#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LossDSL

/// Streams a CSV file line by line (no quoting: the data is numeric), so large files are
/// never held in memory. Bounded while scanning: a line longer than `maxLineBytes` or with more
/// than `maxFields` fields is an error before it is split; a NUL byte is an error (it would
/// silently cut the line); a read error is an error, never an early end of file. A UTF-8 byte
/// order mark at the start and CR before LF (Windows line ends) are accepted.
final class CSVReader {
    static let maxLineBytes = 1 << 20
    static let maxFields = 1 << 16

    let path: String
    private let fd: Int32
    private let owned: Bool
    private(set) var lineNumber = 0
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0
    private var atEOF = false
    private var first = true

    init(path: String) throws {
        self.path = path
        if path == "-" {
            if Terminal.stdinClosed { throw UsageError("cannot read '-': standard input is closed") }
            fd = 0; owned = false
        } else {
            let f = open(path, O_RDONLY | O_CLOEXEC)
            guard f >= 0 else { throw UsageError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
            fd = f; owned = true
        }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            if owned { close(fd) }
            throw UsageError("cannot read '\(path)': it is a directory", hint: "--data takes a CSV file (or '-' for stdin)")
        }
    }

    deinit { if owned { close(fd) } }

    /// The next non-empty line split on commas, or nil at the end of the file.
    func nextRow() throws -> [Substring]? {
        while let line = try nextLine() {
            var bytes = line[...]
            if first {
                first = false
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            }
            while let l = bytes.last, l == UInt8(ascii: "\r") || l == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            var fields = 1
            for (i, b) in zip(bytes.indices, bytes) {
                if b == 0 { throw error(column: fields, "NUL byte at byte \(i - bytes.startIndex + 1) of the line", hint: "is this a binary file?") }
                if b == UInt8(ascii: ",") {
                    fields += 1
                    if fields > CSVReader.maxFields { throw error(column: fields, "more than \(CSVReader.maxFields) fields on one line") }
                }
            }
            return String(decoding: bytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
        }
        return nil
    }

    /// The next line's bytes (with its newline), at most `maxLineBytes`; nil at end of file.
    private func nextLine() throws -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            if start < end {
                if let nl = buffer[start..<end].firstIndex(of: UInt8(ascii: "\n")) {
                    line += buffer[start...nl]
                    start = nl + 1
                    lineNumber += 1
                    try checkLength(line.count)
                    return line
                }
                line += buffer[start..<end]
                start = end
                try checkLength(line.count + 1)
            }
            if atEOF {
                if line.isEmpty { return nil }
                lineNumber += 1
                return line
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                throw UsageError("cannot read '\(path)': \(String(cString: strerror(e)))", location: "\(path):\(lineNumber + 1):1")
            }
            if n == 0 { atEOF = true } else { start = 0; end = n }
        }
    }

    private func checkLength(_ n: Int) throws {
        if n > CSVReader.maxLineBytes + 2 {
            throw UsageError("line longer than \(CSVReader.maxLineBytes >> 20) MiB", hint: "is this a CSV file of numbers?",
                             location: "\(path):\(lineNumber + 1):1")
        }
    }

    /// A data error in this file: `path:line:column: error: message` (column = field number), exit 2.
    func error(column: Int, _ message: String, hint: String? = nil) -> UsageError {
        UsageError(message, hint: hint, location: "\(path):\(lineNumber):\(column)")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LossDSL

/// Streams a CSV file line by line (no quoting: the data is numeric), so large files are
/// never held in memory.
final class CSVReader {
    let path: String
    private let handle: UnsafeMutablePointer<FILE>
    private let owned: Bool
    private(set) var lineNumber = 0

    init(path: String) throws {
        self.path = path
        if path == "-" { handle = fdopen(0, "r"); owned = false; return }
        guard let h = fopen(path, "r") else {
            throw UsageError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        handle = h; owned = true
    }

    deinit { if owned { fclose(handle) } }

    /// The next non-empty line split on commas, or nil at the end of the file.
    func nextRow() -> [Substring]? {
        var buf: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(buf) }
        while true {
            let n = getline(&buf, &cap, handle)
            if n < 0 { return nil }
            lineNumber += 1
            var line = String(cString: buf!)
            while line.last == "\n" || line.last == "\r" { line.removeLast() }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            return line.split(separator: ",", omittingEmptySubsequences: false)
        }
    }

    /// A data error in this file: `path:line:column: error: message` (column = field number), exit 2.
    func error(column: Int, _ message: String, hint: String? = nil) -> UsageError {
        UsageError(message, hint: hint, location: "\(path):\(lineNumber):\(column)")
    }
}

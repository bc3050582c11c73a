#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LossDSL

/// Exit statuses: 0 success, 1 a check failed, 2 bad usage or bad input.
enum ExitStatus: Int32 {
    case success = 0
    case checkFailed = 1
    case badInput = 2
}

/// A mistake on the command line: printed as `lossc CMD: error: message` plus a hint, exit 2.
struct UsageError: Error {
    let message: String
    var hint: String?
    /// `file:line:column` for errors in an input file; printed in place of the command name.
    var location: String?
    init(_ message: String, hint: String? = nil, location: String? = nil) {
        self.message = message; self.hint = hint; self.location = location
    }
}

enum Terminal {
    /// Color only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    static let stderrColor: Bool = {
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        return isatty(2) != 0
    }()

    static func error(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }

    /// Buffered stdout (print() flushes too often for large CSV output).
    nonisolated(unsafe) static var outBuffer: [UInt8] = []

    static func write(_ s: String) {
        outBuffer.append(contentsOf: s.utf8)
        if outBuffer.count > 1 << 16 { flush() }
    }

    static func flush() {
        outBuffer.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = Glibc.write(1, p.baseAddress! + off, p.count - off)
                if n <= 0 { break }
                off += n
            }
        }
        outBuffer.removeAll(keepingCapacity: true)
    }
}

/// Reads a whole file, or fails with a usage error naming it.
func readFile(_ path: String) throws -> [UInt8] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw UsageError("cannot read '\(path)': no such file")
    }
    if isDir.boolValue { throw UsageError("cannot read '\(path)': it is a directory") }
    guard let d = FileManager.default.contents(atPath: path) else {
        throw UsageError("cannot read '\(path)': permission denied or unreadable")
    }
    return [UInt8](d)
}

/// Writes a file atomically (temporary file + rename), so an error never leaves half a file.
func writeFileAtomically(_ path: String, _ text: String) throws {
    let url = URL(fileURLWithPath: path)
    do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
        throw UsageError("cannot write '\(path)': \(error.localizedDescription)")
    }
}

/// Loads and compiles a loss file, printing diagnostics and throwing `Failure` on error.
func loadFormula(_ path: String, params: [String: Double]) throws -> Formula {
    let file = SourceFile(path: path, bytes: try readFile(path))
    do { return try Formula.parse(file, params: params) } catch {
        Terminal.error(error.render(color: Terminal.stderrColor))
        throw Failure(status: .badInput)
    }
}

/// Diagnostics were already printed; exit with this status.
struct Failure: Error { let status: ExitStatus }

/// Parses repeated `--param NAME=VALUE` options.
func parseParams(_ values: [String]) throws -> [String: Double] {
    var out: [String: Double] = [:]
    for v in values {
        let parts = v.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw UsageError("--param expects NAME=VALUE, got '\(v)'", hint: "e.g. --param gamma=1.5")
        }
        guard let d = Double(parts[1].trimmingCharacters(in: .whitespaces)), d.isFinite else {
            throw UsageError("--param \(parts[0]): '\(parts[1])' is not a finite number")
        }
        out[parts[0]] = d
    }
    return out
}

/// Renders diagnostics of a file for the terminal.
func render(_ diags: [Diagnostic], _ file: SourceFile) -> String {
    diags.map { $0.render(in: file, color: Terminal.stderrColor) }.joined()
}

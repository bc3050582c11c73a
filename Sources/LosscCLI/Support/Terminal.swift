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

    /// 128 + the signal, as a shell reports a process the signal ended.
    static func interrupted(_ sig: Int32) -> ExitStatus { sig == SIGTERM ? .terminated : .interruptedByUser }
    case interruptedByUser = 130
    case terminated = 143
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

    /// Whether the process started with fd 0/1 closed (they are then pointed at /dev/null so
    /// no file opened later takes their number); reading stdin or writing stdout then fails.
    nonisolated(unsafe) static var stdinClosed = false
    nonisolated(unsafe) static var stdoutClosed = false

    /// Run first: SIGPIPE and SIGXFSZ ignored (a failed write is an error we report, not a kill), and
    /// closed standard descriptors reopened on /dev/null.
    static func prepareStandardStreams() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            let n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if n >= 0, n != fd { dup2(n, fd); close(n) }
            if fd == 0 { stdinClosed = true } else if fd == 1 { stdoutClosed = true }
        }
    }

    /// Diagnostics and progress: unbuffered, and a failed write (stderr closed, full or a
    /// broken pipe) is ignored, so a running search never dies of its progress line.
    static func error(_ s: String) {
        _ = OutputFile.writeFully(2, Array(s.utf8))
    }

    /// Buffered stdout (print() flushes too often for large CSV output).
    nonisolated(unsafe) static var outBuffer: [UInt8] = []
    /// The errno of the first failed write to stdout (later output is dropped); reported by main.
    nonisolated(unsafe) static var outFailure: Int32 = 0

    static func write(_ s: String) {
        outBuffer.append(contentsOf: s.utf8)
        if outBuffer.count > 1 << 16 { flush() }
    }

    static func flush() {
        defer { outBuffer.removeAll(keepingCapacity: true) }
        guard outFailure == 0, !outBuffer.isEmpty else { return }
        if stdoutClosed { outFailure = EBADF; return }
        if let e = OutputFile.writeFully(1, outBuffer) { outFailure = e }
    }
}

/// Reads a whole input file, bounded (see `BoundedRead`): `limit` defaults to the size limit
/// of loss files; a larger file is refused before it is read.
func readFile(_ path: String, limit: Int = Lexer.maxBytes, what: String = "loss files") throws -> [UInt8] {
    do { return try BoundedRead.read(path, limit: limit) } catch {
        switch error {
        case .system(ENOENT): throw UsageError("cannot read '\(path)': no such file")
        case .system(let e): throw UsageError("cannot read '\(path)': \(String(cString: strerror(e)))")
        case .directory: throw UsageError("cannot read '\(path)': it is a directory")
        case .tooLarge(let n):
            throw UsageError("the file is \(n >= 1 << 20 ? "\(n >> 20) MiB" : "\(n) bytes") or more; \(what) are limited to \(limit >> 20) MiB",
                             location: path)
        }
    }
}

/// Writes a whole output file through `OutputFile` (`-` is stdout).
func writeOutput(_ path: String, _ text: String) throws {
    if path == "-" { return Terminal.write(text) }
    do { try OutputFile.write(path, text) } catch { throw UsageError(error.description) }
}

/// Writes several output files all or nothing (`emit -o BASE`, `build --header`).
func writeOutputs(_ files: [(path: String, bytes: [UInt8])], newFileMode: mode_t = 0o666) throws {
    for f in files where f.path == "-" { Terminal.write(String(decoding: f.bytes, as: UTF8.self)) }
    do { try OutputFile.writeAll(files.filter { $0.path != "-" }, newFileMode: newFileMode) } catch {
        throw UsageError(error.description)
    }
}

/// Loads and compiles a loss file, printing diagnostics and throwing `Failure` on error.
func loadFormula(_ path: String, params: [String: Double]) throws -> Formula {
    let file = SourceFile(path: path, bytes: try readFile(path))
    do { return try Formula.parse(file, params: params) } catch {
        reportDiagnostics(error)
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
        guard let d = CLINumber.parse(parts[1].trimmingCharacters(in: .whitespaces)), d.isFinite else {
            throw UsageError("--param \(parts[0]): '\(parts[1])' is not a finite decimal number", hint: "numbers are written as in .loss files: 2, 1.5, 2e-3")
        }
        out[parts[0]] = d
    }
    return out
}

/// Renders diagnostics of a file for the terminal.
func render(_ diags: [Diagnostic], _ file: SourceFile) -> String {
    diags.map { $0.render(in: file, color: Terminal.stderrColor) }.joined()
}

/// A private scratch directory (see `makePrivateDirectory`), or a usage error naming why not.
func privateDirectory(_ tag: String) throws -> String {
    do { return try makePrivateDirectory(tag) } catch { throw UsageError("cannot create a temporary directory in '\(error.path)': \(error.reason)") }
}

/// Whether `path` exists and is neither a regular file nor a directory (a device, a FIFO, a
/// socket): such a target is written in place as the one output.
func isSpecialFile(_ path: String) -> Bool {
    var st = stat()
    guard stat(path, &st) == 0 else { return false }
    let t = st.st_mode & S_IFMT
    return t != S_IFREG && t != S_IFDIR
}

/// Set by `check --json`: diagnostics of a file that does not compile are also printed on
/// stdout as JSON (`{"file", "result": "error", "diagnostics": [...]}`), so a tool reading the
/// JSON gets them instead of nothing.
nonisolated(unsafe) var diagnosticsAsJSON = false

/// Prints a file's diagnostics on stderr (and as JSON on stdout under `check --json`).
func reportDiagnostics(_ error: DiagnosticError) {
    Terminal.error(error.render(color: Terminal.stderrColor))
    guard diagnosticsAsJSON else { return }
    let items = error.diagnostics.map { d -> String in
        let (line, column) = d.span.map { error.file.location(of: $0.start) } ?? (0, 0)
        return JSON.object([("file", JSON.string(error.file.path)), ("line", "\(line)"), ("column", "\(column)"),
                            ("severity", JSON.string(d.severity.rawValue)), ("id", JSON.string(d.id)),
                            ("message", JSON.string(d.message)), ("hint", d.hint.map(JSON.string) ?? "null")])
    }
    Terminal.write(JSON.object([("file", JSON.string(error.file.path)), ("result", JSON.string("error")),
                                ("diagnostics", JSON.array(items))]) + "\n")
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Fitness from an outside program, for real detectors: `--evaluator 'CMD {loss} {c} {dir}'`.
/// Each candidate gets a directory with `candidate.loss` (and `candidate.c` when a C emitter is
/// given); the command runs there under `/bin/sh`, in its own process group, with a timeout;
/// the last number its stdout prints is the fitness. A non-zero exit, a timeout, a crash, no
/// number, NaN or infinity is recorded as a failed candidate, never an error of the search.
public struct ExternalEvaluator: FitnessEvaluator {
    public let template: String
    public let root: URL
    public let timeout: TimeInterval
    /// C source for `{c}`, when a C emitter is available.
    public let emitC: (@Sendable (Candidate) -> String?)?

    public init(template: String, root: URL, timeout: TimeInterval, emitC: (@Sendable (Candidate) -> String?)? = nil) {
        self.template = template; self.root = root; self.timeout = timeout; self.emitC = emitC
    }

    public func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult {
        let dir = root.appendingPathComponent("gen-\(generation)").appendingPathComponent("cand-\(index)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let loss = dir.appendingPathComponent("candidate.loss")
            try c.source.write(to: loss, atomically: true, encoding: .utf8)
            var files = ["loss": loss.path, "c": ""]
            if let text = emitC?(c) {
                let u = dir.appendingPathComponent("candidate.c")
                try text.write(to: u, atomically: true, encoding: .utf8)
                files["c"] = u.path
            }
            return evaluate(files: files, in: dir)
        } catch {
            return .fail("could not prepare \(dir.path): \(error.localizedDescription)")
        }
    }

    /// Runs the command for a candidate whose files are already in `dir`: `files` maps each
    /// placeholder name (`loss`, `c`, `torch`) to a path ("" when there is none); `{dir}` is
    /// `dir`. Placeholders are substituted in one pass (a path that itself contains `{c}` is
    /// not substituted again) and also passed as `LOSSC_LOSS`, `LOSSC_C`, `LOSSC_TORCH`,
    /// `LOSSC_DIR` in the environment (the form that needs no quoting).
    public func evaluate(files: [String: String], in dir: URL) -> StageResult {
        var values = files
        values["dir"] = dir.path
        return run(substitute(template, values.mapValues(shellQuote)), in: dir,
                   environment: Dictionary(uniqueKeysWithValues: values.map { ("LOSSC_" + $0.key.uppercased(), $0.value) }))
    }

    func run(_ command: String, in dir: URL, environment: [String: String] = [:]) -> StageResult {
        let p = Process()
        // Foundation starts the child in a process group of its own, so on a timeout the whole
        // group (the shell and whatever it started) can be killed at once.
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let outURL = dir.appendingPathComponent("stdout.txt"), errURL = dir.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        guard let out = try? FileHandle(forWritingTo: outURL), let err = try? FileHandle(forWritingTo: errURL) else {
            return .fail("cannot write in \(dir.path)")
        }
        defer { try? out.close(); try? err.close() }
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch { return .fail("cannot start the evaluator: \(error.localizedDescription)") }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            kill(-p.processIdentifier, SIGKILL)
            kill(p.processIdentifier, SIGKILL)
            done.wait()
            return .fail("timed out after \(formatSeconds(timeout))")
        }
        if p.terminationReason == .uncaughtSignal { return .fail("killed by signal \(p.terminationStatus)") }
        if p.terminationStatus != 0 { return .fail("exit status \(p.terminationStatus)") }
        let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        guard let v = lastNumber(in: text) else { return .fail("no number in the evaluator's output") }
        guard v.isFinite else { return .fail("the evaluator returned \(v)") }
        return .pass(v)
    }
}

/// The last number in a text ("AP: 0.412" -> 0.412; "nan" and "inf" count, so they fail), or nil.
public func lastNumber(in text: String) -> Double? {
    var best: Double?
    for token in text.split(whereSeparator: { " \t\n\r:,;=()[]{}\"'".contains($0) }) {
        if let v = Double(token) { best = v }
    }
    return best
}

/// Replaces each `{name}` of `values` in `template` in one left-to-right pass: substituted text
/// is never scanned again, and other braces are kept as written.
func substitute(_ template: String, _ values: [String: String]) -> String {
    var out = "", rest = template[...]
    while let open = rest.firstIndex(of: "{") {
        out += rest[..<open]
        if let close = rest[open...].firstIndex(of: "}"), let v = values[String(rest[rest.index(after: open)..<close])] {
            out += v
            rest = rest[rest.index(after: close)...]
        } else {
            out += "{"
            rest = rest[rest.index(after: open)...]
        }
    }
    return out + rest
}

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

func formatSeconds(_ t: TimeInterval) -> String { t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t) }

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
            var cPath = ""
            if let text = emitC?(c) {
                let u = dir.appendingPathComponent("candidate.c")
                try text.write(to: u, atomically: true, encoding: .utf8)
                cPath = u.path
            }
            let command = template
                .replacingOccurrences(of: "{loss}", with: shellQuote(loss.path))
                .replacingOccurrences(of: "{c}", with: shellQuote(cPath))
                .replacingOccurrences(of: "{dir}", with: shellQuote(dir.path))
            return run(command, in: dir)
        } catch {
            return .fail("could not prepare \(dir.path): \(error.localizedDescription)")
        }
    }

    func run(_ command: String, in dir: URL) -> StageResult {
        let p = Process()
        // Foundation starts the child in a process group of its own, so on a timeout the whole
        // group (the shell and whatever it started) can be killed at once.
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = dir
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

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

func formatSeconds(_ t: TimeInterval) -> String { t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t) }

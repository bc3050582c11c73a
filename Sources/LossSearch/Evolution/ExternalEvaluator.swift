import Foundation
import LossDSL
#if canImport(Glibc)
import Glibc
#endif

/// Fitness from an outside program, for real detectors: `--evaluator 'CMD {loss} {c} {torch} {dir}'`.
/// Each candidate gets a directory with `candidate.loss` (and `candidate.c` / `candidate.py`, the
/// PyTorch module, when those emitters are given); the command runs there under `/bin/sh` (see `EvaluatorProcess`: own process group,
/// no inherited descriptors, a timeout that kills the group); the last number its stdout
/// prints is the fitness. A non-zero exit, a timeout, a crash, no number, NaN or infinity is
/// recorded as a failed candidate, never an error of the search.
///
/// The paths (and the seed) reach the command two ways: as environment variables (`LOSSC_LOSS`, `LOSSC_C`,
/// `LOSSC_TORCH`, `LOSSC_DIR`, `LOSSC_SEED`: the safe form, no shell parsing at all) and as `{loss}`/`{c}`/`{torch}`/`{dir}`/`{seed}`
/// placeholders, substituted in one pass (a substituted path is never scanned again) and
/// single-quoted for the shell.
public struct ExternalEvaluator: FitnessEvaluator {
    public let template: String
    public let root: URL
    public let timeout: TimeInterval
    /// C source for `{c}`, when a C emitter is available.
    public let emitC: (@Sendable (Candidate) -> String?)?
    /// PyTorch module text for `{torch}` (importable straight into a trainer), when available.
    public let emitTorch: (@Sendable (Candidate) -> String?)?
    /// `{seed}` / `LOSSC_SEED`: 0 while the search selects; 1, 2, … for its held-out
    /// re-evaluation (`Search.heldOut`), so a trainer seeded with it sees data the search did not.
    public var seed = 0

    /// The placeholders: `{name}` in the command and the environment variable with the same
    /// path. One line per placeholder; `files(for:in:)` writes the files they name.
    public static let placeholders: [(name: String, environment: String)] = [
        ("loss", "LOSSC_LOSS"),
        ("c", "LOSSC_C"),
        ("torch", "LOSSC_TORCH"),
        ("dir", "LOSSC_DIR"),
        ("seed", "LOSSC_SEED"),
    ]

    public init(template: String, root: URL, timeout: TimeInterval, emitC: (@Sendable (Candidate) -> String?)? = nil,
                emitTorch: (@Sendable (Candidate) -> String?)? = nil, seed: Int = 0) {
        self.template = template; self.root = root; self.timeout = timeout; self.emitC = emitC; self.emitTorch = emitTorch
        self.seed = seed
    }

    /// The same evaluator for held-out seed `k` (`Search.heldOut`): `{seed}` = k, and its
    /// candidates' directories under `ROOT/heldout-seed-k`, apart from the search's own.
    public func heldOut(seed k: Int) -> ExternalEvaluator {
        ExternalEvaluator(template: template, root: root.appendingPathComponent("heldout-seed-\(k)"), timeout: timeout,
                          emitC: emitC, emitTorch: emitTorch, seed: k)
    }

    public func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult {
        let dir = root.appendingPathComponent("gen-\(generation)").appendingPathComponent("cand-\(index)")
        let values: [String: String]
        do { values = try files(for: c, in: dir) } catch {
            return .fail("could not prepare \(dir.path): \(error)")
        }
        return evaluate(files: values, in: dir)
    }

    /// Runs the command for a candidate whose files are already in `dir` (`search-params` writes
    /// its own): `files` maps placeholder names (`loss`, `c`, `torch`) to paths ("" when there is
    /// none); `{dir}` is `dir`.
    public func evaluate(files: [String: String], in dir: URL) -> StageResult {
        var values = files
        values["dir"] = dir.path
        values["seed"] = String(seed)
        let command = ExternalEvaluator.substitute(template, values)
        var env: [String: String] = [:]
        for p in ExternalEvaluator.placeholders { env[p.environment] = values[p.name] ?? "" }
        let outcome = EvaluatorProcess.run(command, in: dir.path, environment: env, timeout: timeout)
        switch outcome {
        case .failed(let why): return .fail(why)
        case .exited(let output):
            guard let v = lastNumber(in: output) else { return .fail("no number in the evaluator's output") }
            guard v.isFinite else { return .fail("the evaluator returned \(v)") }
            return .pass(v)
        }
    }

    /// Writes the candidate's files; the value of every placeholder ("" when there is no file).
    func files(for c: Candidate, in dir: URL) throws -> [String: String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let loss = dir.appendingPathComponent("candidate.loss").path
        try OutputFile.write(loss, c.source)
        var cPath = ""
        if let text = emitC?(c) {
            cPath = dir.appendingPathComponent("candidate.c").path
            try OutputFile.write(cPath, text)
        }
        var torchPath = ""
        if let text = emitTorch?(c) {
            torchPath = dir.appendingPathComponent("candidate.py").path
            try OutputFile.write(torchPath, text)
        }
        return ["loss": loss, "c": cPath, "torch": torchPath, "dir": dir.path]
    }

    /// Replaces every `{name}` of the placeholder table in one left-to-right pass: text that a
    /// substitution inserted is never scanned again, so a path containing `{c}` stays a path.
    /// Values are single-quoted for `/bin/sh`; unknown `{…}` are left as they are.
    public static func substitute(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let v = values[String(after[..<close])],
               placeholders.contains(where: { $0.name == String(after[..<close]) }) {
                out += shellQuote(v)
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
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

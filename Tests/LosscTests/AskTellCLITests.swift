import Foundation
import Testing

/// `lossc search-params FILE ask|tell`, `--evaluator`, and the results-file checks shared with
/// `lossc search tell`, through the binary.
@Suite struct AskTellCLITests {
    /// The reward the stand-in evaluator computes from a candidate's `delta`, written again here
    /// in Swift (the closed form the test expects, independent of the evaluator's awk).
    static func reward(_ delta: Double) -> Double { 1 / (1 + (delta - 0.7) * (delta - 0.7)) }
    /// A deterministic evaluator reading the candidate file through `LOSSC_LOSS`.
    static let awk = #"awk '/^param delta =/ { d = $4; printf "reward %.17g\n", 1 / (1 + (d - 0.7) * (d - 0.7)) }' "$LOSSC_LOSS""#
    static let options = ["--only", "delta", "--rounds", "2", "--samples", "3", "--seed", "3"]
    static let loss = "examples/ap_loss.loss"

    static func dir(_ name: String) throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-asktell-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: d)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Evaluates every manifest line with the awk evaluator, as a scheduler would.
    static func evaluate(manifest: String, error ids: Set<String> = []) throws -> [String] {
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let m = json(String(line))
            let id = m["id"] as? String ?? "", path = m["loss"] as? String ?? ""
            if ids.contains(id) { return #"{"id": "\#(id)", "error": "node lost"}"# }
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", awk]
            p.environment = ["LOSSC_LOSS": path, "PATH": "/usr/bin:/bin"]
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let value = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.map(String.init) ?? "x"
            return #"{"id": "\#(id)", "fitness": \#(value)}"#
        }
    }

    static func manifestPath(_ out: String) -> String {
        out.split(separator: "\n").first { $0.hasPrefix("manifest: ") }.map { String($0.dropFirst(10)) } ?? ""
    }

    @Test func askTellGivesTheEvaluatorRunsResult() throws {
        let d = try Self.dir("same")
        let inProcess = try CLI.run(["search-params", Self.loss, "--evaluator", Self.awk, "--json"] + Self.options)
        #expect(inProcess.status == 0, "\(inProcess.err)")
        let whole = Self.json(inProcess.out)
        // The reported best is the evaluator's closed form at the reported delta.
        let values = whole["values"] as? [String: Any], delta = values?["delta"] as? Double ?? .nan
        let best = whole["bestReward"] as? Double ?? .nan
        #expect(abs(best - Self.reward(delta)) < 1e-5 && best > (whole["initialReward"] as? Double ?? 1), "\(inProcess.out)")
        #expect(abs((whole["initialReward"] as? Double ?? 0) - Self.reward(1)) < 1e-12)

        // The same search through ask/tell, each round told in two halves.
        let ckpt = d.appendingPathComponent("state.json").path
        for round in 0..<2 {
            let ask = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options)
            #expect(ask.status == 0 && ask.out.contains("round \(round + 1)/2: \(round == 0 ? 4 : 3) candidates"), "\(ask.out)\(ask.err)")
            let lines = try Self.evaluate(manifest: Self.manifestPath(ask.out))
            let first = try CLI.temp("half1.jsonl", lines.prefix(2).joined(separator: "\n") + "\n")
            let rest = try CLI.temp("half2.jsonl", lines.dropFirst(2).joined(separator: "\n") + "\n")
            #expect(try CLI.run(["search-params", Self.loss, "tell", first, "--checkpoint", ckpt] + Self.options).status == 0)
            let again = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options)
            #expect(again.out.contains("\(lines.count - 2) candidates to evaluate"), "\(again.out)")
            #expect(try CLI.run(["search-params", Self.loss, "tell", rest, "--checkpoint", ckpt] + Self.options).status == 0)
        }
        let done = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt, "--json"] + Self.options)
        #expect(done.status == 0 && done.err.contains("the search is complete"))
        #expect(Self.json(done.out) as NSDictionary == whole as NSDictionary, "\(done.out) vs \(inProcess.out)")
    }

    @Test func badResultsFilesAreRefusedAndChangeNothing() throws {
        let d = try Self.dir("bad")
        let ckpt = d.appendingPathComponent("state.json").path
        let ask = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options)
        let manifest = Self.manifestPath(ask.out)
        let before = try Data(contentsOf: URL(fileURLWithPath: ckpt))
        let cases: [(String, String)] = [
            (#"{"id": "1-0", "fitness": 0.5}"#, "is a candidate of round 1; the round waiting for results is 0"),
            (#"{"id": "0-9", "fitness": 0.5}"#, "round 0 has no candidate '0-9'"),
            (#"{"id": "0-0", "fitness": true}"#, "a fitness must be a JSON number"),
            (#"{"id": "0-0", "fitness": "0.5"}"#, "a fitness must be a JSON number"),
            ("{\"id\": \"0-0\", \"fitness\": 0.5}\n{\"id\": \"0-0\", \"fitness\": 0.6}", "'0-0' appears twice (first on line 1)"),
            (#"{"id": "0-0", "fitness": 0.5, "error": "x"}"#, "has both"),
            ("\n\n", "no results in the file; round 0 waits for 4"),
        ]
        for (text, message) in cases {
            let r = try CLI.run(["search-params", Self.loss, "tell", try CLI.temp("bad.jsonl", text + "\n"), "--checkpoint", ckpt] + Self.options)
            #expect(r.status == 2 && r.err.contains(message) && r.err.contains("bad.jsonl:"), "\(text): \(r.err)")
        }
        let m = try CLI.run(["search-params", Self.loss, "tell", manifest, "--checkpoint", ckpt] + Self.options)
        #expect(m.status == 2 && m.err.contains("this looks like the manifest"), "\(m.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: ckpt)) == before)
        // A checkpoint of other settings is refused.
        let other = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options.dropLast(2) + ["--seed", "4"])
        #expect(other.status == 2 && other.err.contains("is for another loss file or other settings"))
        // Told twice: the second is refused.
        let good = try CLI.temp("good.jsonl", try Self.evaluate(manifest: manifest).prefix(1).joined() + "\n")
        #expect(try CLI.run(["search-params", Self.loss, "tell", good, "--checkpoint", ckpt] + Self.options).status == 0)
        let twice = try CLI.run(["search-params", Self.loss, "tell", good, "--checkpoint", ckpt] + Self.options)
        #expect(twice.status == 2 && twice.err.contains("already has a result"))
        // search tell uses the same reader.
        let sdir = d.appendingPathComponent("search").path
        let sask = try CLI.run(["search", "ask", "--kind", "binary", "--population", "40", "--from", "examples/bce.loss", "--checkpoint", sdir])
        #expect(sask.status == 0 && sask.out.contains("1 candidates to evaluate"), "\(sask.out)\(sask.err)")
        let stale = try CLI.run(["search", "tell", try CLI.temp("stale.jsonl", #"{"id": "1-0", "fitness": 0.5}"# + "\n"), "--checkpoint", sdir])
        #expect(stale.status == 2 && stale.err.contains("is a candidate of round 1"), "\(stale.err)")
        let noCheckpoint = try CLI.run(["search", "ask", "--kind", "binary"])
        #expect(noCheckpoint.status == 2 && noCheckpoint.err.contains("needs --checkpoint"))
    }

    @Test func failedCandidatesAreRecordedOrAskedAgain() throws {
        let d = try Self.dir("fail")
        let ckpt = d.appendingPathComponent("state.json").path
        let ask = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options)
        let lines = try Self.evaluate(manifest: Self.manifestPath(ask.out), error: ["0-1"])
        let file = try CLI.temp("fail.jsonl", lines.joined(separator: "\n") + "\n")
        // --retry-failed: the error is not recorded; ask hands out 0-1 alone.
        let retry = try CLI.run(["search-params", Self.loss, "tell", file, "--retry-failed", "--checkpoint", ckpt] + Self.options)
        #expect(retry.status == 0 && retry.err.contains("0-1 failed (node lost); it will be asked again"), "\(retry.err)")
        let again = try CLI.run(["search-params", Self.loss, "ask", "--checkpoint", ckpt] + Self.options)
        let relisted = try String(contentsOfFile: Self.manifestPath(again.out), encoding: .utf8)
        #expect(again.out.contains("1 candidates to evaluate") && relisted.contains("\"0-1\""), "\(again.out)")
        // Recorded as a failure: the round completes, the candidate scores 0.
        let error = try CLI.temp("err.jsonl", #"{"id": "0-1", "error": "diverged"}"# + "\n")
        let told = try CLI.run(["search-params", Self.loss, "tell", error, "--checkpoint", ckpt] + Self.options)
        #expect(told.status == 0 && told.err.contains("round 1/2") && told.err.contains("1 failed"), "\(told.err)")
        let state = Self.json(try String(contentsOfFile: ckpt, encoding: .utf8))
        let round = (state["history"] as? [[[String: Any]]])?.first ?? []
        #expect(round.count == 3 && round[1]["error"] as? String == "diverged" && round[1]["reward"] as? Double == 0)
        // An evaluator that fails: every candidate fails, the search does not.
        let broken = try CLI.run(["search-params", Self.loss, "--evaluator", "exit 3", "--json"] + Self.options)
        #expect(broken.status == 0 && Self.json(broken.out)["failed"] as? Int == 6, "\(broken.out)\(broken.err)")
    }
}

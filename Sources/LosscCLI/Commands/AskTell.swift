import Foundation
import LossDSL
import LossSearch

/// The ask/tell protocol for cluster schedulers (Slurm job arrays, Ray): `ask` writes the next
/// batch of candidates to evaluate, `tell` reads their fitness back. The state between the two
/// lives in the checkpoint, so each call is a short process.
enum AskTell {
    static func ask(_ search: Search, dir: URL) throws -> ExitStatus {
        let s = search.state
        guard s.generation < s.config.generations else {
            Terminal.write("the run is complete (\(s.generation) generations)\n" + SearchReport.text(s))
            return .success
        }
        let pending: PendingGeneration
        if let p = s.pending { pending = p } else {
            pending = search.prepare()
            if pending.chosen.isEmpty {
                try search.complete(pending, fitness: [])
                Terminal.write("generation \(pending.stats.generation + 1): no candidate passed the filters; recorded. Run 'ask' again.\n")
                return .success
            }
            try search.park(pending)
        }
        let batch = dir.appendingPathComponent("batch-\(pending.stats.generation)")
        var manifest = ""
        for (key, index) in zip(pending.chosen, pending.chosenIndex) {
            guard let r = pending.records[key], let g = Genome(text: r.genome, kind: search.kind), let c = Candidate(g) else { continue }
            let id = "\(pending.stats.generation)-\(index)"
            let cdir = batch.appendingPathComponent("cand-\(index)")
            try FileManager.default.createDirectory(at: cdir, withIntermediateDirectories: true)
            let loss = cdir.appendingPathComponent("candidate.loss")
            try c.source.write(to: loss, atomically: true, encoding: .utf8)
            var pairs = [("id", JSON.string(id)), ("key", JSON.string(key)), ("loss", JSON.string(loss.path))]
            if let text = BuiltinJudge.emitC(c) {
                let cfile = cdir.appendingPathComponent("candidate.c")
                try text.write(to: cfile, atomically: true, encoding: .utf8)
                pairs.append(("c", JSON.string(cfile.path)))
            }
            manifest += JSON.object(pairs) + "\n"
        }
        let m = batch.appendingPathComponent("manifest.jsonl")
        try writeFileAtomically(m.path, manifest)
        Terminal.write("generation \(pending.stats.generation + 1)/\(s.config.generations): \(pending.chosen.count) candidates to evaluate\n")
        Terminal.write("manifest: \(m.path)\n")
        Terminal.write("then: lossc search tell RESULTS.jsonl --checkpoint \(dir.path)   (lines: {\"id\": \"…\", \"fitness\": 0.41} or {\"id\": \"…\", \"error\": \"…\"})\n")
        return .success
    }

    static func tell(_ search: Search, results: String, dir: URL) throws -> ExitStatus {
        guard let pending = search.state.pending else {
            throw UsageError("no batch is waiting for results", hint: "run 'lossc search ask --checkpoint \(dir.path)' first")
        }
        let text = String(decoding: try readFile(results), as: UTF8.self)
        var byID: [String: StageResult] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(t.utf8))) as? [String: Any], let id = obj["id"] as? String else {
                throw UsageError("expected {\"id\": …, \"fitness\": …} or {\"id\": …, \"error\": …}", location: "\(results):\(n + 1):1")
            }
            if let f = obj["fitness"] as? Double, f.isFinite { byID[id] = .pass(f) }
            else { byID[id] = .fail((obj["error"] as? String) ?? "no usable fitness (\(obj["fitness"].map { "\($0)" } ?? "missing"))") }
        }
        let ids = pending.chosenIndex.map { "\(pending.stats.generation)-\($0)" }
        let unknown = Set(byID.keys).subtracting(ids)
        if !unknown.isEmpty { Terminal.error("lossc search tell: warning: ignoring unknown ids \(unknown.sorted().prefix(5).joined(separator: ", "))\n") }
        let verdicts = ids.map { byID[$0] ?? .fail("no result reported") }
        try search.complete(pending, fitness: verdicts)
        return .success
    }
}

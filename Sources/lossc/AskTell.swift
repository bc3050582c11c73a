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
        let outstanding = Set(pending.outstanding)
        for (key, index) in zip(pending.chosen, pending.chosenIndex) where outstanding.contains("\(pending.stats.generation)-\(index)") {
            guard let r = pending.records[key], let g = Genome(text: r.genome, kind: search.kind), let c = Candidate(g) else { continue }
            let id = "\(pending.stats.generation)-\(index)"
            let cdir = batch.appendingPathComponent("cand-\(index)")
            try FileManager.default.createDirectory(at: cdir, withIntermediateDirectories: true)
            let loss = cdir.appendingPathComponent("candidate.loss")
            try writeOutput(loss.path, c.source)
            var pairs = [("id", JSON.string(id)), ("key", JSON.string(key)), ("loss", JSON.string(loss.path))]
            if let text = BuiltinJudge.emitC(c) {
                let cfile = cdir.appendingPathComponent("candidate.c")
                try writeOutput(cfile.path, text)
                pairs.append(("c", JSON.string(cfile.path)))
            }
            manifest += JSON.object(pairs) + "\n"
        }
        let m = batch.appendingPathComponent("manifest.jsonl")
        try writeOutput(m.path, manifest)
        Terminal.write("generation \(pending.stats.generation + 1)/\(s.config.generations): \(outstanding.count) candidates to evaluate"
                       + (outstanding.count < pending.chosen.count ? " (of \(pending.chosen.count); the others have results)" : "") + "\n")
        Terminal.write("manifest: \(m.path)\n")
        Terminal.write("then: lossc search tell RESULTS.jsonl --checkpoint \(dir.path)   (lines: {\"id\": \"…\", \"fitness\": 0.41} or {\"id\": \"…\", \"error\": \"…\"})\n")
        return .success
    }

    static func tell(_ search: Search, results: String, dir: URL) throws -> ExitStatus {
        guard let pending = search.state.pending else {
            throw UsageError("no batch is waiting for results", hint: "run 'lossc search ask --checkpoint \(dir.path)' first")
        }
        let text = String(decoding: try readFile(results), as: UTF8.self)
        var p = pending
        let told: [String: StageResult]
        do {
            told = try TellResults.parse(text, pending: p.outstanding, generation: p.stats.generation, told: Set((p.results ?? [:]).keys))
        } catch {
            throw UsageError(error.message,
                             hint: "nothing was recorded; the batch still waits for \(p.outstanding.count) results",
                             location: error.line.map { "\(results):\($0):1" })
        }
        p.results = (p.results ?? [:]).merging(told) { _, new in new }
        let missing = p.outstanding
        if !missing.isEmpty {
            try search.park(p)
            Terminal.write("recorded \(told.count) results; \(missing.count) of \(p.chosen.count) candidates still wait "
                           + "(\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : "")): "
                           + "tell their results, or run 'ask' again for their manifest\n")
            return .success
        }
        let verdicts = p.ids.map { p.results?[$0] ?? .fail("no result reported") }
        try search.complete(p, fitness: verdicts)
        return .success
    }
}

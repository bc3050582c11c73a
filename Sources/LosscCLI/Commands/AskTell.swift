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
                Terminal.error(SearchCommand.emptyFunnelHint(search.state) + "\n")
                return .success
            }
            try search.park(pending)
        }
        let batch = dir.appendingPathComponent("batch-\(pending.stats.generation)")
        let told = pending.told ?? [:]
        var manifest: [[(String, String)]] = []
        for ((key, index), id) in zip(zip(pending.chosen, pending.chosenIndex), pending.ids) where told[id] == nil {
            guard let r = pending.records[key], let g = Genome(text: r.genome, kind: search.kind), let c = Candidate(g) else { continue }
            let cdir = batch.appendingPathComponent("cand-\(index)")
            try FileManager.default.createDirectory(at: cdir, withIntermediateDirectories: true)
            let loss = cdir.appendingPathComponent("candidate.loss")
            try writeOutput(loss.path, c.source)
            var pairs = [("id", JSON.string(id)), ("round", "\(pending.stats.generation)"), ("key", JSON.string(key)), ("loss", JSON.string(loss.path))]
            if let text = BuiltinJudge.emitC(c) {
                let cfile = cdir.appendingPathComponent("candidate.c")
                try writeOutput(cfile.path, text)
                pairs.append(("c", JSON.string(cfile.path)))
            }
            if let text = BuiltinJudge.emitTorch(c) {
                let module = cdir.appendingPathComponent("candidate.py")
                try writeOutput(module.path, text)
                pairs.append(("torch", JSON.string(module.path)))
            }
            manifest.append(pairs)
        }
        let m = batch.appendingPathComponent("manifest.jsonl")
        try AskTellResults.writeManifest(m, manifest)
        let waiting = told.isEmpty ? "" : " (\(told.count) of \(pending.chosen.count) already told)"
        Terminal.write("generation \(pending.stats.generation + 1)/\(s.config.generations): \(manifest.count) candidates to evaluate\(waiting)\n")
        Terminal.write("manifest: \(m.path)\n")
        Terminal.write("then: lossc search tell RESULTS.jsonl --checkpoint \(dir.path)   (lines: {\"id\": \"…\", \"fitness\": 0.41} or {\"id\": \"…\", \"error\": \"…\"})\n")
        return .success
    }

    /// Records a results file (checked whole by `AskTellResults` first). The generation
    /// completes once every candidate has a result; until then `ask` lists the rest again.
    /// With `retryFailed`, error lines are reported but not recorded, so those candidates are
    /// asked again.
    static func tell(_ search: Search, results: String, dir: URL, retryFailed: Bool) throws -> ExitStatus {
        guard var pending = search.state.pending else {
            throw UsageError("no batch is waiting for results", hint: "run 'lossc search ask --checkpoint \(dir.path)' first")
        }
        var told = pending.told ?? [:]
        let ids = pending.ids
        let lines = try AskTellResults.read(results, round: pending.stats.generation, ids: ids,
                                            outstanding: Set(ids.filter { told[$0] == nil }),
                                            ask: "lossc search ask --checkpoint \(dir.path)")
        var retried = 0
        for (id, outcome) in lines {
            switch outcome {
            case .fitness(let f): told[id] = .pass(f)
            case .error(let e) where retryFailed:
                retried += 1
                Terminal.error("\(id) failed (\(e)); it will be asked again\n")
            case .error(let e): told[id] = .fail(e)
            }
        }
        pending.told = told
        let left = ids.count - told.count
        if left > 0 {
            try search.park(pending)
            Terminal.write("generation \(pending.stats.generation + 1): recorded \(lines.count - retried) results; \(left) of \(ids.count) still waiting: run 'ask' again for them\n")
            return .success
        }
        try search.complete(pending, fitness: ids.map { told[$0] ?? .fail("no result reported") })
        return .success
    }
}

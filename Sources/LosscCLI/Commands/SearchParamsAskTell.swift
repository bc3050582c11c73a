import Codegen
import Foundation
import LossDSL
import LossSearch

/// External rewards for `lossc search-params`: `ask` / `tell` (the round's state in the
/// checkpoint file, one short process per call, as `lossc search ask|tell`) and `--evaluator`
/// (the same candidate files, evaluated in process). Candidate ids are `ROUND-INDEX`, and
/// `0-initial` for the formula as written, measured with the first round so that every reward
/// the search compares comes from the same evaluator.
enum ParamAskTell {
    static let initialLabel = "initial"

    /// The batch folder of a round: beside the checkpoint file.
    static func batch(_ checkpoint: String, round: Int) -> URL {
        URL(fileURLWithPath: checkpoint + ".batches").appendingPathComponent("round-\(round)")
    }

    /// Where `--evaluator` runs candidates: beside the checkpoint, else a fresh private folder.
    static func evaluationRoot(_ checkpoint: String?) throws -> URL {
        if let checkpoint { return URL(fileURLWithPath: checkpoint + ".evaluations") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-params-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir
    }

    /// Writes a candidate's files into `dir` (`candidate.loss`; `candidate.c`, the ranking C kernels;
    /// `candidate.py`, the PyTorch module) and returns them by placeholder name.
    static func writeCandidate(_ setup: SearchParamsCommand.Setup, _ theta: [Double], round: Int, in dir: URL) throws -> [String: String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard let text = setup.space.source(setup.file, theta: theta, comments: ["candidate of lossc search-params, round \(round + 1)"]) else {
            throw UsageError("cannot re-read '\(setup.path)'")
        }
        let loss = dir.appendingPathComponent("candidate.loss")
        try writeOutput(loss.path, text)
        var files = ["loss": loss.path, "c": "", "torch": ""]
        let (params, curves) = setup.space.decode(theta)
        if let f = try? RankingFormula.parse(setup.file, params: params, curves: curves) {
            if let c = try? CRankingEmitter.emit(f, name: "candidate", command: nil) {
                let cfile = dir.appendingPathComponent("candidate.c")
                try writeOutput(cfile.path, c.source)
                files["c"] = cfile.path
            }
            // The PyTorch module (class CandidateLoss), for evaluators that train in torch.
            if let t = try? TorchRankingEmitter.emit(f, name: "candidate", command: nil) {
                let module = dir.appendingPathComponent("candidate.py")
                try writeOutput(module.path, t.text)
                files["torch"] = module.path
            }
        }
        return files
    }

    /// `ask`: hands out the round waiting for results (a new one if none), listing only the
    /// candidates without a result; when the search is complete, prints the final result.
    static func ask(_ setup: SearchParamsCommand.Setup, _ state: ParamSearchState, fresh: Bool, _ a: Arguments) throws -> ExitStatus {
        guard let checkpoint = setup.checkpoint else { throw UsageError("search-params ask needs --checkpoint PATH") }
        if state.finished {
            Terminal.error("the search is complete (\(state.round) rounds)\n")
            return try SearchParamsCommand.report(state, setup, a)
        }
        var state = state
        if state.pending == nil {
            var p = ParamSearch.sample(state)
            p.measuresInitial = state.round == 0
            state.pending = p
            try SearchParamsCommand.save(state, setup)
        }
        guard let pending = state.pending else { return .success }
        let dir = batch(checkpoint, round: pending.round)
        var manifest: [[(String, String)]] = []
        for (label, theta) in outstanding(pending, setup) {
            let files = try writeCandidate(setup, theta, round: pending.round, in: dir.appendingPathComponent("cand-\(label)"))
            manifest.append([("id", JSON.string("\(pending.round)-\(label)")), ("round", "\(pending.round)")]
                            + ["loss", "c", "torch"].compactMap { k in files[k].flatMap { $0.isEmpty ? nil : (k, JSON.string($0)) } })
        }
        let m = dir.appendingPathComponent("manifest.jsonl")
        try AskTellResults.writeManifest(m, manifest)
        if fresh { Terminal.error("searching \(setup.space.dimensions.count) dimensions (\(SearchParamsCommand.summary(setup.space))), \(setup.rounds) rounds × \(setup.samples) samples, \(setup.method.rawValue)\n") }
        Terminal.write("round \(pending.round + 1)/\(state.rounds): \(manifest.count) candidates to evaluate\n")
        Terminal.write("manifest: \(m.path)\n")
        Terminal.write("then: lossc search-params \(setup.path) tell RESULTS.jsonl --checkpoint \(checkpoint)   (with the same options)\n")
        return .success
    }

    /// The candidates of `pending` without a result, by label (index, or `initial`).
    static func outstanding(_ p: ParamSearchState.PendingRound, _ setup: SearchParamsCommand.Setup) -> [(String, [Double])] {
        let thetas = p.thetas
        var out = thetas.indices.filter { p.rewards[$0] == nil }.map { ("\($0)", thetas[$0]) }
        if p.measuresInitial, p.initialReward == nil { out.insert((initialLabel, setup.space.initial), at: 0) }
        return out
    }

    /// `tell`: records a results file (checked whole by `AskTellResults`); the round completes
    /// (policy update, checkpoint) once every candidate has a result.
    static func tell(_ setup: SearchParamsCommand.Setup, _ state: ParamSearchState, results: String, retryFailed: Bool) throws -> ExitStatus {
        guard var pending = state.pending, let checkpoint = setup.checkpoint else {
            throw UsageError("no round is waiting for results", hint: "run 'lossc search-params \(setup.path) ask --checkpoint \(setup.checkpoint ?? "PATH")' first")
        }
        let labels = (pending.measuresInitial ? [initialLabel] : []) + pending.thetas.indices.map { "\($0)" }
        let ids = labels.map { "\(pending.round)-\($0)" }
        let waiting = Set(outstanding(pending, setup).map { "\(pending.round)-\($0.0)" })
        let lines = try AskTellResults.read(results, round: pending.round, ids: ids, outstanding: waiting,
                                            ask: "lossc search-params \(setup.path) ask --checkpoint \(checkpoint)")
        var recorded = 0
        for (id, outcome) in lines {
            let label = String(id.dropFirst("\(pending.round)-".count))
            let (reward, error): (Double, String?)
            switch outcome {
            case .fitness(let f): (reward, error) = (f, nil)
            case .error(let e) where retryFailed:
                Terminal.error("\(id) failed (\(e)); it will be asked again\n")
                continue
            case .error(let e): (reward, error) = (0, e)
            }
            recorded += 1
            if label == initialLabel { pending.initialReward = reward; pending.initialError = error }
            else if let i = Int(label) { pending.rewards[i] = reward; pending.errors[i] = error }
        }
        var s = state
        let left = outstanding(pending, setup).count
        if left > 0 {
            s.pending = pending
            try SearchParamsCommand.save(s, setup)
            Terminal.write("round \(pending.round + 1): recorded \(recorded) results; \(left) of \(ids.count) still waiting: run 'ask' again for them\n")
            return .success
        }
        finish(&s, pending)
        try SearchParamsCommand.save(s, setup)
        SearchParamsCommand.progress(s)
        return .success
    }

    /// Completes a round whose every candidate has a result.
    static func finish(_ state: inout ParamSearchState, _ p: ParamSearchState.PendingRound) {
        if p.measuresInitial {
            state.initial.reward = p.initialReward ?? 0
            state.initial.error = p.initialError
        }
        ParamSearch.finish(&state, p, rewards: p.rewards.map { $0 ?? 0 }, errors: p.errors)
    }

    /// `--evaluator`: the external evaluator and how many run at once.
    struct Evaluation {
        let evaluator: ExternalEvaluator
        let workers: Int

        /// Writes and evaluates the labelled candidates of a round, `workers` at a time; a failed
        /// evaluation scores 0 with its reason.
        func rewards(_ setup: SearchParamsCommand.Setup, round: Int, _ jobs: [(String, [Double])]) -> [(reward: Double, error: String?)] {
            let results = Slots(count: jobs.count)
            let next = Slots(count: 1)
            let group = DispatchGroup()
            for _ in 0..<max(1, min(workers, jobs.count)) {
                group.enter()
                // One thread per worker (not GCD's pool, which caps blocking work at the core count).
                Thread {
                    while let i = next.take(below: jobs.count) {
                        let dir = evaluator.root.appendingPathComponent("round-\(round)").appendingPathComponent("cand-\(jobs[i].0)")
                        let r: StageResult
                        do { r = evaluator.evaluate(files: try writeCandidate(setup, jobs[i].1, round: round, in: dir), in: dir) } catch {
                            r = .fail("could not prepare \(dir.path)")
                        }
                        results.set(i, r.passed ? (r.score ?? 0, nil) : (0, r.reason ?? "failed"))
                    }
                    group.leave()
                }.start()
            }
            group.wait()
            return results.values()
        }
    }

    /// Evaluates the candidates of the round (the one waiting, if a resumed ask/tell search
    /// has one) that have no result yet, and completes it.
    static func completeRound(_ state: inout ParamSearchState, _ setup: SearchParamsCommand.Setup, _ e: Evaluation) throws {
        var p = state.pending ?? ParamSearch.sample(state)
        let jobs = outstanding(p, setup)
        for ((label, _), r) in zip(jobs, e.rewards(setup, round: p.round, jobs)) {
            if label == initialLabel { p.initialReward = r.reward; p.initialError = r.error }
            else if let i = Int(label) { p.rewards[i] = r.reward; p.errors[i] = r.error }
        }
        finish(&state, p)
    }
}

/// Lock-protected result slots and a shared work counter, for the evaluation threads.
private final class Slots: @unchecked Sendable {
    private var slots: [(reward: Double, error: String?)?]
    private var counter = 0
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: (Double, String?)) { lock.lock(); slots[i] = v; lock.unlock() }
    func take(below n: Int) -> Int? { lock.lock(); defer { lock.unlock() }; counter += 1; return counter <= n ? counter - 1 : nil }
    func values() -> [(reward: Double, error: String?)] { slots.map { $0 ?? (0, "no result") } }
}

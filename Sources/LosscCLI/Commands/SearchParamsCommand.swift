import Foundation
import LossDSL
import LossSearch

/// `lossc search-params FILE`: search a ranking loss's params and curve control points on the
/// proxy ranking task, with PAP's truncated-normal policy and clipped PPO (or random search).
/// Reproducible for a seed; `--checkpoint` writes the state after every round (atomically) and
/// `--resume` continues from it with bit-identical results. (`lossc search --params` routes here.)
enum SearchParamsCommand {
    static let spec = CommandSpec(
        name: "search-params", summary: "Search a ranking loss's params and curve points on a proxy ranking task.",
        usage: "search-params FILE [ask | tell RESULTS.jsonl] [--only NAME,…] [--range NAME=LO:HI]… [--rounds N] [--samples N] [--seed N] [--method ppo|random] [--evaluator 'CMD {loss} {c} {torch} {dir}' [--workers W]] [--checkpoint PATH [--resume]] [-o OUT] [--json]",
        options: [
            OptionSpec(name: "only", value: "NAME,…", help: "Params and curves to search (default: every curve and param the loss uses)."),
            OptionSpec(name: "range", value: "NAME=LO:HI", help: "Search a param linearly over [LO, HI] (default: [v/10, 10v] log scale).", repeatable: true),
            OptionSpec(name: "rounds", value: "N", help: "Policy updates (default 40, as PAP)."),
            OptionSpec(name: "samples", value: "N", help: "Candidates per round (default 8, as PAP)."),
            OptionSpec(name: "seed", value: "N", help: "Seed of the proxy data and of the sampling (default 1)."),
            OptionSpec(name: "method", value: "ppo|random", help: "PAP's truncated-normal PPO (default) or uniform random search."),
            OptionSpec(name: "entries", value: "N", help: "Proxy task: entries per split (default 3000)."),
            OptionSpec(name: "steps", value: "N", help: "Proxy task: training steps per candidate (default 50)."),
            OptionSpec(name: "checkpoint", value: "PATH", help: "Write the search state to PATH after every round."),
            OptionSpec(name: "resume", value: nil, help: "Continue the search saved in --checkpoint."),
            OptionSpec(name: "stop-after", value: "N", help: "Pause after N rounds of this run (needs --checkpoint; continue with --resume)."),
            OptionSpec(name: "output", value: "OUT", help: "Write the best loss file to OUT (atomically) instead of stdout.", short: "o"),
            OptionSpec(name: "json", value: nil, help: "Print a JSON summary instead of the loss file."),
            OptionSpec(name: "evaluator", value: "CMD", help: "External reward: a shell command; {loss} {c} {torch} {dir} {seed} are substituted (also $LOSSC_LOSS, $LOSSC_C, $LOSSC_TORCH, $LOSSC_DIR, $LOSSC_SEED = 0); the last number printed is the reward."),
            OptionSpec(name: "workers", value: "W", help: "Parallel external evaluations (default: all cores)."),
            OptionSpec(name: "timeout", value: "SECONDS", help: "Time limit per external evaluation (default 600)."),
            OptionSpec(name: "retry-failed", value: nil, help: "tell: do not record error lines; 'ask' lists those candidates again."),
        ],
        positionals: 1...3,
        details: """
        Each candidate trains a linear scorer on synthetic detection-like data with the loss and is
        rewarded with a COCO-style AP@[.5:.95] on held-out data (ProxyRankingTask). Curves keep their
        end points; their interior points are searched with PAP's monotone parameterization.
        Output: the loss file with the best values written in. Progress goes to stderr.
        External rewards (a real detector's AP): --evaluator runs a command per candidate, or
        'ask' writes a round's candidates (PATH.batches/round-R/manifest.jsonl, one line per id with
        its .loss and C files) and 'tell RESULTS.jsonl' reads {"id", "fitness"} / {"id", "error"}
        lines back; the state is the --checkpoint file, as in 'lossc search ask|tell'. The first
        round also evaluates the formula as written (id 'R-initial'). A failed candidate scores 0.
        """)

    static func int(_ a: Arguments, _ name: String, _ d: Int) throws -> Int {
        guard let v = a.value(name) else { return d }
        guard let n = Int(v), n > 0 else { throw UsageError("--\(name): '\(v)' is not a positive integer") }
        return n
    }

    /// What every mode shares: the loss, the search space and the settings that a checkpoint
    /// must match.
    struct Setup {
        let path: String
        let file: SourceFile
        let space: ParamSearchSpace
        let rounds: Int, samples: Int, seed: UInt64
        let method: ParamSearch.Method
        let fingerprint: UInt64
        let checkpoint: String?
        let task: ProxyRankingTask
        /// Rewards from outside (--evaluator, ask/tell) rather than the proxy task.
        let external: Bool
    }

    static func run(_ a: Arguments) throws -> ExitStatus {
        let mode = a.positionals.count > 1 ? a.positionals[1] : "run"
        switch (mode, a.positionals.count) {
        case ("run", 1), ("ask", 2), ("tell", 3): break
        case ("tell", _): throw UsageError("usage: lossc search-params FILE tell RESULTS.jsonl --checkpoint PATH")
        default: throw UsageError("unexpected argument '\(a.positionals.dropFirst().joined(separator: " "))'", hint: "lossc search-params FILE [ask | tell RESULTS.jsonl] …")
        }
        let external = mode != "run" || a.value("evaluator") != nil
        let setup = try Self.setup(a, external: external)
        // One process per checkpoint (held until exit).
        let lock = try setup.checkpoint.map { c in
            try? FileManager.default.createDirectory(at: URL(fileURLWithPath: c).deletingLastPathComponent(), withIntermediateDirectories: true)
            do { return try CheckpointLock(c + ".lock") } catch { throw UsageError("\(error)") }
        }
        defer { withExtendedLifetime(lock) {} }
        if mode != "run" {
            guard let checkpoint = setup.checkpoint else { throw UsageError("search-params \(mode) needs --checkpoint PATH (the state between ask and tell)") }
            if a.value("evaluator") != nil { throw UsageError("--evaluator runs the candidates itself; ask/tell hands them out instead") }
            let exists = FileManager.default.fileExists(atPath: checkpoint)
            if mode == "tell" {
                guard exists else { throw UsageError("no search at '\(checkpoint)'", hint: "run 'lossc search-params \(setup.path) ask --checkpoint \(checkpoint)' first") }
                return try ParamAskTell.tell(setup, try loadState(setup), results: a.positionals[2], retryFailed: a.has("retry-failed"))
            }
            let state = exists ? try loadState(setup)
                : ParamSearch.start(setup.space, method: setup.method, rounds: setup.rounds, samples: setup.samples, seed: setup.seed,
                                    fingerprint: setup.fingerprint, initialReward: 0)
            return try ParamAskTell.ask(setup, state, fresh: !exists, a)
        }
        let evaluator = try a.value("evaluator").map { cmd in
            ParamAskTell.Evaluation(evaluator: ExternalEvaluator(
                template: cmd, root: try ParamAskTell.evaluationRoot(setup.checkpoint),
                timeout: Double(try int(a, "timeout", 600))), workers: try int(a, "workers", ProcessInfo.processInfo.activeProcessorCount))
        }
        func reward(_ theta: [Double]) -> Double {
            let (params, curves) = setup.space.decode(theta)
            guard let f = try? RankingFormula.parse(setup.file, params: params, curves: curves) else { return 0 }
            return setup.task.reward(f)
        }

        var state: ParamSearchState
        if a.has("resume") {
            guard setup.checkpoint != nil else { throw UsageError("--resume needs --checkpoint PATH") }
            state = try loadState(setup)
        } else {
            if let checkpoint = setup.checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
                throw UsageError("the checkpoint '\(checkpoint)' exists", hint: "pass --resume to continue it, or remove it to start over")
            }
            Terminal.error("searching \(setup.space.dimensions.count) dimensions (\(summary(setup.space))), \(setup.rounds) rounds × \(setup.samples) samples, \(setup.method.rawValue)\n")
            let initial = evaluator.map { $0.rewards(setup, round: 0, [(ParamAskTell.initialLabel, setup.space.initial)])[0] }
            state = ParamSearch.start(setup.space, method: setup.method, rounds: setup.rounds, samples: setup.samples, seed: setup.seed,
                                      fingerprint: setup.fingerprint, initialReward: initial?.reward ?? reward(setup.space.initial))
            state.initial.error = initial?.error
            Terminal.error("  the formula as written: reward \(format(state.initial.reward))\n")
        }
        let stopAfter = a.value("stop-after") == nil ? Int.max : try int(a, "stop-after", 1)
        if stopAfter != Int.max, setup.checkpoint == nil { throw UsageError("--stop-after needs --checkpoint PATH to resume from") }
        var ran = 0
        while !state.finished {
            if ran == stopAfter {
                Terminal.error("  paused after round \(state.round)/\(state.rounds); continue with --resume\n")
                return .success
            }
            ran += 1
            if let evaluator {
                try ParamAskTell.completeRound(&state, setup, evaluator)
            } else {
                ParamSearch.runRound(&state, reward: reward)
            }
            progress(state)
            try save(state, setup)
        }
        return try report(state, setup, a)
    }

    static func setup(_ a: Arguments, external: Bool) throws -> Setup {
        let path = a.positionals[0]
        let file = SourceFile(path: path, bytes: try readFile(path))
        guard RankingFormula.isRanking(file) != false else {
            throw UsageError("'\(path)' is not a ranking loss", hint: "search-params searches ranking losses ('loss NAME: ranking')")
        }
        let formula = try RankingCLI.load(file, params: [:])
        var ranges: [String: (lo: Double, hi: Double)] = [:]
        for r in a.values["range"] ?? [] {
            let parts = r.split(separator: "=", maxSplits: 1).map(String.init)
            let bounds = parts.count == 2 ? parts[1].split(separator: ":").map { CLINumber.parse($0) } : []
            guard parts.count == 2, bounds.count == 2, let lo = bounds[0], let hi = bounds[1] else {
                throw UsageError("--range expects NAME=LO:HI, got '\(r)'", hint: "e.g. --range delta=0.1:4")
            }
            ranges[parts[0]] = (lo, hi)
        }
        let only = a.value("only").map { $0.split(separator: ",").map(String.init) }
        let space: ParamSearchSpace
        do { space = try ParamSearchSpace(formula, only: only, ranges: ranges) } catch { throw UsageError(error.message) }
        guard !space.dimensions.isEmpty else { throw UsageError("nothing to search: the loss has no params or curves with interior points") }
        let rounds = try int(a, "rounds", 40), samples = try int(a, "samples", 8)
        let entries = try int(a, "entries", 3000), steps = try int(a, "steps", 50)
        let seed: UInt64
        if let v = a.value("seed") {
            guard let n = UInt64(v) else { throw UsageError("--seed: '\(v)' is not a non-negative integer") }
            seed = n
        } else { seed = 1 }
        let method: ParamSearch.Method = try a.choice("method", default: .ppo)
        // External rewards are another search than the proxy's: a checkpoint of one is not resumed as the other.
        let settings = "\(entries) \(steps) \(seed) \(method.rawValue) \(rounds) \(samples) \(space.dimensions.map(\.name))" + (external ? " external" : "")
        return Setup(path: path, file: file, space: space, rounds: rounds, samples: samples, seed: seed, method: method,
                     fingerprint: fnv1a(Array(settings.utf8), seed: fnv1a(file.bytes)), checkpoint: a.value("checkpoint"),
                     task: ProxyRankingTask(seed: seed, entries: entries, steps: steps), external: external)
    }

    /// Reads the checkpoint, refusing one of another file or other settings.
    static func loadState(_ setup: Setup) throws -> ParamSearchState {
        guard let checkpoint = setup.checkpoint else { throw UsageError("--resume needs --checkpoint PATH") }
        let data = try readFile(checkpoint, limit: 256 << 20, what: "checkpoints")
        let state: ParamSearchState
        do { state = try JSONDecoder().decode(ParamSearchState.self, from: Data(data)) } catch {
            throw UsageError("cannot read the checkpoint '\(checkpoint)': it is not a search-params checkpoint")
        }
        if let problem = state.inconsistency() {
            throw UsageError("the checkpoint '\(checkpoint)' is inconsistent: \(problem)", hint: "restore it, or remove it to start over")
        }
        if let p = state.pending {
            // An edited or damaged round must be refused here, not trap on an index later.
            let n = state.samples, d = state.dimensions.count
            guard p.round == state.round, p.bits.count == n, p.rewards.count == n, p.errors.count == n,
                  p.logProbBits.count == (state.method == .ppo ? n : 0), p.bits.allSatisfy({ $0.count == d }),
                  p.logProbBits.allSatisfy({ $0.count == d }) else {
                throw UsageError("the checkpoint '\(checkpoint)' is inconsistent (its pending round does not match its settings)",
                                 hint: "it was edited or damaged; move it away to start over")
            }
        }
        guard state.fingerprint == setup.fingerprint, state.dimensions == setup.space.dimensions.map(\.name) else {
            throw UsageError("the checkpoint '\(checkpoint)' is for another loss file or other settings",
                             hint: "resume with the same FILE, --only, --range, --rounds, --samples, --seed, --method, --entries and --steps"
                                 + (setup.external ? " (and with external rewards: ask/tell or --evaluator)" : ""))
        }
        return state
    }

    /// Writes the state to the checkpoint (atomically), if there is one.
    static func save(_ state: ParamSearchState, _ setup: Setup) throws {
        guard let checkpoint = setup.checkpoint else { return }
        // Like `lossc search --checkpoint DIR`, a new run's folder is created.
        try? FileManager.default.createDirectory(at: URL(fileURLWithPath: checkpoint).deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try writeOutput(checkpoint, String(decoding: try encoder.encode(state), as: UTF8.self))
    }

    /// The progress line of the round just completed.
    static func progress(_ state: ParamSearchState) {
        guard let last = state.history.last?.map(\.reward), let top = last.max() else { return }
        let failed = state.history.last?.filter { $0.error != nil }.count ?? 0
        Terminal.error("  round \(state.round)/\(state.rounds): mean \(format(last.reduce(0, +) / Double(last.count))), best \(format(top)), best so far \(format(state.best.reward)), sigma \(String(format: "%.3f", Double(bitPattern: state.sigma)))" + (failed > 0 ? ", \(failed) failed" : "") + "\n")
    }

    /// The final output: the loss file with the best values written in, or the JSON summary.
    static func report(_ state: ParamSearchState, _ setup: Setup, _ a: Arguments) throws -> ExitStatus {
        let best = state.best
        let (params, curves) = setup.space.decode(best.exactTheta)
        var out = OutputSink(path: a.value("output"))
        if a.has("json") {
            let values = params.keys.sorted().map { ($0, JSON.number(params[$0] ?? 0)) }
                + curves.keys.sorted().map { ($0, JSON.array((curves[$0] ?? []).map { JSON.array([JSON.number($0.x), JSON.number($0.y)]) })) }
            out.write(JSON.object([("file", JSON.string(setup.path)), ("method", JSON.string(setup.method.rawValue)),
                                   ("rounds", "\(state.round)"), ("samples", "\(state.samples)"),
                                   ("initialReward", JSON.number(state.initial.reward)), ("bestReward", JSON.number(best.reward)),
                                   ("bestRound", "\(best.round)"), ("values", JSON.object(values)),
                                   ("failed", "\(state.history.joined().filter { $0.error != nil }.count)"),
                                   ("roundBest", JSON.array(state.history.map { JSON.number($0.map(\.reward).max() ?? 0) }))]) + "\n")
        } else {
            let note = ["searched by lossc search-params (\(setup.method.rawValue), seed \(setup.seed), \(state.round) rounds × \(state.samples)):",
                        "\(setup.external ? "external" : "proxy") reward \(format(best.reward)) (round \(best.round)); the formula as written had \(format(state.initial.reward))"]
            guard let text = setup.space.source(setup.file, theta: best.exactTheta, comments: note) else { throw UsageError("cannot re-read '\(setup.path)'") }
            out.write(text)
        }
        try out.finish()
        return .success
    }

    static func format(_ v: Double) -> String { String(format: "%.4f", v) }

    static func summary(_ s: ParamSearchSpace) -> String {
        var names: [String] = []
        for d in s.dimensions {
            let n: String
            switch d {
            case .param(let p, _, _, _): n = p
            case .curveX(let c, _), .curveY(let c, _): n = "curve " + c
            }
            if !names.contains(n) { names.append(n) }
        }
        return names.joined(separator: ", ")
    }
}

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
        usage: "search-params FILE [--only NAME,…] [--range NAME=LO:HI]… [--rounds N] [--samples N] [--seed N] [--method ppo|random] [--checkpoint PATH [--resume]] [-o OUT] [--json]",
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
        ],
        details: """
        Each candidate trains a linear scorer on synthetic detection-like data with the loss and is
        rewarded with a COCO-style AP@[.5:.95] on held-out data (ProxyRankingTask). Curves keep their
        end points; their interior points are searched with PAP's monotone parameterization.
        Output: the loss file with the best values written in. Progress goes to stderr.
        """)

    static func int(_ a: Arguments, _ name: String, _ d: Int) throws -> Int {
        guard let v = a.value(name) else { return d }
        guard let n = Int(v), n > 0 else { throw UsageError("--\(name): '\(v)' is not a positive integer") }
        return n
    }

    static func run(_ a: Arguments) throws -> ExitStatus {
        let path = a.positionals[0]
        let file = SourceFile(path: path, bytes: try readFile(path))
        guard RankingFormula.isRanking(file) != false else {
            throw UsageError("'\(path)' is not a ranking loss", hint: "search-params searches ranking losses ('loss NAME: ranking')")
        }
        let formula = try RankingCLI.load(file, params: [:])
        var ranges: [String: (lo: Double, hi: Double)] = [:]
        for r in a.values["range"] ?? [] {
            let parts = r.split(separator: "=", maxSplits: 1).map(String.init)
            let bounds = parts.count == 2 ? parts[1].split(separator: ":").map { Double($0) } : []
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
        let seed = UInt64(a.value("seed") ?? "1") ?? 1
        let method: ParamSearch.Method = try a.choice("method", default: .ppo)
        let settings = "\(entries) \(steps) \(seed) \(method.rawValue) \(rounds) \(samples) \(space.dimensions.map(\.name))"
        let fingerprint = fnv1a(Array(settings.utf8), seed: fnv1a(file.bytes))

        let task = ProxyRankingTask(seed: seed, entries: entries, steps: steps)
        func reward(_ theta: [Double]) -> Double {
            let (params, curves) = space.decode(theta)
            guard let f = try? RankingFormula.parse(file, params: params, curves: curves) else { return 0 }
            return task.reward(f)
        }

        var state: ParamSearchState
        let checkpoint = a.value("checkpoint")
        if a.has("resume") {
            guard let checkpoint else { throw UsageError("--resume needs --checkpoint PATH") }
            let data = try readFile(checkpoint)
            do { state = try JSONDecoder().decode(ParamSearchState.self, from: Data(data)) } catch {
                throw UsageError("cannot read the checkpoint '\(checkpoint)': it is not a search-params checkpoint")
            }
            guard state.fingerprint == fingerprint, state.dimensions == space.dimensions.map(\.name) else {
                throw UsageError("the checkpoint '\(checkpoint)' is for another loss file or other settings",
                                 hint: "resume with the same FILE, --only, --range, --rounds, --samples, --seed, --method, --entries and --steps")
            }
        } else {
            if let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
                throw UsageError("the checkpoint '\(checkpoint)' exists", hint: "pass --resume to continue it, or remove it to start over")
            }
            Terminal.error("searching \(space.dimensions.count) dimensions (\(summary(space))), \(rounds) rounds × \(samples) samples, \(method.rawValue)\n")
            state = ParamSearch.start(space, method: method, rounds: rounds, samples: samples, seed: seed,
                                      fingerprint: fingerprint, initialReward: reward(space.initial))
            Terminal.error("  the formula as written: reward \(format(state.initial.reward))\n")
        }
        let stopAfter = a.value("stop-after") == nil ? Int.max : try int(a, "stop-after", 1)
        if stopAfter != Int.max, checkpoint == nil { throw UsageError("--stop-after needs --checkpoint PATH to resume from") }
        var ran = 0
        while !state.finished {
            if ran == stopAfter {
                Terminal.error("  paused after round \(state.round)/\(state.rounds); continue with --resume\n")
                return .success
            }
            ran += 1
            ParamSearch.runRound(&state, reward: reward)
            let last = state.history.last!.map(\.reward)
            Terminal.error("  round \(state.round)/\(state.rounds): mean \(format(last.reduce(0, +) / Double(last.count))), best \(format(last.max()!)), best so far \(format(state.best.reward)), sigma \(String(format: "%.3f", Double(bitPattern: state.sigma)))\n")
            if let checkpoint {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try writeFileAtomically(checkpoint, String(decoding: try encoder.encode(state), as: UTF8.self))
            }
        }
        let best = state.best
        let (params, curves) = space.decode(best.exactTheta)
        if a.has("json") {
            let values = params.keys.sorted().map { ($0, JSON.number(params[$0]!)) }
                + curves.keys.sorted().map { ($0, JSON.array(curves[$0]!.map { JSON.array([JSON.number($0.x), JSON.number($0.y)]) })) }
            var out = OutputSink(path: a.value("output"))
            out.write(JSON.object([("file", JSON.string(path)), ("method", JSON.string(method.rawValue)),
                                   ("rounds", "\(state.round)"), ("samples", "\(state.samples)"),
                                   ("initialReward", JSON.number(state.initial.reward)), ("bestReward", JSON.number(best.reward)),
                                   ("bestRound", "\(best.round)"), ("values", JSON.object(values)),
                                   ("roundBest", JSON.array(state.history.map { JSON.number($0.map(\.reward).max() ?? 0) }))]) + "\n")
            try out.finish()
        } else {
            let note = ["searched by lossc search-params (\(method.rawValue), seed \(seed), \(state.round) rounds × \(state.samples)):",
                        "proxy reward \(format(best.reward)) (round \(best.round)); the formula as written had \(format(state.initial.reward))"]
            guard let text = space.source(file, theta: best.exactTheta, comments: note) else { throw UsageError("cannot re-read '\(path)'") }
            var out = OutputSink(path: a.value("output"))
            out.write(text)
            try out.finish()
        }
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

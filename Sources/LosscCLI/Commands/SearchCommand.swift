import Foundation
import LossDSL
import LossSearch

/// `lossc search`: the CSE-Autoloss evolutionary search (and its ask/tell halves).
enum SearchCommand {
    static let spec = CommandSpec(
        name: "search", summary: "Search for new losses (CSE-Autoloss's evolutionary search).",
        usage: "search [ask | tell RESULTS.jsonl] --kind KIND [--population N] [--generations G] [--seed S] [--workers W] [--checkpoint DIR] [--resume] [--evaluator 'CMD {loss} {c} {torch} {dir} {seed}'] [--holdout N] [--format json]",
        options: [
            OptionSpec(name: "kind", value: "KIND", help: "binary, multiclass or box."),
            OptionSpec(name: "population", value: "N", help: "Candidates per generation (default 100)."),
            OptionSpec(name: "generations", value: "G", help: "Generations (default 10)."),
            OptionSpec(name: "seed", value: "S", help: "Random seed (default 1): the same seed gives the same run."),
            OptionSpec(name: "top-k", value: "K", help: "Filter survivors evaluated per generation (default 20)."),
            OptionSpec(name: "parents", value: "P", help: "Parents kept (default 10)."),
            OptionSpec(name: "workers", value: "W", help: "Parallel evaluations (default: all cores)."),
            OptionSpec(name: "checkpoint", value: "DIR", help: "Write DIR/checkpoint.json atomically after every generation."),
            OptionSpec(name: "resume", value: nil, help: "Continue the run in --checkpoint DIR."),
            OptionSpec(name: "evaluator", value: "CMD", help: "External fitness: a shell command; {loss} {c} {torch} {dir} {seed} are substituted (also $LOSSC_LOSS, $LOSSC_C, $LOSSC_TORCH, $LOSSC_DIR, $LOSSC_SEED); the last number printed is the fitness."),
            OptionSpec(name: "holdout", value: "N", help: "Re-evaluate the best N on held-out seeds after the run (default 3; 0: none)."),
            OptionSpec(name: "holdout-seeds", value: "S", help: "Held-out seeds per candidate (default 2): fresh proxy data, or {seed} = 1..S."),
            OptionSpec(name: "timeout", value: "SECONDS", help: "Time limit per external evaluation (default 600)."),
            OptionSpec(name: "from", value: "FILE.loss", help: "Seed the first generation with this formula.", repeatable: true),
            OptionSpec(name: "no-filters", value: nil, help: "Disable both convergence filters (the vanilla EA)."),
            OptionSpec(name: "alpha-t", value: "A", help: "binary: CSE-Autoloss's conventions on the built-in proxy, alpha_t = A y + (1-A)(1-y) outside the formula and w = 0 for negatives (their B_cls assumes A = 0.25)."),
            OptionSpec(name: "max-height", value: "H", help: "Tree height limit (default 10)."),
            OptionSpec(name: "max-size", value: "N", help: "Tree size limit (default 50)."),
            OptionSpec(name: "format", value: "text|json", help: "Final report format (default text)."),
            OptionSpec(name: "quiet", value: nil, help: "No progress lines."),
            OptionSpec(name: "retry-failed", value: nil, help: "tell: do not record error lines; 'ask' lists those candidates again."),
        ],
        positionals: 0...2,
        details: """
        Each generation: breed from the parents, drop candidates already seen (same canonical formula),
        stage 1 (convergence properties), stage 2 (tiny training), the top K on the proxy task
        (or --evaluator), keep the best P of the run as parents, checkpoint. After the last generation
        the best N are evaluated again on held-out seeds (other proxy data sets; {seed} = 1, 2, … for an
        evaluator, which sees {seed} = 0 while the search selects): the fitness a search selects is
        the maximum of noisy values, the held-out mean is the number to report.
        Example: lossc search --kind binary --population 200 --generations 8 --seed 7 --checkpoint runs/b
        Cluster use: 'lossc search ask --checkpoint DIR' writes the next batch (DIR/batch-G/),
        'lossc search tell results.jsonl --checkpoint DIR' reads its fitness values back (a partial
        file records what it has; 'ask' then lists the candidates still waiting).
        """)

    static func run(_ a: Arguments) throws -> ExitStatus {
        let mode = a.positionals.first ?? "run"
        switch mode {
        case "run": guard a.positionals.count == 0 else { throw UsageError("unexpected argument '\(a.positionals[0])'") }
        case "ask": guard a.positionals.count == 1 else { throw UsageError("usage: lossc search ask --checkpoint DIR") }
        case "tell": guard a.positionals.count == 2 else { throw UsageError("usage: lossc search tell RESULTS.jsonl --checkpoint DIR") }
        default:
            throw UsageError("unknown search mode '\(mode)'", hint: "lossc search [ask | tell RESULTS.jsonl] …")
        }
        if mode != "run", a.value("checkpoint") == nil {
            throw UsageError("'search \(mode)' needs --checkpoint DIR (the state between ask and tell lives there)",
                             hint: "e.g. lossc search ask --kind binary --checkpoint runs/b")
        }
        let checkpoint = a.value("checkpoint").map { URL(fileURLWithPath: $0) }
        // One process per checkpoint: the lock is held until exit.
        var lock: CheckpointLock? = nil
        if let dir = checkpoint {
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw UsageError("cannot create the checkpoint directory '\(dir.path)': \(error.localizedDescription)")
            }
            lock = try wrap { try CheckpointLock(dir.appendingPathComponent(".lock").path) }
            CheckpointLock.removeStaleTemporaries(in: dir.path)
        }
        defer { withExtendedLifetime(lock) {} }
        var state: SearchState
        let existing = checkpoint.map { FileManager.default.fileExists(atPath: $0.appendingPathComponent("checkpoint.json").path) } ?? false
        if a.has("resume") || mode != "run" && existing {
            guard let dir = checkpoint else { throw UsageError("--resume needs --checkpoint DIR") }
            state = try wrap { try SearchState.load(from: dir) }
            try reconcile(&state, with: a)
        } else {
            if existing { throw UsageError("\(checkpoint!.path) already holds a run", hint: "add --resume to continue it, or choose another --checkpoint") }
            state = SearchState(config: try config(a))
        }
        guard let kind = LossKind(rawValue: state.config.kind) else { throw UsageError("bad kind in checkpoint") }
        let workers = try int(a, "workers", ProcessInfo.processInfo.activeProcessorCount, min: 1)
        guard let judge = BuiltinJudge(kind: kind, seed: state.config.seed, alphaT: state.config.alphaT) else { throw UsageError("no built-in proxy task for \(kind.rawValue) losses") }
        let evaluator: FitnessEvaluator
        var external: ExternalEvaluator? = nil
        let holdout = try int(a, "holdout", 3, min: 0), holdoutSeeds = try int(a, "holdout-seeds", 2, min: 1)
        var scratch: String? = nil
        defer { if let scratch { removeTree(scratch) } }
        if let cmd = a.value("evaluator") {
            // With a checkpoint (locked: this run's own), DIR/evaluations; without, a fresh
            // private directory, so concurrent searches never share candidate files.
            let root: URL
            if let checkpoint { root = checkpoint.appendingPathComponent("evaluations") } else {
                scratch = try privateDirectory("evaluations")
                root = URL(fileURLWithPath: scratch!)
            }
            external = ExternalEvaluator(template: cmd, root: root, timeout: Double(try int(a, "timeout", 600, min: 1)),
                                         emitC: BuiltinJudge.emitC, emitTorch: BuiltinJudge.emitTorch)
            evaluator = external!
        } else {
            evaluator = judge
        }
        Interruption.install()
        let search = try wrap { try Search(state: state, filter: judge, evaluator: evaluator, workers: workers, checkpointDir: checkpoint) }
        if !a.has("quiet") {
            search.progress = { stats, st in
                Terminal.error(progressLine(stats, st) + "\n")
            }
        }
        switch mode {
        case "ask": return try AskTell.ask(search, dir: checkpoint!)
        case "tell": return try AskTell.tell(search, results: a.positionals[1], dir: checkpoint!, retryFailed: a.has("retry-failed"))
        default:
            do { try search.run() } catch SearchError.interrupted(let sig) {
                let saved = checkpoint.map {
                    search.state.generation == 0 ? "; no generation was complete: run the command again"
                        : "; the checkpoint in \($0.path) holds \(search.state.generation) complete generations: continue with --resume"
                } ?? ""
                Terminal.error("lossc search: interrupted (signal \(sig)); evaluators stopped\(saved)\n")
                return .interrupted(sig)
            } catch let e as SearchError { throw UsageError(e.description) }
            let json = try a.choice("format", default: OutputFormat.text) == .json
            let refs = a.value("evaluator") == nil ? references(judge) : []
            if search.state.best(1).isEmpty { Terminal.error(emptyFunnelHint(search.state) + "\n") }
            var held = HeldOutReport(seeds: holdoutSeeds)
            if holdout > 0, !search.state.best(1).isEmpty {
                if !a.has("quiet") { Terminal.error("held-out re-evaluation: the best \(min(holdout, search.state.best(holdout).count)) on \(holdoutSeeds) fresh seed(s)\n") }
                let evaluators: [FitnessEvaluator]
                if let e = external {
                    evaluators = (1...holdoutSeeds).map { e.heldOut(seed: $0) }
                } else {
                    let judges = (1...holdoutSeeds).compactMap { BuiltinJudge(kind: kind, seed: Self.heldOutSeed(state.config.seed, $0), alphaT: state.config.alphaT) }
                    evaluators = judges
                    held.references = averaged(judges.map(references))
                }
                do { held.results = try search.heldOut(count: holdout, evaluators: evaluators) } catch SearchError.interrupted(let sig) {
                    Terminal.error("lossc search: interrupted (signal \(sig)) during the held-out re-evaluation; evaluators stopped; "
                                   + "the search itself is complete" + (checkpoint.map { " in \($0.path): --resume prints the report and re-evaluates" } ?? "") + "\n")
                    return .interrupted(sig)
                }
            }
            Terminal.write(json ? SearchReport.json(search.state, references: refs, heldOut: held)
                                : SearchReport.text(search.state, references: refs, heldOut: held))
            return .success
        }
    }

    /// The proxy seed of held-out set `k`: far from the search's own (`seed`, `seed + 1001…1003`).
    static func heldOutSeed(_ seed: UInt64, _ k: Int) -> UInt64 { seed &+ 0x5EED_0000 &+ UInt64(k) &* 10_007 }

    /// Per name, the mean of the values over the lists.
    static func averaged(_ lists: [[(String, Double)]]) -> [(String, Double)] {
        guard let first = lists.first else { return [] }
        return first.map { name, _ in
            let v = lists.compactMap { $0.first { $0.0 == name }?.1 }
            return (name, v.reduce(0, +) / Double(v.count))
        }
    }

    /// The built-in proxy fitness of the standard losses (and focal loss for binary), for comparison.
    static func references(_ judge: BuiltinJudge) -> [(String, Double)] {
        var out = [(judge.referenceName, judge.referenceFitness)]
        if judge.kind == .binary, let f = try? Formula.parse(focalSource, path: "<focal>"),
           let v = judge.fitness(CompiledLoss.compile(f)).score {
            out.append(("focal (0.25, 2)", v))
        }
        return out
    }

    static let focalSource = """
    loss focal: binary
    let p = sigmoid(x)
    return -(0.25 * y * (1 - p)^2 * log(p) + 0.75 * (1 - y) * p^2 * log(1 - p))
    """

    static func progressLine(_ s: GenerationStats, _ st: SearchState) -> String {
        let best = s.bestFitness.map { String(format: "%.4f", $0) } ?? "-"
        return "gen \(s.generation + 1)/\(st.config.generations): \(s.generated) generated, \(s.duplicates) seen before, "
            + "\(s.rejectedStage1) rejected by stage 1, \(s.rejectedStage2) by stage 2, \(s.evaluated) evaluated"
            + (s.failed > 0 ? ", \(s.failed) failed" : "") + "; best \(best) (\(String(format: "%.1f", s.seconds)) s)"
    }

    /// `--alpha-t A`, a number in [0, 1], or nil.
    static func alphaT(_ a: Arguments) throws -> Double? {
        guard let s = a.value("alpha-t") else { return nil }
        guard let v = CLINumber.parse(s), (0...1).contains(v) else { throw UsageError("--alpha-t: '\(s)' is not a number in [0, 1]") }
        return v
    }

    static func config(_ a: Arguments) throws -> SearchConfig {
        guard let k = a.value("kind") else { throw UsageError("missing --kind", hint: "binary, multiclass or box") }
        guard let kind = LossKind(rawValue: k), kind.isSupported else { throw UsageError("unknown kind '\(k)'", hint: "binary, multiclass or box") }
        var c = SearchConfig(kind: kind)
        c.population = try int(a, "population", c.population, min: 1)
        c.generations = try int(a, "generations", c.generations, min: 1)
        c.seed = UInt64(try int(a, "seed", 1, min: 0))
        c.topK = try int(a, "top-k", c.topK, min: 1)
        c.parents = try int(a, "parents", c.parents, min: 1)
        c.maxHeight = try int(a, "max-height", c.maxHeight, min: 2)
        c.maxSize = try int(a, "max-size", c.maxSize, min: 3)
        c.filters = !a.has("no-filters")
        c.alphaT = try alphaT(a)
        if c.alphaT != nil, kind != .binary { throw UsageError("--alpha-t applies to binary losses only") }
        for path in a.values["from"] ?? [] {
            let f = try loadFormula(path, params: [:])
            guard f.kind == kind else { throw UsageError("\(path) is a \(f.kind.rawValue) loss; the search is for \(kind.rawValue)") }
            guard let g = Genome(formula: f) else {
                throw UsageError("\(path) uses operators outside the search space (\(f.outsideSearchSpace.map(\.name).joined(separator: ", ")))",
                                 hint: "seeds must be written with the 21 search-space operators ('lossc ops'): e.g. a^2 as a * a, "
                                     + "a constant exponent as repeated products; or seed with examples/bce.loss")
            }
            c.seeds.append(g.text)
        }
        return c
    }

    /// What to change when no candidate reached the fitness stage (a small random population
    /// rarely has one that passes stage 1).
    static func emptyFunnelHint(_ s: SearchState) -> String {
        let seen = s.history.reduce(0) { $0 + $1.generated }
        return "lossc search: note: no candidate passed the filters (\(seen) generated). Try a larger --population "
            + "(e.g. 2000), seed the first generation with --from FILE.loss (a loss written with the 21 search-space "
            + "operators, e.g. examples/bce.loss), or --no-filters (the vanilla EA)."
    }

    /// A resumed run keeps its stored settings: an option that contradicts one is refused (it
    /// would otherwise be silently ignored); `--generations` may be raised to extend the run.
    static func reconcile(_ state: inout SearchState, with a: Arguments) throws {
        let c = state.config
        func same<T: Equatable>(_ option: String, _ given: T?, _ stored: T) throws {
            guard let given, given != stored else { return }
            throw UsageError("--\(option) \(given) conflicts with the checkpoint's \(stored)",
                             hint: "a resumed run keeps the settings it started with; drop --\(option), or start a new run in another --checkpoint")
        }
        try same("kind", a.value("kind"), c.kind)
        try same("population", try a.value("population").map { _ in try int(a, "population", 0, min: 1) }, c.population)
        try same("seed", try a.value("seed").map { _ in UInt64(try int(a, "seed", 0, min: 0)) }, c.seed)
        try same("top-k", try a.value("top-k").map { _ in try int(a, "top-k", 0, min: 1) }, c.topK)
        try same("parents", try a.value("parents").map { _ in try int(a, "parents", 0, min: 1) }, c.parents)
        try same("max-height", try a.value("max-height").map { _ in try int(a, "max-height", 0, min: 2) }, c.maxHeight)
        try same("max-size", try a.value("max-size").map { _ in try int(a, "max-size", 0, min: 3) }, c.maxSize)
        if a.has("no-filters"), c.filters { throw UsageError("--no-filters conflicts with the checkpoint (filters on)") }
        if let v = try alphaT(a), v != c.alphaT {
            throw UsageError("--alpha-t \(formatNumber(v)) conflicts with the checkpoint (" + (c.alphaT.map { "--alpha-t \(formatNumber($0))" } ?? "no --alpha-t") + ")")
        }
        // Ask/tell drivers repeat a run's options on every call: the same seeds are no conflict.
        if a.values["from"] != nil, try a.value("kind") == nil || config(a).seeds != c.seeds {
            throw UsageError("--from only seeds a new run; the checkpoint's first generation is already made")
        }
        if a.value("generations") != nil {
            let g = try int(a, "generations", 0, min: 1)
            guard g >= state.generation else {
                throw UsageError("--generations \(g) is below the \(state.generation) generations already done")
            }
            state.config.generations = g
        }
    }

    static func int(_ a: Arguments, _ name: String, _ d: Int, min: Int) throws -> Int {
        guard let s = a.value(name) else { return d }
        guard let v = Int(s), v >= min else { throw UsageError("--\(name) must be an integer >= \(min), got '\(s)'") }
        return v
    }

    /// Search errors (bad checkpoint, bad configuration) are bad input: exit 2 with the message.
    static func wrap<T>(_ f: () throws -> T) throws -> T {
        do { return try f() } catch let e as SearchError { throw UsageError(e.description) }
    }
}

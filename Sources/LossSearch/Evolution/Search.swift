import Foundation
import LossDSL

/// The CSE-Autoloss evolutionary search: generate candidates from the parents, drop the ones
/// seen before (by canonical form), filter with stage 1 then stage 2 (cheapest first),
/// evaluate the top K survivors on the proxy task, keep the top P of the whole run as parents,
/// checkpoint, repeat. Deterministic for a seed: random choices are made sequentially, the
/// parallel stages only fill in results by index.
public final class Search: @unchecked Sendable {
    public private(set) var state: SearchState
    public let kind: LossKind
    let variation: Variation
    let filter: CandidateFilter
    let evaluator: FitnessEvaluator
    let workers: Int
    let checkpointDir: URL?
    /// Called after each generation with its stats (the CLI prints a progress line).
    public var progress: (@Sendable (GenerationStats, SearchState) -> Void)?
    /// The candidates of the last `prepare`, so `step` does not compile them again.
    private var prepared: [String: Candidate] = [:]

    public init(state: SearchState, filter: CandidateFilter, evaluator: FitnessEvaluator, workers: Int, checkpointDir: URL?) throws {
        guard let kind = LossKind(rawValue: state.config.kind), kind.isSupported else {
            throw SearchError.configuration("cannot search losses of kind '\(state.config.kind)'")
        }
        let c = state.config
        guard c.population > 0, c.generations >= 0, c.topK > 0, c.parents > 0, c.maxHeight >= 2, c.maxSize >= 3 else {
            throw SearchError.configuration("population, top-k, parents must be positive; height >= 2, size >= 3")
        }
        self.state = state
        self.kind = kind
        var v = Variation(kind: kind, maxHeight: c.maxHeight, maxSize: c.maxSize)
        v.constants = [1, 2, 3]
        variation = v
        self.filter = c.filters ? filter : NoFilter()
        self.evaluator = evaluator
        self.workers = max(1, workers)
        self.checkpointDir = checkpointDir
    }

    /// Runs the remaining generations (all of them for a new state).
    public func run() throws {
        while state.generation < state.config.generations {
            if let sig = Interruption.requested { throw SearchError.interrupted(sig) }
            try step()
        }
    }

    /// Generates, filters and evaluates one generation, then checkpoints.
    public func step() throws {
        let pending = prepare()
        let candidates = pending.chosen.compactMap { key in
            prepared[key] ?? pending.records[key].flatMap { Genome(text: $0.genome, kind: kind) }.flatMap(Candidate.init)
        }
        prepared = [:]
        let jobs = Array(zip(candidates, pending.chosenIndex))
        let gen = pending.stats.generation
        let t0 = Date()
        let fit = parallelMap(jobs.map { (candidate: $0.0, index: $0.1) }, workers: workers) { job in
            self.evaluator.fitness(job.candidate, generation: gen, index: job.index)
        }
        // Interrupted: the generation in flight is not recorded; the checkpoint keeps the last
        // complete one and a resumed run repeats this generation exactly.
        if let sig = Interruption.requested { throw SearchError.interrupted(sig) }
        var p = pending
        p.stats.fitnessSeconds = Date().timeIntervalSince(t0)
        try complete(p, fitness: fit)
    }

    /// The first half of a generation: breed, drop duplicates, run both filters, choose the
    /// top K survivors for the proxy task. Stored in the checkpoint by `ask`.
    public func prepare() -> PendingGeneration {
        let start = Date()
        let gen = state.generation
        var rng = SeededGenerator(seed: state.rngState)
        var stats = GenerationStats(generation: gen)
        let genomes = breed(&rng)
        stats.generated = genomes.count

        // Distinct, valid, unseen candidates, in generation order.
        var seen = Set<String>()
        var fresh: [Candidate] = []
        for g in genomes {
            guard let c = Candidate(g) else { stats.invalid += 1; continue }
            if seen.contains(c.key) || state.records[c.key] != nil { stats.duplicates += 1; continue }
            seen.insert(c.key)
            fresh.append(c)
        }

        let t1 = Date()
        let s1 = parallelMap(fresh) { self.filter.stage1($0) }
        let passed1 = fresh.indices.filter { s1[$0].passed }
        let t2 = Date()
        let s2 = parallelMap(passed1.map { fresh[$0] }) { self.filter.stage2($0) }
        stats.stage1Seconds = t2.timeIntervalSince(t1)
        stats.stage2Seconds = Date().timeIntervalSince(t2)
        var records: [String: CandidateRecord] = [:]
        var survivors: [(index: Int, score: Double)] = []
        let stage2Of = Dictionary(uniqueKeysWithValues: passed1.enumerated().map { ($1, s2[$0]) })
        for (i, c) in fresh.enumerated() {
            var r = CandidateRecord(genome: c.genome.text, generation: gen, outcome: "stage1")
            if !s1[i].passed { r.reason = s1[i].reason; stats.rejectedStage1 += 1 }
            else if let v2 = stage2Of[i], !v2.passed { r.outcome = "stage2"; r.reason = v2.reason; stats.rejectedStage2 += 1 }
            else {
                r.outcome = "passed"   // survived both filters; "evaluated" once it has a fitness
                r.stage2 = stage2Of[i]?.score
                survivors.append((i, r.stage2 ?? 0))
            }
            records[c.key] = r
        }
        survivors.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        let chosen = Array(survivors.prefix(state.config.topK))
        prepared = Dictionary(chosen.map { (fresh[$0.index].key, fresh[$0.index]) }, uniquingKeysWith: { a, _ in a })
        return PendingGeneration(stats: stats, rngState: rng.state, records: records,
                                 chosen: chosen.map { fresh[$0.index].key }, chosenIndex: chosen.map(\.index), started: start)
    }

    /// The second half: record the fitness of the chosen candidates (in `pending.chosen`
    /// order), update the parents, checkpoint.
    public func complete(_ pending: PendingGeneration, fitness: [StageResult]) throws {
        var stats = pending.stats
        var records = pending.records
        for (key, f) in zip(pending.chosen, fitness) {
            guard var r = records[key] else { continue }
            if f.passed, let v = f.score, v.isFinite { r.outcome = "evaluated"; r.fitness = v; stats.evaluated += 1 }
            else { r.outcome = "failed"; r.reason = f.reason ?? "no fitness"; stats.failed += 1 }
            records[key] = r
        }
        for (k, r) in records { state.records[k] = r }
        state.parents = state.best(state.config.parents).map(\.record.genome)
        stats.bestFitness = state.best(1).first?.record.fitness
        stats.seconds = pending.started.map { Date().timeIntervalSince($0) } ?? 0
        state.history.append(stats)
        state.generation += 1
        state.rngState = pending.rngState
        state.pending = nil
        if let dir = checkpointDir { try state.save(to: dir) }
        progress?(stats, state)
    }

    /// Stores a prepared generation in the state (for ask/tell) and checkpoints.
    public func park(_ pending: PendingGeneration) throws {
        state.pending = pending
        if let dir = checkpointDir { try state.save(to: dir) }
    }

    /// The genomes of this generation: seeds and random trees first, then offspring.
    func breed(_ rng: inout SeededGenerator) -> [Genome] {
        let c = state.config
        var out: [Genome] = []
        let parents = state.parents.compactMap { Genome(text: $0, kind: kind) }
        if state.generation == 0 || parents.isEmpty {
            for s in c.seeds { if let g = Genome(text: s, kind: kind) { out.append(g) } }
            while out.count < c.population {
                // Half the random start uses the label-split form (binary losses only).
                out.append(variation.randomGenome(depth: c.initialDepth, labelSplit: out.count % 2 == 1, &rng))
            }
            return Array(out.prefix(max(c.population, c.seeds.count)))
        }
        while out.count < c.population {
            var a = parents.randomElement(using: &rng)!
            var b = parents.randomElement(using: &rng)!
            if Double.random(in: 0..<1, using: &rng) < c.crossoverRate { (a, b) = variation.crossover(a, b, &rng) }
            for child in [a, b] where out.count < c.population {
                var ch = child
                if Double.random(in: 0..<1, using: &rng) < c.mutationRate { ch = variation.mutate(ch, &rng) }
                out.append(ch)
            }
        }
        return out
    }

    /// Maps in parallel over `workers` threads of its own (not `concurrentPerform`, which
    /// caps at the core count: external evaluations wait on processes, so N workers must mean
    /// N at once), results in input order.
    func parallelMap<T, R>(_ items: [T], workers: Int? = nil, _ f: @escaping @Sendable (T) -> R) -> [R] where T: Sendable, R: Sendable {
        if items.isEmpty { return [] }
        let n = min(items.count, workers ?? self.workers)
        let results = ResultBox<R>(count: items.count)
        let next = Counter()
        let work: @Sendable () -> Void = {
            while true {
                let i = next.take()
                if i >= items.count { break }
                results.set(i, f(items[i]))
            }
        }
        if n == 1 { work(); return results.values() }
        let group = DispatchGroup()
        for _ in 0..<n {
            group.enter()
            let t = Thread { work(); group.leave() }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        return results.values()
    }
}

/// A lock-protected slot array for parallel results.
final class ResultBox<R>: @unchecked Sendable {
    private var slots: [R?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: R) { lock.lock(); slots[i] = v; lock.unlock() }
    func values() -> [R] { slots.map { $0! } }
}

/// A shared work counter.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
}

import Foundation
import Testing
@testable import LossDSL
@testable import LossSearch

/// A deterministic stand-in for the proxy task: fitness from the loss's values at fixed
/// points (prefers losses that fall steeply for positives and rise for negatives).
struct ToyFitness: FitnessEvaluator {
    func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult {
        let l = c.compiled
        var score = 0.0
        for x in stride(from: -4.0, through: 4.0, by: 1) {
            let p = l.evaluate([.scalar(x), .scalar(1), .scalar(1)], as: Double.self)
            let n = l.evaluate([.scalar(x), .scalar(0), .scalar(1)], as: Double.self)
            guard p.loss.isFinite, n.loss.isFinite else { return .fail("non-finite") }
            score += (p.gradient[0] < 0 ? 1 : 0) + (n.gradient[0] > 0 ? 1 : 0)
        }
        return .pass(score / 18)
    }
}

/// Rejects formulas whose positive loss is not finite at 0 (a cheap stand-in for stage 1).
struct ToyFilter: CandidateFilter {
    func stage1(_ c: Candidate) -> StageResult {
        c.compiled.evaluate([.scalar(0.0), .scalar(1), .scalar(1)], as: Double.self).loss.isFinite ? .pass() : .fail("not finite at 0")
    }
    func stage2(_ c: Candidate) -> StageResult { .pass(Double(c.genome.size)) }
}

struct GenomeTests {
    @Test func textRoundTripAndLimits() throws {
        let g = Genome(text: "neg(dot(mul(y,add(1,sin(w))),log(softmax(x))))", kind: .multiclass)!
        #expect(g.text == "neg(dot(mul(y,add(1,sin(w))),log(softmax(x))))")
        #expect(g.size == 11 && g.height == 5)   // published A_cls: 11 nodes, height 5
        #expect(Genome(text: "add(x", kind: .binary) == nil)
        #expect(Genome(text: "frob(x)", kind: .binary) == nil)
        // A genome read back from a formula is the same tree.
        let f = try Formula.parse(try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/cse_b_cls.loss"), encoding: .utf8))
        let b = Genome(formula: f)!
        #expect(Genome(formula: b.formula()!) == b)
        #expect(Genome(text: b.text, kind: .binary) == b)
    }

    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func variationKeepsChildrenValid(_ kind: LossKind) {
        let v = Variation(kind: kind, maxHeight: 9, maxSize: 40)
        var rng = SeededGenerator(seed: 3)
        var pop = (0..<20).map { _ in v.randomGenome(depth: 5, &rng) }
        for _ in 0..<200 {
            let a = pop.randomElement(using: &rng)!, b = pop.randomElement(using: &rng)!
            let (c, d) = v.crossover(a, b, &rng)
            let m = v.mutate(c, &rng)
            for g in [c, d, m] {
                #expect(v.acceptable(g), "\(g.text)")
                #expect(g.height <= 9 && g.size <= 40)
                #expect(g.formula() != nil)
            }
            pop[Int.random(in: 0..<pop.count, using: &rng)] = m
        }
    }
}

struct SearchTests {
    func config(generations: Int = 4) -> SearchConfig {
        var c = SearchConfig(kind: .binary)
        c.population = 30; c.generations = generations; c.topK = 10; c.parents = 5; c.seed = 11
        return c
    }

    @Test func runsAreReproducible() throws {
        let a = try Search(state: SearchState(config: config()), filter: ToyFilter(), evaluator: ToyFitness(), workers: 2, checkpointDir: nil)
        let b = try Search(state: SearchState(config: config()), filter: ToyFilter(), evaluator: ToyFitness(), workers: 1, checkpointDir: nil)
        try a.run(); try b.run()
        #expect(a.state.records == b.state.records)
        #expect(a.state.parents == b.state.parents)
        #expect(a.state.best(1).first!.record.fitness! > 0.5)
        // The funnel adds up.
        for h in a.state.history {
            #expect(h.generated == h.duplicates + h.invalid + h.rejectedStage1 + h.rejectedStage2 + h.evaluated + h.failed
                    + (a.state.records.values.filter { $0.generation == h.generation && $0.outcome == "passed" }.count))
        }
    }

    /// The held-out re-evaluation: the best candidates in the order of `best`, each with one
    /// value per evaluator, equal to that evaluator's own fitness of the candidate.
    @Test func heldOutReevaluatesTheBestWithEachEvaluator() throws {
        struct Shifted: FitnessEvaluator {
            let shift: Double
            func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult {
                let r = ToyFitness().fitness(c, generation: generation, index: index)
                return r.passed ? .pass(r.score! + shift) : r
            }
        }
        struct Failing: FitnessEvaluator {
            func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult { .fail("no") }
        }
        let search = try Search(state: SearchState(config: config(generations: 2)), filter: ToyFilter(), evaluator: ToyFitness(), workers: 2, checkpointDir: nil)
        try search.run()
        let held = try search.heldOut(count: 3, evaluators: [Shifted(shift: 1), Failing(), Shifted(shift: 2)])
        let best = search.state.best(3)
        #expect(held.count == 3 && held.map(\.genome) == best.map(\.record.genome))
        for (h, b) in zip(held, best) {
            #expect(h.selected == b.record.fitness!)
            #expect(h.values.count == 3 && h.values[1] == nil)
            #expect(h.values[0] == b.record.fitness! + 1 && h.values[2] == b.record.fitness! + 2)
            #expect(h.mean == b.record.fitness! + 1.5)
        }
        #expect(try search.heldOut(count: 0, evaluators: [Shifted(shift: 1)]).isEmpty)
    }

    @Test func resumeEqualsAnUninterruptedRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-search-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Search(state: SearchState(config: config()), filter: ToyFilter(), evaluator: ToyFitness(), workers: 2, checkpointDir: nil)
        try whole.run()
        // Two generations, then "crash"; a new process resumes from the checkpoint.
        let first = try Search(state: SearchState(config: config()), filter: ToyFilter(), evaluator: ToyFitness(), workers: 2, checkpointDir: dir)
        try first.step(); try first.step()
        let resumed = try Search(state: try SearchState.load(from: dir), filter: ToyFilter(), evaluator: ToyFitness(), workers: 2, checkpointDir: dir)
        #expect(resumed.state.generation == 2)
        try resumed.run()
        #expect(resumed.state.records == whole.state.records)
        #expect(resumed.state.parents == whole.state.parents)
    }

    @Test func corruptCheckpointsAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-corrupt-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try Search(state: SearchState(config: config(generations: 1)), filter: ToyFilter(), evaluator: ToyFitness(), workers: 1, checkpointDir: dir)
        try s.run()
        let url = dir.appendingPathComponent("checkpoint.json")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
        #expect(throws: SearchError.self) { try SearchState.load(from: dir) }
        try Data("{\"version\": 1}".utf8).write(to: url)
        #expect(throws: SearchError.self) { try SearchState.load(from: dir) }
    }

    @Test func duplicatesAreEvaluatedOnce() throws {
        var c = config(generations: 1)
        c.seeds = ["neg(log(sig(x)))", "neg(log(sigmoid(x)))", "neg(log(sigmoid(x)))"].compactMap { Genome(text: $0, kind: .binary)?.text }
        let s = try Search(state: SearchState(config: c), filter: ToyFilter(), evaluator: ToyFitness(), workers: 1, checkpointDir: nil)
        try s.run()
        #expect(s.state.history[0].duplicates >= 1)
    }

    @Test func externalEvaluatorFailuresAreRecorded() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-ext-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let cand = Candidate(Genome(text: "softplus(neg(x))", kind: .binary)!)!
        func judge(_ cmd: String, timeout: Double = 5) -> StageResult {
            ExternalEvaluator(template: cmd, root: root, timeout: timeout).fitness(cand, generation: 0, index: Int.random(in: 0..<1_000_000))
        }
        #expect(judge("grep -c loss {loss} >/dev/null && echo 'AP: 0.42'") == .pass(0.42))
        #expect(judge("echo garbage").passed == false)
        #expect(judge("echo nan").passed == false)
        #expect(judge("exit 3") == .fail("exit status 3"))
        #expect(judge("kill -SEGV $$").passed == false)
        let t0 = Date()
        #expect(judge("sleep 30; echo 1", timeout: 0.5) == .fail("timed out after 0.5 s"))
        #expect(Date().timeIntervalSince(t0) < 5)
        #expect(judge("test -f {dir}/candidate.loss && echo 1") == .pass(1))
        // With the C emitter, {c} is a self-contained .c file the system compiler accepts.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") {
            let withC = ExternalEvaluator(template: "cc -std=c99 -Wall -Werror -c {c} -o {dir}/c.o && echo 1", root: root, timeout: 60,
                                          emitC: BuiltinJudge.emitC)
            #expect(withC.fitness(cand, generation: 1, index: 0) == .pass(1))
        }
    }
}

/// The acceptance test of the search: from a random start on the built-in binary proxy task,
/// a small budget finds a loss whose held-out AP is at least BCE's on the same task.
struct BuiltinSearchTests {
    @Test func findsALossAtLeastAsGoodAsBCE() throws {
        var c = SearchConfig(kind: .binary)
        c.population = 600; c.generations = 4; c.seed = 1; c.topK = 20; c.parents = 8
        let judge = try #require(BuiltinJudge(kind: .binary, seed: c.seed))
        let s = try Search(state: SearchState(config: c), filter: judge, evaluator: judge, workers: 2, checkpointDir: nil)
        try s.run()
        let best = try #require(s.state.best(1).first?.record.fitness)
        #expect(best >= judge.referenceFitness, "best AP \(best) vs BCE \(judge.referenceFitness)")
        // More than 99% of random candidates die in the filters, as the paper reports.
        let first = s.state.history[0]
        let distinct = first.generated - first.duplicates - first.invalid
        #expect(Double(first.rejectedStage1 + first.rejectedStage2) / Double(distinct) > 0.99)
    }
}

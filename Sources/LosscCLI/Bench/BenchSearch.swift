import Foundation
import LossDSL
import LossSearch

/// `lossc bench search`: throughput of each stage, and the paper's comparison — the same search
/// with and without the convergence filters, same seed and the same number of proxy
/// evaluations — in wall time to reach a target fitness and the fitness reached.
enum BenchSearch {
    static func run(_ a: Arguments) throws -> ExitStatus {
        let kind = LossKind(rawValue: a.value("kind") ?? "binary") ?? .binary
        let seed = UInt64(a.value("seed") ?? "5") ?? 5
        let generations = Int(a.value("generations") ?? "8") ?? 8
        let population = Int(a.value("population") ?? "1000") ?? 1000
        guard let judge = BuiltinJudge(kind: kind, seed: seed) else { throw UsageError("no proxy task for \(kind.rawValue)") }
        let target = judge.referenceFitness
        Terminal.write("search benchmark: \(kind.rawValue), population \(population), \(generations) generations, top-K 30, seed \(seed), \(ProcessInfo.processInfo.activeProcessorCount) workers\n")
        Terminal.write("target: the fitness of \(judge.referenceName) on the proxy task, \(String(format: "%.4f", target)) (\(judge.metric))\n\n")
        var rows: [(String, SearchState)] = []
        for filters in [true, false] {
            var c = SearchConfig(kind: kind)
            c.population = population; c.generations = generations; c.seed = seed; c.topK = 30; c.parents = 10
            c.filters = filters
            let s = try Search(state: SearchState(config: c), filter: judge, evaluator: judge,
                               workers: ProcessInfo.processInfo.activeProcessorCount, checkpointDir: nil)
            try s.run()
            rows.append((filters ? "with filters" : "without (vanilla EA)", s.state))
        }
        Terminal.write("run                    proxy evals  best fitness  evals to target  time to target  total time\n")
        for (name, st) in rows {
            var elapsed = 0.0, reached: Double?, evalsSoFar = 0, evalsToTarget: Int?
            for h in st.history {
                elapsed += h.seconds
                evalsSoFar += h.evaluated + h.failed
                if reached == nil, let b = h.bestFitness, b >= target { reached = elapsed; evalsToTarget = evalsSoFar }
            }
            let best = st.best(1).first?.record.fitness
            Terminal.write(name.padded(23) + String(evalsSoFar).padded(13) + (best.map { String(format: "%.4f", $0) } ?? "-").padded(14)
                           + (evalsToTarget.map(String.init) ?? "not reached").padded(17)
                           + (reached.map { String(format: "%.1f s", $0) } ?? "not reached").padded(16) + String(format: "%.1f s", elapsed) + "\n")
        }
        Terminal.write("(the proxy task here costs milliseconds; with a real detector each proxy evaluation costs GPU hours,\n and the number of evaluations to reach the target is what the filters save)\n")
        let s = rows[0].1.history
        let distinct = s.reduce(0) { $0 + $1.generated - $1.duplicates - $1.invalid }
        let passed1 = distinct - s.reduce(0) { $0 + $1.rejectedStage1 }
        let t1 = s.reduce(0) { $0 + $1.stage1Seconds }, t2 = s.reduce(0) { $0 + $1.stage2Seconds }, tf = s.reduce(0) { $0 + $1.fitnessSeconds }
        let evals = s.reduce(0) { $0 + $1.evaluated + $1.failed }
        Terminal.write("\nwith filters, per stage (all workers):\n")
        Terminal.write(String(format: "  stage 1: %d candidates in %.2f s = %.0f candidates/s, %.1f%% rejected\n", distinct, t1, Double(distinct) / max(t1, 1e-9),
                              100 * Double(distinct - passed1) / Double(max(distinct, 1))))
        let rej2 = s.reduce(0) { $0 + $1.rejectedStage2 }
        Terminal.write(String(format: "  stage 2: %d candidates in %.2f s = %.1f ms each, %.1f%% rejected\n", passed1, t2, 1000 * t2 / Double(max(passed1, 1)),
                              100 * Double(rej2) / Double(max(passed1, 1))))
        Terminal.write(String(format: "  proxy:   %d candidates in %.2f s = %.1f ms each\n", evals, tf, 1000 * tf / Double(max(evals, 1))))
        Terminal.write(String(format: "  the two filters together rejected %.2f%% of distinct candidates\n", 100 * Double(distinct - (passed1 - rej2)) / Double(max(distinct, 1))))
        return .success
    }
}

import Foundation
import LossDSL
import LossCheck

/// `lossc bench check`: the speed of the two convergence-simulation stages on random
/// search-space formulas, and the share of candidates each rejects.
///
/// Stage 1 runs with the search's budget (`Stage1Budget.search`) on every core
/// (`concurrentPerform` over candidates); stage 2 runs on stage 1's survivors, one at a time.
/// Baselines measured in the same process: compiling a candidate (for stage 1) and the
/// reference loss's own training run (for stage 2).
enum BenchChecks {
    static func run(_ a: Arguments) throws -> ExitStatus {
        guard let n = Int(a.value("candidates") ?? "2000"), n > 0 else {
            throw UsageError("--candidates: expected a positive integer")
        }
        guard let seed = UInt64(a.value("seed") ?? "1") else { throw UsageError("--seed: expected a non-negative integer") }
        let kinds: [LossKind]
        switch a.value("kind") ?? "all" {
        case "all": kinds = [.binary, .multiclass, .box]
        case let k: guard let kind = LossKind(rawValue: k), kind.isSupported else {
            throw UsageError("--kind: expected binary, multiclass, box or all, got '\(k)'")
        }; kinds = [kind]
        }
        let workers = ProcessInfo.processInfo.activeProcessorCount
        Terminal.write("random formulas from the search space: at most 20 nodes, \(n) per kind, seed \(seed), \(workers) worker\(workers == 1 ? "" : "s")\n")
        for kind in kinds { bench(kind, count: n, seed: seed, workers: workers) }
        return .success
    }

    /// Results written by index from several threads: each index is written by one worker only.
    final class Slots<T>: @unchecked Sendable {
        var items: [T?]
        init(_ n: Int) { items = [T?](repeating: nil, count: n) }
    }

    static func parallel(_ n: Int, workers: Int, _ body: @Sendable (Int) -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < n { body(i); i += workers }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    static func bench(_ kind: LossKind, count n: Int, seed: UInt64, workers: Int) {
        var rng = SeededGenerator(seed: seed)
        let spec = RandomFormula(kind: kind, maxNodes: 20)
        let formulas = (0..<n).map { _ in spec.next(using: &rng) }
        let compiled = Slots<CompiledLoss>(n)
        let compileTime = parallel(n, workers: workers) { i in compiled.items[i] = CompiledLoss.compile(formulas[i]) }
        let losses = compiled.items.map { $0! }
        let results = Slots<[PropertyResult]>(n)
        let stage1Time = parallel(n, workers: workers) { i in results.items[i] = ConvergenceCheck.stage1(losses[i], budget: .search) }
        var rejectedBy: [String: Int] = [:]
        var survivors: [Int] = []
        var proved = 0
        for i in 0..<n {
            let r = results.items[i]!
            if let bad = r.first(where: { $0.verdict.isRefuted }) { rejectedBy[bad.id, default: 0] += 1 } else {
                survivors.append(i)
                if r.allSatisfy({ $0.verdict.isProved }) { proved += 1 }
            }
        }
        let rejected1 = n - survivors.count
        Terminal.write("\n\(kind.rawValue):\n")
        Terminal.write(String(format: "  stage 1: %.0f candidates/s (%.1f µs each on one core); compiling: %.0f candidates/s (stage 1 costs %.2fx a compile); both: %.0f candidates/s\n",
                              Double(n) / stage1Time, stage1Time * Double(workers) / Double(n) * 1e6,
                              Double(n) / compileTime, stage1Time / compileTime, Double(n) / (compileTime + stage1Time)))
        Terminal.write(String(format: "           rejects %d of %d (%.1f%%); survivors with every property proved: %d\n",
                              rejected1, n, 100 * Double(rejected1) / Double(n), proved))
        for (id, c) in rejectedBy.sorted(by: { $0.value > $1.value }) {
            Terminal.write("           \(id.padded(36)) \(c)\n")
        }
        Terminal.flush()
        guard let task = ProxyTask(kind: kind, seed: seed) else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = task.run(ColumnBatchLoss(task.referenceLoss))
        let baseline = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        // Stage 2 sees only stage 1's survivors: draw more candidates until there are enough
        // survivors to time it and to measure its share (at most 25 times --candidates).
        var pool = survivors.map { losses[$0] }
        var drawn = n
        while pool.count < 20, drawn < 25 * n {
            let batch = (0..<1000).map { _ in spec.next(using: &rng) }
            let more = Slots<CompiledLoss>(batch.count)
            _ = parallel(batch.count, workers: workers) { i in
                let l = CompiledLoss.compile(batch[i])
                if ConvergenceCheck.passes(ConvergenceCheck.stage1(l, budget: .search)) { more.items[i] = l }
            }
            pool += more.items.compactMap { $0 }
            drawn += batch.count
        }
        guard !pool.isEmpty else {
            Terminal.write("  stage 2: no survivor among \(drawn) candidates (the \(task.referenceName) run: \(String(format: "%.1f", baseline * 1e3)) ms)\n")
            return
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let passed = pool.filter { Simulation.stage2($0, task: task).passed }.count
        let perCandidate = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9 / Double(pool.count)
        let share1 = 1 - Double(pool.count) / Double(drawn), share2 = 1 - Double(passed) / Double(pool.count)
        Terminal.write(String(format: "  stage 2: %.1f ms per candidate on one core (%.2fx the %@ run, %.1f ms); %@ reference %@ %.4f\n",
                              perCandidate * 1e3, perCandidate / baseline, task.referenceName, baseline * 1e3,
                              task.referenceName, task.metric, task.reference))
        Terminal.write(String(format: "           rejects %d of %d survivors (of %d candidates drawn); both stages reject %.3f%%\n",
                              pool.count - passed, pool.count, drawn, 100 * (1 - (1 - share1) * (1 - share2))))
        Terminal.flush()
    }
}

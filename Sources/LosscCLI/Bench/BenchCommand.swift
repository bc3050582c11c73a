import Foundation
import LossDSL
import LossTesting

/// `lossc bench compile`: time parse + optimize + differentiate on generated formulas of
/// growing size, and print how the time grows (linear passes: ratio ~ size ratio).
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench", summary: "Benchmarks: compile, fuzz, check, search, closures, c, ranking.",
        usage: "bench compile|fuzz|check|search [options] | bench closures [--elements N] [--repeat N] [--loss NAME,…] | bench c [--cc PATH] [--flags \"FLAGS\"] | bench ranking [--entries N] [--losses F,F] [--repeat N]",
        options: [
            OptionSpec(name: "nodes", value: "N,N,…", help: "compile: formula sizes (default 10000,100000)."),
            OptionSpec(name: "iterations", value: "N", help: "fuzz: number of mutated inputs (default 200000)."),
            OptionSpec(name: "seed", value: "N", help: "Random seed (default 1)."),
            OptionSpec(name: "candidates", value: "N", help: "check: random formulas per kind (default 2000)."),
            OptionSpec(name: "kind", value: "K", help: "check: binary, multiclass, box or all (default all); search: the kind (default binary)."),
            OptionSpec(name: "population", value: "N", help: "search: candidates per generation (default 1000)."),
            OptionSpec(name: "generations", value: "G", help: "search: generations (default 8)."),
            OptionSpec(name: "entries", value: "N", help: "ranking: entries per batch (default 1000000)."),
            OptionSpec(name: "losses", value: "F,F", help: "ranking: loss files (default examples/ap_loss.loss,examples/pap_retinanet.loss)."),
            OptionSpec(name: "precision", value: "f32,f64", help: "ranking: precisions to run (default f32,f64)."),
            OptionSpec(name: "budget", value: "S", help: "ranking: seconds the brute force may run before it is extrapolated (default 20)."),
        ] + BenchKernels.options + BenchCKernels.options,
        positionals: 1...1,
        details: "Example: swift build -c release && .build/release/lossc bench compile --nodes 10000,100000")

    static func run(_ a: Arguments) throws -> ExitStatus {
        switch a.positionals[0] {
        case "compile": break
        case "fuzz": return try fuzz(a)
        case "check": return try BenchChecks.run(a)
        case "search": return try BenchSearch.run(a)
        case "closures": return try BenchKernels.run(a)
        case "ranking": return try RankingBench.run(a)
        case "c": return try BenchCKernels.run(a)
        default: throw UsageError("unknown benchmark '\(a.positionals[0])'", hint: "available: compile, fuzz, check, search, closures, c, ranking")
        }
        let sizes = try (a.value("nodes") ?? "10000,100000").split(separator: ",").map { s -> Int in
            guard let n = Int(s), n > 0 else { throw UsageError("--nodes: '\(s)' is not a positive integer") }
            return n
        }
        let seed = UInt64(a.value("seed") ?? "1") ?? 1
        var rows: [(Int, Int, Double)] = []
        Terminal.write("nodes(requested)  nodes(graph)  parse+lower  optimize+diff  total(s)\n")
        for n in sizes {
            // The generator's size estimate ignores hash-consing; rescale once to hit n graph nodes.
            var text = FormulaGenerator.text(nodes: n, seed: seed)
            let probe = try Formula.parse(text, path: "<generated>")
            let got = probe.graph.liveCount(from: [probe.root])
            text = FormulaGenerator.text(nodes: n * n / max(got, 1), seed: seed)
            var best = (Double.infinity, Double.infinity, 0)
            for _ in 0..<3 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let f = try Formula.parse(text, path: "<generated>")
                let t1 = DispatchTime.now().uptimeNanoseconds
                let c = CompiledLoss.compile(f)
                let t2 = DispatchTime.now().uptimeNanoseconds
                let p = Double(t1 - t0) / 1e9, o = Double(t2 - t1) / 1e9
                if p + o < best.0 + best.1 { best = (p, o, f.graph.liveCount(from: [f.root])) }
                _ = c
            }
            rows.append((n, best.2, best.0 + best.1))
            Terminal.write(String(n).padded(18) + String(best.2).padded(14) + String(format: "%.3f", best.0).padded(13)
                           + String(format: "%.3f", best.1).padded(15) + String(format: "%.3f", best.0 + best.1) + "\n")
            Terminal.flush()
        }
        if rows.count >= 2 {
            let a = rows[0], b = rows[rows.count - 1]
            Terminal.write(String(format: "growth: %.1fx the nodes took %.1fx the time (linear would be %.1fx)\n",
                                  Double(b.1) / Double(a.1), b.2 / a.2, Double(b.1) / Double(a.1)))
        }
        return .success
    }
}

extension BenchCommand {
    /// `lossc bench fuzz`: a long mutation-fuzzing run of the front end from the examples.
    static func fuzz(_ a: Arguments) throws -> ExitStatus {
        let n = Int(a.value("iterations") ?? "200000") ?? 200_000
        let seed = UInt64(a.value("seed") ?? "1") ?? 1
        let dir = URL(fileURLWithPath: "examples")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".loss") } ?? []
        guard !files.isEmpty else { throw UsageError("run from the repository root (examples/*.loss is the seed corpus)") }
        let corpus = try files.map { String(decoding: try readFile(dir.appendingPathComponent($0).path), as: UTF8.self) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = Fuzzer(corpus: corpus).run(iterations: n, seed: seed)
        let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        Terminal.write("fuzz: \(r.inputs) inputs (\(r.valid) valid formulas compiled and evaluated, \(r.diagnosed) diagnosed), \(r.deapInputs) DEAP imports, seed \(seed), \(String(format: "%.1f", s)) s, no crash\n")
        return .success
    }
}

/// Generates a random binary-kind formula of about `nodes` graph nodes, as `let` chains
/// that reuse earlier bindings (so it is a DAG, like real formulas after CSE).
enum FormulaGenerator {
    static func text(nodes: Int, seed: UInt64) -> String {
        var rng = SeededGenerator(seed: seed)
        var s = "loss generated: binary\n"
        var names = ["x", "y", "w"]
        let unary = ["sigmoid", "softplus", "tanh", "sin", "scaled_erf", "relu", "abs", "neg"]
        let binary = ["+", "-", "*"]
        var count = 3
        var k = 0
        while count < nodes {
            let a = names[Int(rng.next() % UInt64(names.count))]
            let b = names[max(0, names.count - 1 - Int(rng.next() % 8))]
            let u = unary[Int(rng.next() % UInt64(unary.count))]
            let op = binary[Int(rng.next() % UInt64(binary.count))]
            let expr = u == "neg" ? "-(\(a) \(op) \(b))" : "\(u)(\(a) \(op) \(b))"
            k += 1
            s += "let t\(k) = \(expr)\n"
            names.append("t\(k)")
            count += 2
        }
        // Sum the last few bindings so everything recent is live.
        s += "return " + names.suffix(min(names.count, 64)).joined(separator: " + ") + "\n"
        return s
    }
}

import Foundation
import LossDSL

/// `lossc bench compile`: time parse + optimize + differentiate on generated formulas of
/// growing size, and print how the time grows (linear passes: ratio ~ size ratio).
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench", summary: "Benchmarks (compile: front-end time vs formula size; c: emitted C vs hand-written C).",
        usage: "bench compile [--nodes 10000,100000] [--seed N] | bench c [--cc PATH] [--flags \"FLAGS\"]",
        options: [
            OptionSpec(name: "nodes", value: "N,N,…", help: "Formula sizes (default 10000,100000)."),
            OptionSpec(name: "seed", value: "N", help: "Random seed of the generated formulas (default 1)."),
        ] + BenchCKernels.options,
        positionals: 1...1)

    static func run(_ a: Arguments) throws -> ExitStatus {
        if a.positionals[0] == "c" { return try BenchCKernels.run(a) }
        guard a.positionals[0] == "compile" else {
            throw UsageError("unknown benchmark '\(a.positionals[0])'", hint: "available: compile, c")
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

/// Generates a random binary-kind formula of about `nodes` graph nodes, as `let` chains
/// that reuse earlier bindings (so it is a DAG, like real formulas after CSE).
enum FormulaGenerator {
    static func text(nodes: Int, seed: UInt64) -> String {
        var rng = SplitMix(seed: seed)
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

/// A small deterministic PRNG (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

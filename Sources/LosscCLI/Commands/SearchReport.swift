import LossDSL
import LossSearch

/// The final report of a search: the best formulas, printed canonically, and the funnel.
enum SearchReport {
    static func best(_ s: SearchState, _ n: Int = 5) -> [(fitness: Double, source: String, genome: String)] {
        guard let kind = LossKind(rawValue: s.config.kind) else { return [] }
        return s.best(n).compactMap { item in
            guard let g = Genome(text: item.record.genome, kind: kind), let f = g.formula(name: "found") else { return nil }
            let c = Canonicalize.run(f.graph, roots: [f.root])
            let text = SourcePrinter.source(name: "found", kind: kind, params: [], graph: c.graph, root: c.roots[0])
            return (item.record.fitness!, text, item.record.genome)
        }
    }

    static func funnel(_ s: SearchState) -> [(String, Int)] {
        let h = s.history
        func sum(_ f: (GenerationStats) -> Int) -> Int { h.reduce(0) { $0 + f($1) } }
        let fresh = sum(\.generated) - sum(\.duplicates) - sum(\.invalid)
        return [("generated", sum(\.generated)), ("distinct", fresh),
                ("passed stage 1", fresh - sum(\.rejectedStage1)),
                ("passed stage 2", fresh - sum(\.rejectedStage1) - sum(\.rejectedStage2)),
                ("evaluated", sum(\.evaluated)), ("failed evaluation", sum(\.failed))]
    }

    static func text(_ s: SearchState, references: [(String, Double)] = []) -> String {
        var out = "search: \(s.config.kind), \(s.generation) generations of \(s.config.population), seed \(s.config.seed)\n\nfunnel:\n"
        for (k, v) in funnel(s) { out += "  \(k.padded(20)) \(v)\n" }
        if !references.isEmpty {
            out += "\nproxy task, standard losses with the same budget:\n"
            for (name, v) in references { out += "  \(name.padded(20)) \(formatNumber(v))\n" }
        }
        out += "\nbest:\n"
        for (i, b) in best(s).enumerated() {
            out += "#\(i + 1) fitness \(formatNumber(b.fitness))   genome \(b.genome)\n"
            out += b.source.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func json(_ s: SearchState, references: [(String, Double)] = []) -> String {
        let f = funnel(s).map { ($0.0.replacingOccurrences(of: " ", with: "_"), String($0.1)) }
        let b = best(s).map { JSON.object([("fitness", JSON.number($0.fitness)), ("genome", JSON.string($0.genome)), ("source", JSON.string($0.source))]) }
        return JSON.object([("kind", JSON.string(s.config.kind)), ("generations", String(s.generation)),
                            ("seed", String(s.config.seed)), ("funnel", JSON.object(f)),
                            ("references", JSON.object(references.map { ($0.0, JSON.number($0.1)) })), ("best", JSON.array(b))]) + "\n"
    }
}

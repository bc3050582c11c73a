import LossDSL
import LossSearch

/// The held-out re-evaluation of a search's best candidates, for the report.
struct HeldOutReport {
    var seeds: Int
    var results: [HeldOutResult] = []
    /// The standard losses on the same held-out proxy data (built-in proxy only).
    var references: [(String, Double)] = []
}

/// The final report of a search: the best formulas, printed canonically, the funnel, and the
/// best re-evaluated on held-out seeds.
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

    static func text(_ s: SearchState, references: [(String, Double)] = [], heldOut: HeldOutReport? = nil) -> String {
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
        if let h = heldOut, !h.results.isEmpty { out += heldOutText(h) }
        return out
    }

    /// "held-out re-evaluation": each candidate's selected fitness against its held-out values.
    static func heldOutText(_ h: HeldOutReport) -> String {
        func number(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "failed" }
        var out = "\nheld-out re-evaluation (\(h.seeds) seed(s) the search never selected on):\n"
        for (i, r) in h.results.enumerated() {
            out += "#\(i + 1) selected \(number(r.selected))  held out \(number(r.mean))"
            out += "  (" + r.values.map(number).joined(separator: ", ") + ")\n"
        }
        if !h.references.isEmpty {
            out += "standard losses on the same held-out data: "
                + h.references.map { "\($0.0) \(String(format: "%.4f", $0.1))" }.joined(separator: ", ") + "\n"
        }
        if let top = h.results.indices.filter({ h.results[$0].mean != nil }).max(by: { h.results[$0].mean! < h.results[$1].mean! }) {
            out += "best held out: #\(top + 1), \(number(h.results[top].mean))\n"
        }
        return out
    }

    static func json(_ s: SearchState, references: [(String, Double)] = [], heldOut: HeldOutReport? = nil) -> String {
        let f = funnel(s).map { ($0.0.replacingOccurrences(of: " ", with: "_"), String($0.1)) }
        let b = best(s).map { JSON.object([("fitness", JSON.number($0.fitness)), ("genome", JSON.string($0.genome)), ("source", JSON.string($0.source))]) }
        return JSON.object([("kind", JSON.string(s.config.kind)), ("generations", String(s.generation)),
                            ("seed", String(s.config.seed)), ("funnel", JSON.object(f)),
                            ("references", JSON.object(references.map { ($0.0, JSON.number($0.1)) })), ("best", JSON.array(b)),
                            ("heldout", heldOutJSON(heldOut))]) + "\n"
    }

    /// `{"seeds": S, "candidates": [{"genome", "selected", "values", "mean"}], "references": {…}}`
    /// (failed evaluations and a mean without values are null).
    static func heldOutJSON(_ h: HeldOutReport?) -> String {
        guard let h else { return "null" }
        func number(_ v: Double?) -> String { v.map(JSON.number) ?? "null" }
        let c = h.results.map { r in
            JSON.object([("genome", JSON.string(r.genome)), ("selected", number(r.selected)),
                         ("values", JSON.array(r.values.map(number))), ("mean", number(r.mean))])
        }
        return JSON.object([("seeds", String(h.seeds)), ("candidates", JSON.array(c)),
                            ("references", JSON.object(h.references.map { ($0.0, JSON.number($0.1)) }))])
    }
}

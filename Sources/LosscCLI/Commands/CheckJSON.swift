import LossDSL
import LossCheck

/// The convergence stages of `lossc check --json`: keys `properties` and `simulation`.
enum CheckJSON {
    static func pairs(_ o: CheckPipeline.Outcome) -> [(String, String)] {
        var out: [(String, String)] = [("properties", JSON.array(o.properties.map(property)))]
        if let sim = o.simulation {
            var p: [(String, String)] = [("task", JSON.string(o.task ?? "")), ("metric", JSON.string(sim.metric)),
                                         ("score", JSON.number(sim.score)), ("reference", JSON.string(sim.referenceName)),
                                         ("referenceScore", JSON.number(sim.reference)), ("untrainedScore", JSON.number(sim.floor)),
                                         ("ratio", JSON.number(sim.ratio)), ("passRatio", JSON.number(ProxyTask.passRatio)),
                                         ("passed", sim.passed ? "true" : "false")]
            if let f = sim.failure { p.append(("failure", JSON.string(f))) }
            out.append(("simulation", JSON.object(p)))
        } else if let why = o.simulationSkipped {
            out.append(("simulation", JSON.object([("skipped", JSON.string(why))])))
        }
        return out
    }

    static func property(_ p: PropertyResult) -> String {
        var pairs: [(String, String)] = [("id", JSON.string(p.id)), ("title", JSON.string(p.title)),
                                         ("region", JSON.string(p.region)), ("verdict", JSON.string(p.verdict.word))]
        switch p.verdict {
        case .proved(let e): pairs.append(("evidence", JSON.string(e)))
        case .undecided(let open): pairs.append(("open", JSON.string(open)))
        case .refuted(let c):
            pairs.append(("counterexample", JSON.object([
                ("inputs", JSON.object(c.inputs.map { ($0.name, JSON.number($0.value)) })),
                ("observation", JSON.string(c.observation)),
            ])))
        }
        return JSON.object(pairs)
    }
}

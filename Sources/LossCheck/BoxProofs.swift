import LossDSL

/// Interval proofs of the box properties, on the formula-level graph (inputs i, u, e and
/// possibly the coordinates), where the relations between i, u and e can be kept by
/// parametrizing them (`BoxFamily`, and i = r·u, e = u + s for finiteness).
extension BoxProbe {
    /// Proves the direction of the loss along every family of `kinds` on every target size.
    func proveFamilies(_ kinds: [BoxFamily.Kind], _ budget: Int) -> Verdict {
        let formula = loss.optimizedFormula, params = loss.formula.paramValues
        var boxes = 0, count = 0
        for (w, h) in BoxProperties.targetSizes {
            for kind in kinds {
                let f = BoxFamily(kind, width: w, height: h)
                let (g, _, d) = f.graph(formula, params: params)
                let program = IntervalProgram(graph: g, roots: [d], params: [])
                var inputs = [ClassInterval?](repeating: nil, count: Int(GraphSubstitution.variableBase) + 1)
                let vars = [ProofVariable("t", f.range)]
                var taylor: TaylorBound?
                let r = Subdivision.run(vars, budget: budget, test: { box in
                    inputs[Int(GraphSubstitution.variableBase)] = ClassInterval(scalar: box[0])
                    // dL/dt oriented so that "away from the target" is positive.
                    func decide(_ d: Interval) -> BoxOutcome {
                        let away = f.away > 0 ? d : Interval(-d.hi, -d.lo)
                        if f.strict ? away.lo > 0 : away.lo >= 0 { return .holds }
                        return (f.strict ? away.hi <= 0 : away.hi < 0) ? .fails : .open
                    }
                    let b = program.bounds(inputs)
                    if b.clean, case let o = decide(b.roots[0].t), !(o == .open) { return o }
                    // The plain bound left it open: try the sharper Taylor bound.
                    if taylor == nil { taylor = TaylorBound(graph: g, function: d, variable: Int(GraphSubstitution.variableBase), params: []) }
                    return taylor?.bound(inputs).map(decide) ?? .open
                }, probe: { (t: [Double]) -> Counterexample? in
                    let step = (f.range.upperBound - f.range.lowerBound) * 1e-4
                    let a = Swift.max(f.range.lowerBound, t[0] - step), b = Swift.min(f.range.upperBound, t[0] + step)
                    let v = losses([(f.box(a), f.target), (f.box(b), f.target)])
                    return familyViolation(f, a, v[0], b, v[1])
                })
                count += 1
                switch r {
                case .proved(let n): boxes += n
                case .refuted(let c): return .refuted(c)
                case .undecided(let open, let n):
                    return .undecided(open: "open after \(boxCount(n)) on the \(f.label): \(Subdivision.describe(open, vars))")
                }
            }
        }
        return .proved(evidence: "proved: dL/dt has the right sign by interval bounds on \(boxCount(boxes)) (\(count) families)")
    }

    /// Proves the value and its partial derivatives in i, u, e (and any coordinate the formula
    /// uses) finite with i = r·u, e = u + s. The gradient in box coordinates is a sum of these
    /// partials times bounded derivatives of i, u, e, so it is finite too.
    func proveFinite(_ budget: Int) -> Verdict {
        let formula = loss.optimizedFormula
        var g = formula.graph
        let root = formula.roots[0]
        let live = g.reachable(from: [root])
        let leaves = (0..<g.count).filter { live[$0] && g.nodes[$0].op == .input }.map { NodeID($0) }
        var roots = [root]
        for leaf in leaves { roots.append(Tangent.forward(&g, roots: [root], seeds: [leaf: g.constant(1)])[0]) }
        let base = GraphSubstitution.variableBase
        let s = GraphSubstitution.substitute(g, roots: roots, params: loss.formula.paramValues) { index, g in
            let u = GraphSubstitution.variable(0, in: &g)
            switch index {
            case 0: return g.make(.mul, GraphSubstitution.variable(1, in: &g), u)
            case 1: return u
            case 2: return g.make(.add, u, GraphSubstitution.variable(2, in: &g))
            default: return nil
            }
        }
        let coordinates = leaves.map { Int(g[$0].index) }.filter { $0 >= 3 }.sorted()
        let program = IntervalProgram(graph: s.graph, roots: s.roots, params: [])
        let vars = [ProofVariable("u", 1e-7...1e9, logOffset: 0), ProofVariable("r", 0...1), ProofVariable("s", 0...1e9, logOffset: 1e-7)]
            + coordinates.map { ProofVariable(LossKind.box.inputs[$0].name, -1e4...1e4) }
        var inputs = [ClassInterval?](repeating: nil, count: Int(base) + 3)
        let r = Subdivision.run(vars, budget: budget, minWidth: 1e-6, test: { box in
            for k in 0..<3 { inputs[Int(base) + k] = ClassInterval(scalar: box[k]) }
            for (k, c) in coordinates.enumerated() { inputs[c] = ClassInterval(scalar: box[3 + k]) }
            return program.bounds(inputs).clean ? .holds : .open
        }, probe: { (_: [Double]) -> Counterexample? in nil })
        switch r {
        case .proved(let n): return .proved(evidence: "proved: value and partial derivatives bounded and in their domains on \(boxCount(n))")
        case .refuted(let c): return .refuted(c)
        case .undecided(let open, let n): return .undecided(open: "open after \(boxCount(n)): \(Subdivision.describe(open, vars))")
        }
    }
}

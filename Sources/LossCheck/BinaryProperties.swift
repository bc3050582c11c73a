import LossDSL

/// Stage 1 for `binary` losses. README ("Convergence properties") documents each property,
/// region and threshold; the constants here are the single place they are defined.
///
/// Each property is first sampled (cheap; most random formulas fail here), then, if no sample
/// refutes it, proved by interval subdivision over the loss specialized to the case
/// (y and w bound to constants, so terms of the other case fold away).
public enum BinaryProperties {
    /// The logit range every binary property is checked on.
    public static let logitRange: ClosedRange<Double> = -15...15
    /// |dL/dx| must stay at or above this on wrong predictions.
    public static let gradientFloor = 1e-3
    /// The step that confirms a sampled derivative sign with two loss values.
    public static let confirmStep = 1e-3

    static let region = "x ∈ [-15, 15]"

    /// Samples, then proves, every binary property (see `ConvergenceCheck.stage1`).
    public static func check(_ loss: CompiledLoss, budget: Stage1Budget) -> [PropertyResult] {
        let probe = BinaryProbe(loss)
        // Sampling first, on a coarse grid and then a fine one, for every property.
        let coarse: [Double] = [-15, -5, -1, 0, 1, 5, 15]
        let n = Swift.max(7, Int(60 * budget.sampleScale) + 1)
        let fine = (0..<n).map { -15 + 30 * Double($0) / Double(n - 1) }
        var refuted: [String: Counterexample] = [:]
        for grid in [coarse, fine] {
            for (id, c) in probe.sample(grid) where refuted[id] == nil { refuted[id] = c }
            if budget.stopAtFirstRefutation, !refuted.isEmpty { break }
        }
        return ConvergenceCheck.conclude(specs, probe, refuted: refuted, budget: budget, sampledOnly: "")
    }

    typealias Spec = PropertySpec<BinaryProbe>

    static let specs: [Spec] = [
        Spec(id: "binary.finite", title: "value and gradient are finite",
             region: "\(region), y ∈ {0, 1}, w ∈ [0, 1]") { p, budget in p.proveFinite(budget) },
        Spec(id: "binary.positive-decreasing", title: "a positive's loss falls as its logit rises",
             region: "\(region), y = 1, w = 1") { p, budget in p.proveSign(y: 1, budget: budget) },
        Spec(id: "binary.negative-increasing", title: "a negative's loss rises as its logit rises",
             region: "\(region), y = 0, w = 1") { p, budget in p.proveSign(y: 0, budget: budget) },
        Spec(id: "binary.gradient-alive", title: "|dL/dx| ≥ 1e-3 on wrong predictions",
             region: "y = 1, x ∈ [-15, 0] and y = 0, x ∈ [0, 15]; w = 1") { p, budget in p.proveAlive(budget) },
    ]
}

/// Concrete (Double, reference semantics) and interval evaluation of a binary loss.
struct BinaryProbe: Sendable {
    let loss: CompiledLoss
    let columns: ColumnEvaluator<Double>

    init(_ loss: CompiledLoss) {
        self.loss = loss
        columns = ColumnEvaluator(graph: loss.graph, roots: [loss.value, loss.gradient[0]], params: loss.formula.paramValues)
    }

    /// Loss and dL/dx at each (x, y, w).
    func evaluate(_ x: [Double], _ y: [Double], _ w: [Double]) -> (l: [Double], g: [Double]) {
        let out = columns.evaluate([x, y, w], rows: x.count)
        func col(_ c: ColumnEvaluator<Double>.Column) -> [Double] {
            (0..<x.count).map { c.at($0, 0, classes: 1) }
        }
        return (col(out[0]), col(out[1]))
    }

    func point(_ x: Double, _ y: Double, _ w: Double) -> (l: Double, g: Double) {
        let r = evaluate([x], [y], [w])
        return (r.l[0], r.g[0])
    }

    /// Checks every property on a grid of logits; returns counterexamples by property id.
    func sample(_ xs: [Double]) -> [String: Counterexample] {
        let cases: [(Double, Double)] = [(1, 1), (0, 1), (1, 0), (0, 0), (1, 0.5), (0, 0.5)]
        var x: [Double] = [], y: [Double] = [], w: [Double] = []
        for (cy, cw) in cases { for v in xs { x.append(v); y.append(cy); w.append(cw) } }
        let r = evaluate(x, y, w)
        var found: [String: Counterexample] = [:]
        for k in x.indices {
            if found["binary.finite"] == nil, !r.l[k].isFinite || !r.g[k].isFinite {
                found["binary.finite"] = Counterexample([NamedValue("x", x[k]), NamedValue("y", y[k]), NamedValue("w", w[k])],
                                                        "L = \(shortNumber(r.l[k])), dL/dx = \(shortNumber(r.g[k]))")
            }
            guard w[k] == 1, r.g[k].isFinite else { continue }
            let id = y[k] == 1 ? "binary.positive-decreasing" : "binary.negative-increasing"
            // Secant between neighbouring grid points: a strict rise (fall) refutes outright,
            // whatever the derivative says (a jump, e.g. 1/x at 0, has no derivative to see).
            if k > 0, y[k - 1] == y[k], w[k - 1] == 1, found[id] == nil, r.l[k].isFinite, r.l[k - 1].isFinite,
               y[k] == 1 ? r.l[k] > r.l[k - 1] : r.l[k] < r.l[k - 1] {
                found[id] = Counterexample([NamedValue("x", x[k - 1]), NamedValue("y", y[k]), NamedValue("w", 1)],
                                           "L \(y[k] == 1 ? "rises" : "falls") from L(\(shortNumber(x[k - 1]))) = \(shortNumber(r.l[k - 1])) to L(\(shortNumber(x[k]))) = \(shortNumber(r.l[k]))")
            }
            if found[id] == nil, let c = monotonicityCounterexample(x[k], y: y[k], g: r.g[k]) { found[id] = c }
            let wrong = y[k] == 1 ? x[k] <= 0 : x[k] >= 0
            if wrong, found["binary.gradient-alive"] == nil, Swift.abs(r.g[k]) < BinaryProperties.gradientFloor {
                found["binary.gradient-alive"] = Counterexample(
                    [NamedValue("x", x[k]), NamedValue("y", y[k]), NamedValue("w", 1)],
                    "|dL/dx| = \(shortNumber(Swift.abs(r.g[k]))) < 1e-3 on a wrong prediction: the gradient dies")
            }
        }
        return found
    }

    /// A confirmed violation of "falls (y = 1) / rises (y = 0) as x rises" at x, or nil.
    /// The derivative's sign must be wrong (or zero) and two loss values a step apart must agree.
    func monotonicityCounterexample(_ x: Double, y: Double, g: Double) -> Counterexample? {
        let falls = y == 1
        guard falls ? g >= 0 : g <= 0 else { return nil }
        let h = BinaryProperties.confirmStep
        let (a, b) = x + h <= BinaryProperties.logitRange.upperBound ? (x, x + h) : (x - h, x)
        let la = point(a, y, 1).l, lb = point(b, y, 1).l
        guard falls ? lb >= la : lb <= la else { return nil }
        let verb = falls ? (lb == la ? "is flat" : "rises") : (lb == la ? "is flat" : "falls")
        return Counterexample([NamedValue("x", x), NamedValue("y", y), NamedValue("w", 1)],
                              "dL/dx = \(shortNumber(g)); L \(verb): L(\(shortNumber(a))) = \(shortNumber(la)), L(\(shortNumber(b))) = \(shortNumber(lb))")
    }

    /// The loss and gradient with y (and w, unless nil) bound to constants.
    func specialized(y: Double, w: Double?) -> (Graph, value: NodeID, gradient: NodeID) {
        var values: [Int32: Double] = [1: y]
        if let w { values[2] = w }
        let s = GraphSubstitution.bind(loss.graph, roots: [loss.value, loss.gradient[0]], params: loss.formula.paramValues, values)
        return (s.graph, s.roots[0], s.roots[1])
    }

    func proveSign(y: Double, budget: Int) -> Verdict {
        let (g, _, grad) = specialized(y: y, w: 1)
        let program = IntervalProgram(graph: g, roots: [grad], params: loss.formula.paramValues)
        let vars = [ProofVariable("x", BinaryProperties.logitRange)]
        let falls = y == 1
        var taylor: TaylorBound?
        let r = Subdivision.run(vars, budget: budget, test: { box in
            func decide(_ d: Interval) -> BoxOutcome {
                if falls ? d.hi < 0 : d.lo > 0 { return .holds }
                return (falls ? d.lo >= 0 : d.hi <= 0) ? .fails : .open
            }
            let inputs = [ClassInterval(scalar: box[0])]
            let b = program.bounds(inputs)
            if b.clean, case let o = decide(b.roots[0].t), o != .open { return o }
            if taylor == nil { taylor = TaylorBound(graph: g, function: grad, variable: 0, params: []) }
            return taylor?.bound(inputs).map(decide) ?? .open
        }, probe: { (p: [Double]) -> Counterexample? in
            let v = point(p[0], y, 1)
            return v.g.isFinite ? monotonicityCounterexample(p[0], y: y, g: v.g) : nil
        })
        return verdict(r, vars, what: "dL/dx \(falls ? "< 0" : "> 0")")
    }

    func proveAlive(_ budget: Int) -> Verdict {
        let floor = BinaryProperties.gradientFloor
        var boxes = 0
        for y in [1.0, 0.0] {
            let (g, _, grad) = specialized(y: y, w: 1)
            let program = IntervalProgram(graph: g, roots: [grad], params: loss.formula.paramValues)
            let vars = [ProofVariable("x", y == 1 ? -15...0 : 0...15)]
            let r = Subdivision.run(vars, budget: budget, test: { box in
                let b = program.bounds([ClassInterval(scalar: box[0])])
                guard b.clean else { return .open }
                let d = b.roots[0].t
                if d.hi <= -floor || d.lo >= floor { return .holds }
                return (d.lo > -floor && d.hi < floor) ? .fails : .open
            }, probe: { (p: [Double]) -> Counterexample? in
                let v = point(p[0], y, 1)
                guard Swift.abs(v.g) < floor else { return nil }
                return Counterexample([NamedValue("x", p[0]), NamedValue("y", y), NamedValue("w", 1)],
                                      "|dL/dx| = \(shortNumber(Swift.abs(v.g))) < 1e-3 on a wrong prediction: the gradient dies")
            })
            switch r {
            case .proved(let n): boxes += n
            default: return verdict(r, vars, what: "")
            }
        }
        return .proved(evidence: "proved: |dL/dx| ≥ 1e-3 by interval bounds on \(boxCount(boxes))")
    }

    func proveFinite(_ budget: Int) -> Verdict {
        var boxes = 0
        for y in [0.0, 1.0] {
            let (g, value, grad) = specialized(y: y, w: nil)
            let program = IntervalProgram(graph: g, roots: [value, grad], params: loss.formula.paramValues)
            let vars = [ProofVariable("x", BinaryProperties.logitRange), ProofVariable("w", 0...1)]
            let r = Subdivision.run(vars, budget: budget, minWidth: 1e-6, test: { box in
                let b = program.bounds([ClassInterval(scalar: box[0]), nil, ClassInterval(scalar: box[1])])
                return b.clean ? .holds : .open
            }, probe: { (p: [Double]) -> Counterexample? in
                let v = point(p[0], y, p[1])
                guard !v.l.isFinite || !v.g.isFinite else { return nil }
                return Counterexample([NamedValue("x", p[0]), NamedValue("y", y), NamedValue("w", p[1])],
                                      "L = \(shortNumber(v.l)), dL/dx = \(shortNumber(v.g))")
            })
            switch r {
            case .proved(let n): boxes += n
            case .refuted, .undecided:
                var v = verdict(r, vars, what: "")
                if case .undecided(let o) = v { v = .undecided(open: o + " (y = \(shortNumber(y)))") }
                return v
            }
        }
        return .proved(evidence: "proved: every node bounded and in its domain on \(boxCount(boxes))")
    }

    func verdict(_ r: SubdivisionResult<Counterexample>, _ vars: [ProofVariable], what: String) -> Verdict {
        switch r {
        case .proved(let n): return .proved(evidence: "proved: \(what.isEmpty ? "" : what + " ")by interval bounds on \(boxCount(n))")
        case .refuted(let c): return .refuted(c)
        case .undecided(let open, let n):
            return .undecided(open: "open after \(boxCount(n)): \(Subdivision.describe(open, vars))")
        }
    }
}

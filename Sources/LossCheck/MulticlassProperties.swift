import LossDSL

/// Stage 1 for `multiclass` losses, for C = 2, 5 and 81 classes (81: COCO's 80 + background).
/// The true class is class 0 (every operator treats classes alike, so which one is true does
/// not matter); proofs bound the true class and the C - 1 others as two groups
/// (`ClassInterval`), which keeps a proof for C = 81 as cheap as for C = 2.
public enum MulticlassProperties {
    /// The class counts every property is checked for.
    public static let classCounts = [2, 5, 81]
    /// The range of every logit.
    public static let logitRange: ClosedRange<Double> = -15...15
    /// |dL/dx_true| must stay at or above this while the true logit is at most every other.
    public static let gradientFloor = 1e-3

    /// Samples, then proves, every multiclass property (see `ConvergenceCheck.stage1`).
    public static func check(_ loss: CompiledLoss, budget: Stage1Budget) -> [PropertyResult] {
        let probe = MulticlassProbe(loss)
        var refuted: [String: Counterexample] = [:]
        let coarse: [Double] = [-5, 0, 5]
        let n = Swift.max(3, Int(12 * budget.sampleScale) + 1)
        let fine = (0..<n).map { -15 + 30 * Double($0) / Double(n - 1) }
        passes: for (classes, grid) in [(5, coarse), (5, fine), (2, fine), (81, fine)] {
            for (id, c) in probe.sample(classes: classes, grid: grid, random: classes == 5 ? Int(8 * budget.sampleScale) : 0)
            where refuted[id] == nil { refuted[id] = c }
            if budget.stopAtFirstRefutation, !refuted.isEmpty { break passes }
        }
        return ConvergenceCheck.conclude(specs, probe, refuted: refuted, budget: budget, sampledOnly: "")
    }

    typealias Spec = PropertySpec<MulticlassProbe>

    static let specs: [Spec] = [
        Spec(id: "multiclass.finite", title: "value and gradient are finite",
             region: "C ∈ {2, 5, 81}, every logit ∈ [-15, 15], y one-hot, w ∈ [0, 1]") { p, b in p.proveFinite(b) },
        Spec(id: "multiclass.true-class-decreasing", title: "raising the true class's logit lowers the loss",
             region: "C ∈ {2, 5, 81}, every logit ∈ [-15, 15], w = 1") { p, b in p.proveSign(true, b) },
        Spec(id: "multiclass.other-class-increasing", title: "raising another class's logit raises the loss",
             region: "C ∈ {2, 5, 81}, every logit ∈ [-15, 15], w = 1") { p, b in p.proveSign(false, b) },
        Spec(id: "multiclass.gradient-alive", title: "|dL/dx_true| ≥ 1e-3 on wrong predictions",
             region: "C ∈ {2, 5, 81}, x_true ∈ [-15, 0], others ∈ [0, 15], w = 1") { p, b in p.proveAlive(b) },
    ]
}

/// Concrete and interval evaluation of a multiclass loss.
struct MulticlassProbe: Sendable {
    let loss: CompiledLoss
    let columns: ColumnEvaluator<Double>

    init(_ loss: CompiledLoss) {
        self.loss = loss
        columns = ColumnEvaluator(graph: loss.graph, roots: [loss.value, loss.gradient[0]], params: loss.formula.paramValues)
    }

    /// Loss and gradient (C entries) of each row of logits; class 0 is the true class.
    func evaluate(_ rows: [[Double]], w: [Double]) -> [(l: Double, g: [Double])] {
        let c = rows[0].count
        var y = [Double](repeating: 0, count: rows.count * c)
        for r in rows.indices { y[r * c] = 1 }
        let out = columns.evaluate([rows.flatMap { $0 }, y, w], rows: rows.count, classes: c)
        return rows.indices.map { r in (out[0].at(r, 0, classes: c), (0..<c).map { out[1].at(r, $0, classes: c) }) }
    }

    func inputs(_ x: [Double], w: Double) -> [NamedValue] {
        var v = [NamedValue("C", Double(x.count)), NamedValue("x_true", x[0])]
        if x.dropFirst().allSatisfy({ $0 == x[1] }) { v.append(NamedValue("x_others", x[1])) } else {
            for k in 1..<x.count { v.append(NamedValue("x_\(k)", x[k])) }
        }
        v.append(NamedValue("w", w))
        return v
    }

    /// Checks every property on rows (x_true, x_others) from `grid`, plus `random` rows of
    /// independent logits; returns counterexamples by property id.
    func sample(classes: Int, grid: [Double], random: Int) -> [String: Counterexample] {
        var rows: [[Double]] = [], ws: [Double] = []
        for w in [1.0, 0.5, 0] { for a in grid { for b in grid {
            rows.append([a] + [Double](repeating: b, count: classes - 1)); ws.append(w)
        } } }
        var rng = SeededGenerator(seed: UInt64(classes))
        for _ in 0..<random {
            rows.append((0..<classes).map { _ in Double(Int.random(in: -30...30, using: &rng)) / 2 }); ws.append(1)
        }
        let r = evaluate(rows, w: ws)
        var found: [String: Counterexample] = [:]
        for k in rows.indices {
            let (l, g) = r[k], x = rows[k]
            if found["multiclass.finite"] == nil, !l.isFinite || g.contains(where: { !$0.isFinite }) {
                found["multiclass.finite"] = Counterexample(inputs(x, w: ws[k]),
                    "L = \(shortNumber(l)), dL/dx_true = \(shortNumber(g[0])), dL/dx_other = \(shortNumber(g[1]))")
                continue
            }
            guard ws[k] == 1, l.isFinite, g.allSatisfy({ $0.isFinite }) else { continue }
            if found["multiclass.true-class-decreasing"] == nil, let c = counterexample(x, g: g, index: 0) {
                found["multiclass.true-class-decreasing"] = c
            }
            if found["multiclass.other-class-increasing"] == nil,
               let j = (1..<classes).first(where: { g[$0] <= 0 }), let c = counterexample(x, g: g, index: j) {
                found["multiclass.other-class-increasing"] = c
            }
            if found["multiclass.gradient-alive"] == nil, x[0] <= 0, x.dropFirst().allSatisfy({ $0 >= 0 }),
               Swift.abs(g[0]) < MulticlassProperties.gradientFloor {
                found["multiclass.gradient-alive"] = Counterexample(inputs(x, w: 1),
                    "|dL/dx_true| = \(shortNumber(Swift.abs(g[0]))) < 1e-3 on a wrong prediction: the gradient dies")
            }
        }
        return found
    }

    /// A confirmed violation at logits x along class `index` (0: must fall, else must rise):
    /// the derivative's sign is wrong or zero, and two loss values a step apart agree.
    func counterexample(_ x: [Double], g: [Double], index: Int) -> Counterexample? {
        let falls = index == 0
        guard falls ? g[index] >= 0 : g[index] <= 0 else { return nil }
        let h = BinaryProperties.confirmStep
        var a = x, b = x
        if x[index] + h <= MulticlassProperties.logitRange.upperBound { b[index] += h } else { a[index] -= h }
        let v = evaluate([a, b], w: [1, 1])
        let la = v[0].l, lb = v[1].l
        guard falls ? lb >= la : lb <= la else { return nil }
        let which = index == 0 ? "x_true" : "x_\(index)"
        let verb = lb == la ? "is flat" : (falls ? "rises" : "falls")
        return Counterexample(inputs(x, w: 1),
            "dL/d\(which) = \(shortNumber(g[index])); L \(verb) as \(which) rises: \(shortNumber(la)) → \(shortNumber(lb)) (step 1e-3)")
    }

    /// Interval bounds over (x_true, x_others[, w]) for `classes` classes.
    func program(classes: Int, w: Double?, roots: (NodeID, NodeID) -> [NodeID]) -> IntervalProgram {
        var values: [Int32: Double] = [:]
        if let w { values[2] = w }
        let s = GraphSubstitution.bind(loss.graph, roots: [loss.value, loss.gradient[0]], params: loss.formula.paramValues, values)
        return IntervalProgram(graph: s.graph, roots: roots(s.roots[0], s.roots[1]), params: [], classes: classes)
    }

    func box(_ xt: Interval, _ xo: Interval, w: Interval? = nil) -> [ClassInterval?] {
        [ClassInterval(t: xt, o: xo), ClassInterval(t: Interval(point: 1), o: Interval(point: 0)), w.map { ClassInterval(scalar: $0) }]
    }

    func row(_ p: [Double], classes: Int) -> [Double] { [p[0]] + [Double](repeating: p[1], count: classes - 1) }

    func proveSign(_ trueClass: Bool, _ budget: Int) -> Verdict {
        let vars = [ProofVariable("x_true", MulticlassProperties.logitRange), ProofVariable("x_others", MulticlassProperties.logitRange)]
        return everyClassCount(vars, budget) { classes in
            let p = program(classes: classes, w: 1) { _, g in [g] }
            return Subdivision.run(vars, budget: budget, test: { b in
                let r = p.bounds(box(b[0], b[1]))
                guard r.clean else { return .open }
                let d = trueClass ? r.roots[0].t : r.roots[0].o
                if trueClass ? d.hi < 0 : d.lo > 0 { return .holds }
                return (trueClass ? d.lo >= 0 : d.hi <= 0) ? .fails : .open
            }, probe: { (m: [Double]) -> Counterexample? in
                let x = row(m, classes: classes)
                let v = evaluate([x], w: [1])[0]
                guard v.g.allSatisfy({ $0.isFinite }) else { return nil }
                return counterexample(x, g: v.g, index: trueClass ? 0 : 1)
            })
        }
    }

    func proveAlive(_ budget: Int) -> Verdict {
        let floor = MulticlassProperties.gradientFloor
        let vars = [ProofVariable("x_true", -15...0), ProofVariable("x_others", 0...15)]
        return everyClassCount(vars, budget) { classes in
            let p = program(classes: classes, w: 1) { _, g in [g] }
            return Subdivision.run(vars, budget: budget, test: { b in
                let r = p.bounds(box(b[0], b[1]))
                guard r.clean else { return .open }
                let d = r.roots[0].t
                if d.hi <= -floor || d.lo >= floor { return .holds }
                return (d.lo > -floor && d.hi < floor) ? .fails : .open
            }, probe: { (m: [Double]) -> Counterexample? in
                let x = row(m, classes: classes)
                let g = evaluate([x], w: [1])[0].g[0]
                guard Swift.abs(g) < floor else { return nil }
                return Counterexample(inputs(x, w: 1), "|dL/dx_true| = \(shortNumber(Swift.abs(g))) < 1e-3 on a wrong prediction: the gradient dies")
            })
        }
    }

    func proveFinite(_ budget: Int) -> Verdict {
        let vars = [ProofVariable("x_true", MulticlassProperties.logitRange), ProofVariable("x_others", MulticlassProperties.logitRange),
                    ProofVariable("w", 0...1)]
        return everyClassCount(vars, budget) { classes in
            let p = program(classes: classes, w: nil) { v, g in [v, g] }
            return Subdivision.run(vars, budget: budget, minWidth: 1e-6, test: { b in
                p.bounds(box(b[0], b[1], w: b[2])).clean ? .holds : .open
            }, probe: { (m: [Double]) -> Counterexample? in
                let x = row(m, classes: classes)
                let v = evaluate([x], w: [m[2]])[0]
                guard !v.l.isFinite || v.g.contains(where: { !$0.isFinite }) else { return nil }
                return Counterexample(inputs(x, w: m[2]), "L = \(shortNumber(v.l)), dL/dx_true = \(shortNumber(v.g[0]))")
            })
        }
    }

    /// Runs a proof for every class count; proved only if proved for all.
    func everyClassCount(_ vars: [ProofVariable], _ budget: Int,
                         _ run: (Int) -> SubdivisionResult<Counterexample>) -> Verdict {
        var boxes = 0
        for classes in MulticlassProperties.classCounts {
            switch run(classes) {
            case .proved(let n): boxes += n
            case .refuted(let c): return .refuted(c)
            case .undecided(let open, let n):
                return .undecided(open: "open after \(boxCount(n)) for C = \(classes): \(Subdivision.describe(open, vars))")
            }
        }
        return .proved(evidence: "proved by interval bounds on \(boxCount(boxes)) (C = 2, 5, 81)")
    }
}

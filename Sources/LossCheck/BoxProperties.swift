import LossDSL

/// Stage 1 for `box` losses. The loss need not be >= 0 nor 0 at the optimum (CSE-Autoloss's
/// B_reg is negative everywhere): only its direction matters. README documents each property.
public enum BoxProperties {
    /// Target boxes (width × height, px) of the families: scales 1–1000 px.
    public static let targetSizes: [(Double, Double)] = [(1, 1), (4, 4), (16, 48), (100, 100), (1000, 600)]
    /// Random overlapping pairs for the gradient-step and minimum properties.
    public static let randomPairs = 1000
    /// The gradient step on the predicted box, relative to the box's scale.
    public static let stepSize = 1e-3

    /// Samples, then proves, every box property (see `ConvergenceCheck.stage1`).
    public static func check(_ loss: CompiledLoss, budget: Stage1Budget) -> [PropertyResult] {
        let probe = BoxProbe(loss)
        let pairs = Swift.max(16, Int(Double(randomPairs) * budget.sampleScale))
        var refuted: [String: Counterexample] = [:]
        func note(_ id: String, _ c: Counterexample?) { if refuted[id] == nil, let c { refuted[id] = c } }
        // A cheap screen first (coarse families on two targets, one batch), then everything.
        let fast = budget.stopAtFirstRefutation
        func families(_ sizes: [(Double, Double)]) -> [(String, BoxFamily)] {
            specs.flatMap { spec in sizes.flatMap { (w, h) in spec.families.map { (spec.id, BoxFamily($0, width: w, height: h)) } } }
        }
        for (id, c) in probe.sampleFamilies(families([(16, 48), (100, 100)]), points: 5) { note(id, c) }
        if !(fast && !refuted.isEmpty) {
            note("box.finite", probe.sampleFinite(pairs: pairs / 4))
            let fine = Swift.max(5, Int(24 * budget.sampleScale))
            for (id, c) in probe.sampleFamilies(families(targetSizes).filter { refuted[$0.0] == nil }, points: fine) { note(id, c) }
        }
        if !(fast && !refuted.isEmpty) { note("box.gradient-step", probe.sampleGradientStep(pairs: pairs)) }
        if !(fast && !refuted.isEmpty) { note("box.minimum", probe.sampleMinimum(pairs: pairs)) }

        return ConvergenceCheck.conclude(specs.map(\.property), probe, refuted: refuted, budget: budget,
                                         sampledOnly: "no counterexample among \(pairs) random pairs (sampling cannot prove)")
    }

    struct Spec: Sendable {
        let id: String, title: String, region: String
        let families: [BoxFamily.Kind]
        let prove: (@Sendable (BoxProbe, Int) -> Verdict)?
        var property: PropertySpec<BoxProbe> { PropertySpec(id: id, title: title, region: region, prove: prove) }
    }

    static let targets = "W×H ∈ {1×1, 4×4, 16×48, 100×100, 1000×600}"

    static let specs: [Spec] = [
        Spec(id: "box.finite", title: "value and gradient are finite",
             region: "u ∈ [1e-7, 1e9], i = r·u, r ∈ [0, 1], e = u + s, s ∈ [0, 1e9]; coordinates ∈ [-1e4, 1e4]",
             families: []) { p, b in p.proveFinite(b) },
        Spec(id: "box.approach", title: "the loss falls as the predicted box slides onto the target",
             region: "\(targets); shifted by t ∈ [1e-6, 1]·W right or [1e-6, 0.999]·min(W, H) diagonally", families: [.shift, .diagonal]) { p, b in
            p.proveFamilies([.shift, .diagonal], b)
        },
        Spec(id: "box.grow", title: "the loss falls as a shrunken box grows to the target",
             region: "\(targets); scaled by s ∈ [0.1, 1 - 1e-6] about the centre", families: [.grow]) { p, b in p.proveFamilies([.grow], b) },
        Spec(id: "box.shrink", title: "the loss falls as an oversized box shrinks to the target",
             region: "\(targets); scaled by s ∈ [1 + 1e-6, 3]", families: [.shrink]) { p, b in p.proveFamilies([.shrink], b) },
        Spec(id: "box.apart", title: "moving a disjoint box away never lowers the loss",
             region: "\(targets); shifted right by t ∈ [W, 3W]", families: [.apart]) { p, b in p.proveFamilies([.apart], b) },
        Spec(id: "box.gradient-step", title: "a small gradient step on the predicted box raises the IoU",
             region: "random overlapping pairs, scales 1–1000 px, step 1e-3 × scale", families: [], prove: nil),
        Spec(id: "box.minimum", title: "no box scores lower than the perfect box",
             region: "random pairs, scales 1–1000 px, against the target itself", families: [], prove: nil),
    ]
}

extension BoxProbe {
    /// Refutes families' directions from loss values on a grid of each one's parameter (all
    /// in one batch); returns the first counterexample per property id.
    func sampleFamilies(_ list: [(String, BoxFamily)], points: Int) -> [String: Counterexample] {
        var pairs: [(p: [Double], t: [Double])] = [], grids: [[Double]] = []
        for (_, f) in list {
            let r = f.range
            let ts = (0..<points).map { r.lowerBound + (r.upperBound - r.lowerBound) * Double($0) / Double(points - 1) }
            grids.append(ts)
            pairs += ts.map { (f.box($0), f.target) }
        }
        guard !pairs.isEmpty else { return [:] }
        let v = losses(pairs)
        var found: [String: Counterexample] = [:]
        for (n, (id, f)) in list.enumerated() where found[id] == nil {
            let ts = grids[n], base = n * points
            for k in 1..<ts.count {
                if let c = familyViolation(f, ts[k - 1], v[base + k - 1], ts[k], v[base + k]) { found[id] = c; break }
            }
        }
        return found
    }

    /// A counterexample if L(a) -> L(b) (a < b) goes the wrong way along the family.
    func familyViolation(_ f: BoxFamily, _ a: Double, _ la: Double, _ b: Double, _ lb: Double) -> Counterexample? {
        guard la.isFinite, lb.isFinite else { return nil }
        let rise = (lb - la) * f.away
        // A disjoint box may leave the loss flat; a fall within rounding (1e-12 relative) of
        // flat is not evidence.
        guard f.strict ? rise <= 0 : rise < -1e-12 * Swift.max(Swift.abs(la), Swift.abs(lb)) else { return nil }
        let (near, far) = f.away > 0 ? ((a, la), (b, lb)) : ((b, lb), (a, la))
        let pn = f.box(near.0), pf = f.box(far.0)
        return Counterexample(Self.named(pn, f.target),
            "\(f.label): moving the box away to \(Self.text(pf)) (IoU \(shortNumber(Self.iou(pn, f.target))) → \(shortNumber(Self.iou(pf, f.target)))) \(rise == 0 ? "leaves L unchanged" : "lowers L"): \(shortNumber(near.1)) → \(shortNumber(far.1))")
    }

    func sampleFinite(pairs: Int) -> Counterexample? {
        let all = Self.edgePairs + Self.randomPairs(pairs, seed: 7)
        for (k, v) in evaluate(all).enumerated() where !v.l.isFinite || v.g.contains(where: { !$0.isFinite }) {
            return Counterexample(Self.named(all[k].p, all[k].t),
                                  "L = \(shortNumber(v.l)), gradient = \(Self.text(v.g))")
        }
        return nil
    }

    func sampleGradientStep(pairs: Int) -> Counterexample? {
        let all = Self.randomPairs(pairs, seed: 11).filter { Self.iou($0.p, $0.t) > 0 }
        for (k, v) in evaluate(all).enumerated() {
            let (p, t) = all[k]
            let norm = v.g.map { $0 * $0 }.reduce(0, +).squareRoot()
            let scale = Swift.max(t[2] - t[0], t[3] - t[1])
            let before = Self.iou(p, t)
            guard norm.isFinite, norm > 0 else {
                return Counterexample(Self.named(p, t), "the gradient is \(Self.text(v.g)) at IoU \(shortNumber(before)): no step to take")
            }
            let q = (0..<4).map { p[$0] - BoxProperties.stepSize * scale * v.g[$0] / norm }
            let after = Self.iou(q, t)
            if !(after > before) {
                return Counterexample(Self.named(p, t),
                    "a step of \(shortNumber(BoxProperties.stepSize * scale)) px against the gradient \(Self.text(v.g)) moves IoU \(shortNumber(before)) → \(shortNumber(after))")
            }
        }
        return nil
    }

    func sampleMinimum(pairs: Int) -> Counterexample? {
        let all = Self.randomPairs(pairs, seed: 13).filter { Self.iou($0.p, $0.t) < 0.999 }
        let v = losses(all + all.map { ($0.t, $0.t) })
        // Lower by more than rounding (1e-9 relative): u + e is flat for a box inside the
        // target, and may come out an ulp lower there.
        for k in all.indices {
            let l = v[k], best = v[all.count + k]
            guard l.isFinite, best.isFinite, l < best - 1e-9 * Swift.max(Swift.abs(l), Swift.abs(best)) else { continue }
            return Counterexample(Self.named(all[k].p, all[k].t),
                "L = \(shortNumber(l)) at IoU \(shortNumber(Self.iou(all[k].p, all[k].t))) is below L = \(shortNumber(best)) at the perfect box")
        }
        return nil
    }
}

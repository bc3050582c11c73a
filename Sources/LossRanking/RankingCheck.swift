import LossDSL

/// `lossc check` for ranking losses: the static facts, then properties sampled on random
/// batches (deterministic for a seed), each a `CheckReport` section:
///
/// - raising a positive's score never raises the loss; lowering a negative's never raises it
///   (the value, moved by finite steps: refuted with a counterexample, or not refuted on the
///   batches tried);
/// - the gradient never pushes a positive down or a negative up (d_s <= 0 for positives,
///   >= 0 for negatives) — what an error-driven update like AP-Loss's guarantees;
/// - value and gradient are finite on random batches, with no positive, and with every entry
///   ignored (or an empty batch).
///
/// The ordering properties are sampled with quality u = 1 for every positive: a quality-aware
/// loss (PAP) ranks a poorly localized positive below well-localized ones by design. A
/// refutation is a *warning*: the value of a smoothed AP surrogate is a ratio of smoothed
/// counts and is not monotone in general (AP-Loss, PAP and Smooth-AP all have
/// counterexamples), and such losses train well. A value or gradient that is not finite is a
/// failure.
public enum RankingCheck {
    /// How many random batches each property is sampled on.
    public static let batches = 150

    /// Every section of `lossc check` for a ranking loss, deterministic for a seed.
    public static func report(_ f: RankingFormula, seed: UInt64 = 1) -> CheckReport {
        var r = CheckReport()
        let kernel = RankingKernel<Double>(f)
        r.sections.append(summary(f, kernel))
        r.sections += properties(f, kernel, seed: seed)
        return r
    }

    static func summary(_ f: RankingFormula, _ k: RankingKernel<Double>) -> CheckReport.Section {
        var s = CheckReport.Section(name: "syntax, names and levels", status: f.formula.warnings.isEmpty ? .passed : .warning,
                                    diagnostics: f.formula.warnings)
        var counts: [String: Int] = [:]
        for slot in f.slots { counts[slot.name, default: 0] += 1 }
        let constructs = counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
        s.details.append("\(f.graph.liveCount(from: [f.root] + f.slots.map(\.argument))) nodes; \(constructs.isEmpty ? "no batch constructs" : constructs)"
                         + (f.curves.isEmpty ? "" : "; curves \(f.curves.map(\.name).joined(separator: ", "))"))
        let dv = k.derivatives
        s.details.append("gradient reaches " + (dv.reachesS ? (dv.reachesU ? "s and u" : "s") : (dv.reachesU ? "u only" : "nothing (constant loss)")))
        s.details += k.plan
        return s
    }

    /// Random batches of varied size, score scale and ties.
    static func batches(seed: UInt64) -> [RankingBatch<Double>] {
        var rng = SeededGenerator(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        return (0..<batches).map { b in
            let n = 2 + Int(uniform() * 40)
            let scale = [0.3, 1, 3, 10][b % 4]
            let grid = b % 3 == 0 ? 0.25 : 0
            let pos = 0.1 + 0.4 * uniform()
            var s: [Double] = [], y: [Double] = [], u: [Double] = []
            for _ in 0..<n {
                var v = (uniform() * 2 - 1) * scale
                if grid > 0 { v = (v / grid).rounded() * grid + 0 }  // + 0: no -0 in the reports
                let c = uniform()
                let label: Double = c < pos ? 1 : (c < pos + 0.1 ? -1 : 0)
                s.append(v); y.append(label); u.append(label == 1 ? 1 : 0)
            }
            return RankingBatch(s: s, y: y, u: u)
        }
    }

    static func describe(_ b: RankingBatch<Double>) -> String {
        // Every entry, so the counterexample can be replayed (u = 1 for positives, 0 otherwise).
        let list = b.s.indices.map { "(\(formatNumber(b.s[$0])), \(formatNumber(b.y[$0])))" }.joined(separator: ", ")
        return "\(b.count) entries (s, y): \(list)"
    }

    static func properties(_ f: RankingFormula, _ k: RankingKernel<Double>, seed: UInt64) -> [CheckReport.Section] {
        let data = batches(seed: seed)
        let steps = [0.01, 0.1, 1, 10]
        var raise: String?, lower: String?, push: String?, finite: String?
        var moves = 0
        for (bi, b) in data.enumerated() {
            let base = k.evaluate(b)
            if finite == nil, !base.loss.isFinite || !base.ds.allSatisfy(\.isFinite) || !(base.du ?? []).allSatisfy(\.isFinite) {
                finite = "batch #\(bi + 1): loss \(base.loss) or a gradient is not finite; " + describe(b)
            }
            let tol = 1e-9 * Swift.max(1, abs(base.loss))
            for e in b.s.indices where b.y[e] != -1 {
                let positive = b.y[e] > 0.5
                if push == nil, positive ? base.ds[e] > tol : base.ds[e] < -tol {
                    push = "batch #\(bi + 1), entry \(e) (\(positive ? "positive" : "negative"), s = \(formatNumber(b.s[e]))): d_s = \(base.ds[e]); " + describe(b)
                }
                guard positive ? raise == nil : lower == nil else { continue }
                for step in steps {
                    var moved = b
                    moved.s[e] += positive ? step : -step
                    let after = k.evaluate(moved).loss
                    moves += 1
                    if after > base.loss + tol {
                        let what = "batch #\(bi + 1), entry \(e): \(positive ? "raising" : "lowering") s from \(formatNumber(b.s[e])) by \(formatNumber(step)) raises the loss from \(base.loss) to \(after); " + describe(b)
                        if positive { raise = what } else { lower = what }
                        break
                    }
                }
            }
        }
        let region = "\(data.count) random batches of 2-41 entries, scores up to ±10 (some on a grid, with ties), positives with u = 1"
        func section(_ name: String, _ counterexample: String?, _ detail: String) -> CheckReport.Section {
            CheckReport.Section(name: name, status: counterexample == nil ? .passed : (name.hasPrefix("finite") ? .failed : .warning),
                                details: counterexample.map { ["refuted: " + $0] } ?? ["not refuted: \(detail)"])
        }
        var out = [
            section("raising a positive's score never raises the loss", raise, "\(moves) moves by 0.01-10 on " + region),
            section("lowering a negative's score never raises the loss", lower, region),
            section("the gradient never pushes a positive down or a negative up", push, region),
            section("finite value and gradient", finite, region),
        ]
        // Degenerate batches.
        let noPositive = [RankingBatch<Double>(s: [0.5, -1, 2], y: [0, 0, -1]), RankingBatch<Double>(s: [3, 3], y: [0, 0])]
        let ignored = [RankingBatch<Double>(s: [0.5, -1, 2], y: [-1, -1, -1], u: [0.2, 0, 1]), RankingBatch<Double>(s: [], y: [])]
        for (name, cases) in [("finite with no positive", noPositive), ("finite with every entry ignored (and an empty batch)", ignored)] {
            let bad = cases.first { b in
                let r = k.evaluate(b)
                return !r.loss.isFinite || !r.ds.allSatisfy(\.isFinite) || !(r.du ?? []).allSatisfy(\.isFinite)
            }
            let values = cases.map { formatNumber(k.evaluate($0).loss) }.joined(separator: ", ")
            out.append(CheckReport.Section(name: name, status: bad == nil ? .passed : .failed,
                                           details: [bad.map { "not finite on " + describe($0) } ?? "loss \(values)"]))
        }
        return out
    }
}

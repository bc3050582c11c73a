import Foundation
import Testing
@testable import LossDSL
@testable import LossTesting
import LossTestSupport

/// Differential testing of the symbolic gradients: random search-space formulas (a fixed seed
/// by default; LOSSC_DIFF_SEED=random, what CI sets, draws a fresh one, printed, to replay), the
/// reference evaluator's value and tangent-graph gradient against numeric dual numbers with
/// independently written derivative formulas, and those against central finite differences
/// where the differences converge, on inputs that include the domain's edges. A disagreement is shrunk to a minimal
/// formula and printed, to be kept in Tests/LossDSLTests/Regressions/ (which this test replays).
struct DifferentialTests {
    struct Case { let inputs: [InputValue<Double>]; let label: String }

    static func cases(_ kind: LossKind, _ rng: inout SeededGenerator) -> [Case] {
        func u(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() >> 11) / Double(1 << 53) }
        switch kind {
        case .binary:
            return [u(-8, 8), u(-3, 3), 30, -30, 0.5].flatMap { x in
                [(1.0, u(0.05, 1)), (0.0, 1.0)].map { y, w in Case(inputs: [.scalar(x), .scalar(y), .scalar(w)], label: "x=\(x) y=\(y) w=\(w)") }
            }
        case .multiclass:
            return (0..<4).map { k in
                let x = (0..<4).map { _ in k == 3 ? u(-30, 30) : u(-4, 4) }
                var y = [0.0, 0, 0, 0]; y[k % 4] = 1
                return Case(inputs: [.vector(x), .vector(y), .scalar(u(0.05, 1))], label: "x=\(x) y=\(y)")
            }
        default:
            return (0..<4).map { k in
                let s = [1.0, 10, 100, 1000][k]
                let t = [u(0, 10), u(0, 10)]
                let tb = [t[0], t[1], t[0] + s * u(0.5, 2), t[1] + s * u(0.5, 2)]
                let p0 = [tb[0] + s * u(-0.9, 0.9), tb[1] + s * u(-0.9, 0.9)]
                let pb = [p0[0], p0[1], p0[0] + s * u(0.3, 2), p0[1] + s * u(0.3, 2)]
                return Case(inputs: [.scalar(0), .scalar(0), .scalar(0)] + (pb + tb).map { .scalar($0) }, label: "pred=\(pb) target=\(tb)")
            }
        }
    }

    /// The derivative directions of a kind: (input index, tangent) per gradient component.
    static func seeds(_ kind: LossKind) -> [[Int: [Double]]] {
        switch kind {
        case .binary: return [[0: [1]]]
        case .multiclass: return (0..<4).map { k in [0: (0..<4).map { $0 == k ? 1 : 0 }] }
        default: return (3...6).map { [$0: [1]] }
        }
    }

    /// The first disagreement of a formula, or nil.
    /// `checked` counts the gradient components compared with central differences.
    static func disagreement(_ f: Formula, _ cases: [Case], checked: Counter? = nil) -> String? {
        let c = CompiledLoss.compile(f)
        let seeds = seeds(f.kind)
        for cs in cases {
            let r = c.evaluate(cs.inputs, as: Double.self)
            let dv = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: cs.inputs, seeds: seeds[0])
            let nudgedValue = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: nudge(cs.inputs), seeds: seeds[0])
            if !agree(r.loss, dv.v, slack: abs(nudgedValue.v - dv.v)) { return "value at \(cs.label): reference \(r.loss), dual \(dv.v)" }
            // Beyond 1e100 intermediate products over- or underflow in any evaluation order.
            guard r.loss.isFinite, abs(r.loss) < 1e100 else { continue }
            let differencesMeasureTheMath = agreesInFloat(c, cs.inputs, r)
            for (k, s) in seeds.enumerated() {
                let (d, largest) = DualEvaluator.evaluateTracking(c.graph, root: c.value, params: f.paramValues, inputs: cs.inputs, seeds: s)
                if !(largest < 1e150) { continue }
                // Conditioning: how much the dual derivative moves under a relative 1e-9 nudge of the inputs.
                let d2 = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: nudge(cs.inputs), seeds: s)
                // A derivative summed from intermediates of magnitude `largest` carries their
                // rounding (d(1/softmax) terms of 1e12 that cancel to 1e-5): up to ~1e4 ulps of them.
                if !agree(r.gradient[k], d.d, slack: abs(d2.d - d.d) + 1e-14 * largest) {
                    return "d/d[\(k)] at \(cs.label): tangent graph \(r.gradient[k]), dual numbers \(d.d)"
                }
                // Central differences only where every intermediate and derivative stays below 1e4:
                // beyond, rounding of the intermediates (exp(28) + a small term) hides what they measure.
                if largest < 1e4, d.d.isFinite, differencesMeasureTheMath, let fd = centralDifference(c, cs.inputs, s, value0: r.loss) {
                    checked?.add()
                    if abs(d.d - fd.estimate) <= 1e-3 * max(1, abs(fd.estimate)) + 8 * fd.spread { continue }
                    return "d/d[\(k)] at \(cs.label): dual numbers \(d.d), central differences \(fd.estimate) (±\(fd.spread))"
                }
            }
        }
        return nil
    }

    /// Whether a Float evaluation, with 9 fewer digits, still agrees with the Double one `r`.
    /// Where the value carries cancellation (softplus(x) - sigmoid(x) at x = -30 keeps 3 digits of
    /// 16) it does not, the computed function is not the mathematical one, and finite differences
    /// would measure the rounding.
    static func agreesInFloat(_ c: CompiledLoss, _ inputs: [InputValue<Double>], _ r: (loss: Double, gradient: [Double])) -> Bool {
        let single = inputs.map { v -> InputValue<Float> in
            switch v { case .scalar(let a): return .scalar(Float(a)); case .vector(let a): return .vector(a.map { Float($0) }) }
        }
        let inSingle = c.evaluate(single, as: Float.self)
        return abs(Double(inSingle.loss) - r.loss) <= 1e-3 * max(1, abs(r.loss))
            && zip(inSingle.gradient, r.gradient).allSatisfy({ abs(Double($0) - $1) <= 1e-2 * max(1, abs($1)) })
    }

    /// The derivative along `seed` by central differences with steps h and h/2 (h = 1e-7 of the
    /// moved inputs' scale; `value0` is the loss at `inputs`), or nil where they cannot be trusted:
    /// the two steps disagree beyond 1e-5 (an oscillation or a singularity within reach: `cos` of
    /// a box area moves by radians per pixel), the one-sided differences disagree (a kink: `relu`
    /// at 0), or a value is not finite. Returns the estimate at h/2 and an error bound.
    static func centralDifference(_ c: CompiledLoss, _ inputs: [InputValue<Double>], _ seed: [Int: [Double]], value0: Double) -> (estimate: Double, spread: Double)? {
        var scale = 1.0
        for (index, _) in seed {
            switch inputs[index] { case .scalar(let a): scale = max(scale, abs(a)); case .vector(let a): scale = max(scale, a.map(abs).max() ?? 0) }
        }
        func value(_ t: Double) -> Double {
            var moved = inputs
            for (index, direction) in seed {
                switch moved[index] {
                case .scalar(let a): moved[index] = .scalar(a + t * direction[0])
                case .vector(let a): moved[index] = .vector(zip(a, direction).map { $0 + t * $1 })
                }
            }
            return c.evaluate(moved, as: Double.self).loss
        }
        let h = 1e-7 * scale
        let v = [value(h), value(-h), value(h / 2), value(-h / 2), value0]
        let coarse = (v[0] - v[1]) / (2 * h), fine = (v[2] - v[3]) / h
        let forward = (v[2] - v[4]) / (h / 2), backward = (v[4] - v[3]) / (h / 2)
        // The values' own rounding (a few hundred ulps after a long chain) divided by the step:
        // where the value is huge, a derivative that moves it by less cannot be seen.
        let noise = 1e-13 * (v.map(abs).max() ?? 0) / h
        let size = max(1, abs(fine))
        guard v.allSatisfy(\.isFinite), abs(coarse - fine) <= 1e-5 * size + noise,
              abs(forward - backward) <= 1e-3 * size + 4 * noise else { return nil }
        return (fine, abs(coarse - fine) + noise)
    }

    /// The inputs moved by a relative 1e-9: how much a result moves then measures its conditioning.
    static func nudge(_ inputs: [InputValue<Double>]) -> [InputValue<Double>] {
        inputs.map { v in
            switch v { case .scalar(let a): return .scalar(a * (1 + 1e-9)); case .vector(let a): return .vector(a.map { $0 * (1 + 1e-9) }) }
        }
    }

    static func agree(_ a: Double, _ b: Double, slack: Double) -> Bool {
        // A result that a 1e-9 nudge of the inputs turns into NaN or infinity is too ill-conditioned to compare.
        if !slack.isFinite { return true }
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b || slack.isInfinite || abs(a - b) <= 1e-6 * max(abs(a), abs(b)) }
        return abs(a - b) <= 1e-7 * max(1, abs(a), abs(b)) + 100 * slack
    }

    /// The smallest formula on which the disagreement persists (`Shrinker`).
    static func shrink(_ f: Formula, _ cases: [Case]) -> Formula {
        Shrinker.shrink(f) { disagreement($0, cases) != nil }
    }

    @Test func randomFormulasAgreeWithDualNumbers() throws {
        let env = ProcessInfo.processInfo.environment
        // A fixed corpus by default (CI must not be flaky); LOSSC_DIFF_SEED=random explores.
        let seed = env["LOSSC_DIFF_SEED"].map { UInt64($0) ?? UInt64.random(in: 1...UInt64(UInt32.max)) } ?? 20_261_125
        let n = env["LOSSC_DIFF_FORMULAS"].flatMap { Int($0) } ?? 600
        print("differential: \(n) formulas per kind, LOSSC_DIFF_SEED=\(seed)")
        var rng = SeededGenerator(seed: seed)
        var compared = 0
        let checked = Counter()
        for kind in [LossKind.binary, .multiclass, .box] {
            let gen = RandomFormula(kind: kind, maxDepth: 6, maxNodes: 30)
            for _ in 0..<n {
                let f = gen.next(using: &rng)
                let cs = Self.cases(kind, &rng)
                compared += 1
                if let why = Self.disagreement(f, cs, checked: checked) {
                    let small = Self.shrink(f, cs)
                    let text = SourcePrinter.source(name: "regression", kind: kind, params: small.params, graph: small.graph, root: small.root)
                    Issue.record("disagreement (\(why)); shrunk to:\n\(text)\nreplay: LOSSC_DIFF_SEED=\(seed)")
                    return
                }
            }
        }
        print("differential: \(compared) formulas, \(checked.value) gradient components also checked by central differences")
        #expect(compared == 3 * n)
        #expect(checked.value > compared)
    }

    /// Every formula once found to disagree, kept as a regression test.
    @Test func regressionsAgree() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".loss") } ?? []
        var rng = SeededGenerator(seed: 1)
        for name in files.sorted() {
            let f = try Formula.parse(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8), path: name)
            for _ in 0..<20 {
                let cs = Self.cases(f.kind, &rng)
                #expect(Self.disagreement(f, cs) == nil, "\(name)")
            }
        }
    }
}

/// A count shared with the comparisons.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

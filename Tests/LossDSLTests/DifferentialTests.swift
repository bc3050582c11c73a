import Foundation
import Testing
@testable import LossDSL

/// Differential testing of the symbolic gradients: random search-space formulas (a fixed seed
/// by default; LOSSC_DIFF_SEED=random draws a fresh one, printed, to replay), the reference evaluator's value and
/// tangent-graph gradient against numeric dual numbers with independently written derivative
/// formulas, on inputs that include the domain's edges. A disagreement is shrunk to a minimal
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
    static func disagreement(_ f: Formula, _ cases: [Case]) -> String? {
        let c = CompiledLoss.compile(f)
        let seeds = seeds(f.kind)
        for cs in cases {
            let r = c.evaluate(cs.inputs, as: Double.self)
            let dv = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: cs.inputs, seeds: seeds[0])
            let nudgedValue = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: nudge(cs.inputs), seeds: seeds[0])
            if !agree(r.loss, dv.v, slack: abs(nudgedValue.v - dv.v)) { return "value at \(cs.label): reference \(r.loss), dual \(dv.v)" }
            // Beyond 1e100 intermediate products over- or underflow in any evaluation order.
            guard r.loss.isFinite, abs(r.loss) < 1e100 else { continue }
            for (k, s) in seeds.enumerated() {
                let (d, largest) = DualEvaluator.evaluateTracking(c.graph, root: c.value, params: f.paramValues, inputs: cs.inputs, seeds: s)
                if !(largest < 1e150) { continue }
                // Conditioning: how much the dual derivative moves under a relative 1e-9 nudge of the inputs.
                let d2 = DualEvaluator.evaluate(c.graph, root: c.value, params: f.paramValues, inputs: nudge(cs.inputs), seeds: s)
                if !agree(r.gradient[k], d.d, slack: abs(d2.d - d.d)) {
                    return "d/d[\(k)] at \(cs.label): tangent graph \(r.gradient[k]), dual numbers \(d.d)"
                }
            }
        }
        return nil
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

    /// Greedily replaces operators by one of their arguments while the disagreement persists.
    static func shrink(_ f: Formula, _ cases: [Case]) -> Formula {
        var best = f
        var progress = true
        while progress {
            progress = false
            let g = best.graph
            let live = g.reachable(from: [best.root])
            for id in (0..<g.count).reversed() where live[id] && !g.nodes[id].op.isLeaf {
                for arg in g.nodes[id].args where g.shape(arg) == g.shapes[id] {
                    var h = Graph()
                    var map = [NodeID](repeating: -1, count: g.count)
                    for i in 0..<g.count where live[i] {
                        let n = g.nodes[i]
                        if i == id { map[i] = map[Int(arg)]; continue }
                        map[i] = n.op.isLeaf ? h.add(n, shape: g.shapes[i]) : h.apply(n.op, n.args.map { map[Int($0)] })
                    }
                    let root = map[Int(best.root)]
                    guard h.shape(root) == .scalar else { continue }
                    let text = SourcePrinter.source(name: "shrunk", kind: f.kind, params: f.params, graph: h, root: root)
                    if let cand = try? Formula.parse(text), disagreement(cand, cases) != nil,
                       cand.graph.liveCount(from: [cand.root]) < best.graph.liveCount(from: [best.root]) {
                        best = cand; progress = true
                        break
                    }
                }
                if progress { break }
            }
        }
        return best
    }

    @Test func randomFormulasAgreeWithDualNumbers() throws {
        let env = ProcessInfo.processInfo.environment
        // A fixed corpus by default (CI must not be flaky); LOSSC_DIFF_SEED=random explores.
        let seed = env["LOSSC_DIFF_SEED"].map { UInt64($0) ?? UInt64.random(in: 1...UInt64(UInt32.max)) } ?? 20_261_125
        let n = env["LOSSC_DIFF_FORMULAS"].flatMap { Int($0) } ?? 600
        print("differential: \(n) formulas per kind, LOSSC_DIFF_SEED=\(seed)")
        var rng = SeededGenerator(seed: seed)
        var compared = 0
        for kind in [LossKind.binary, .multiclass, .box] {
            let gen = RandomFormula(kind: kind, maxDepth: 6, maxNodes: 30)
            for _ in 0..<n {
                let f = gen.next(using: &rng)
                let cs = Self.cases(kind, &rng)
                compared += 1
                if let why = Self.disagreement(f, cs) {
                    let small = Self.shrink(f, cs)
                    let text = SourcePrinter.source(name: "regression", kind: kind, params: small.params, graph: small.graph, root: small.root)
                    Issue.record("disagreement (\(why)); shrunk to:\n\(text)\nreplay: LOSSC_DIFF_SEED=\(seed)")
                    return
                }
            }
        }
        #expect(compared == 3 * n)
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

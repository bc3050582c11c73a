import Foundation
import Testing
@testable import LossDSL

/// Gradients in float32 against float64 oracles: the closed form of CSE-Autoloss-A's box loss on
/// disjoint boxes (where the published (e - (i + 2))/e cancels), and dual numbers in Double on
/// the unoptimized formula for random box formulas (the check that would have found it).
struct Float32GradientTests {
    static func boxInputs(_ pred: [Double], _ target: [Double]) -> [InputValue<Double>] {
        [.scalar(0), .scalar(0), .scalar(0)] + (pred + target).map { .scalar($0) }
    }

    static func single(_ inputs: [InputValue<Double>]) -> [InputValue<Float>] {
        inputs.map { v in
            switch v { case .scalar(let a): return .scalar(Float(a)); case .vector(let a): return .vector(a.map { Float($0) }) }
        }
    }

    @Test func ratioComplementFires() throws {
        var fired: [String] = []
        let f = try Formula.parse("loss t: binary\nreturn (x - 2) / x\n")
        let c = Canonicalize.run(f.graph, roots: [f.root])
        _ = Stabilize.run(c.graph, roots: c.roots) { fired.append($0) }
        #expect(fired.contains("ratio-complement"), "\(fired)")
    }

    /// Disjoint boxes: i = 0, so the loss is 2 - 2/e and d loss/d pred = (2/e²)·de/dpred, with e
    /// the enclosing box's area (+1e-7) computed in Double from the boxes: an oracle that shares
    /// nothing with the compiler.
    @Test func cseARegGradientOnDisjointBoxes() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/cse_a_reg.loss")
        let f = try Formula.parse(try String(contentsOf: url, encoding: .utf8), path: "cse_a_reg.loss")
        let c = CompiledLoss.compile(f)
        var worst = 0.0
        for (s, ox, oy) in [(100.0, 50.0, 1000.0), (10, 300, 5), (1000, 2500, 40), (3, 9, 20), (250, -900, -700), (64, 70, 70)] {
            let pred = [0, 0, s, s], target = [ox, oy, ox + s, oy + s]
            // The float32 kernel sees float32 boxes: the oracle takes the same rounded numbers.
            let p = pred.map { Double(Float($0)) }, t = target.map { Double(Float($0)) }
            let w = max(p[2], t[2]) - min(p[0], t[0]), h = max(p[3], t[3]) - min(p[1], t[1])
            let e = w * h + 1e-7
            // de/dpred: the enclosing box moves with pred's edge only where pred is the extreme one.
            let de = [p[0] < t[0] ? -h : 0, p[1] < t[1] ? -w : 0, p[2] > t[2] ? h : 0, p[3] > t[3] ? w : 0]
            let exact = de.map { 2 / (e * e) * $0 }
            let r = c.evaluate(Self.single(Self.boxInputs(pred, target)), as: Float.self)
            #expect(abs(Double(r.loss) - (2 - 2 / e)) <= 1e-6, "loss at \(pred) \(target)")
            for k in 0..<4 {
                let err = abs(Double(r.gradient[k]) - exact[k])
                worst = max(worst, err / max(abs(exact[k]), 1e-300))
                #expect(err <= 1e-5 * abs(exact[k]) + 1e-30, "d/dpred[\(k)] at \(pred) \(target): float32 \(r.gradient[k]), exact \(exact[k])")
            }
        }
        print("cse_a_reg float32 gradient on disjoint boxes: worst relative error \(worst)")
    }

    /// Random box formulas (the differential test's generator and inputs): the float32 gradient
    /// of the compiled formula agrees with dual numbers in Double on the formula as parsed,
    /// wherever that oracle is well conditioned in float32 terms (a nudge of the inputs by a few
    /// float32 ulps moves it by less than the tolerance) and float32 does not overflow.
    @Test func randomBoxFormulasFloat32GradientsAgreeWithAFloat64Oracle() throws {
        var rng = SeededGenerator(seed: 20_261_206)
        let gen = RandomFormula(kind: .box, maxDepth: 6, maxNodes: 30)
        let seeds = DifferentialTests.seeds(.box)
        var compared = 0, skipped = 0
        for _ in 0..<300 {
            let f = gen.next(using: &rng)
            let c = CompiledLoss.compile(f)
            // The oracle: the formula as written (box front end, no stabilize rewrites), in Double.
            let o = CompiledLoss.compile(f, options: CompileOptions(stabilize: false))
            for cs in DifferentialTests.cases(.box, &rng) {
                let rounded = Self.single(cs.inputs).map { v -> InputValue<Double> in
                    if case .scalar(let a) = v { return .scalar(Double(a)) }; return .scalar(0)
                }
                let r = c.evaluate(Self.single(cs.inputs), as: Float.self)
                for (k, s) in seeds.enumerated() {
                    let (d, largest) = DualEvaluator.evaluateTracking(o.graph, root: o.value, params: f.paramValues, inputs: rounded, seeds: s)
                    let moved = DualEvaluator.evaluate(o.graph, root: o.value, params: f.paramValues,
                                                       inputs: rounded.map { v in
                                                           if case .scalar(let a) = v { return .scalar(a * (1 + 1e-6)) }; return v
                                                       }, seeds: s)
                    let tolerance = 1e-3 * abs(d.d)
                    guard d.v.isFinite, d.d.isFinite, largest < 1e30, abs(moved.d - d.d) < tolerance / 4, abs(d.d) > 1e-30 else { skipped += 1; continue }
                    compared += 1
                    let text = SourcePrinter.source(name: "regression", kind: .box, params: f.params, graph: f.graph, root: f.root)
                    #expect(abs(Double(r.gradient[k]) - d.d) <= tolerance,
                            "float32 d/dpred[\(k)] at \(cs.label): \(r.gradient[k]) vs float64 \(d.d)\n\(text)")
                }
            }
        }
        print("float32 gradients: \(compared) compared with the float64 oracle, \(skipped) ill-conditioned or out of float32 range")
        #expect(compared > 1000)
    }
}

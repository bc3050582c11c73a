import Foundation
import LossDSL
import Testing
@testable import Codegen
import LossTesting

/// The examples directory, found from this source file's path.
let examplesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples")

func exampleLoss(_ name: String) throws -> CompiledLoss {
    let path = examplesDirectory.appendingPathComponent(name + ".loss").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return CompiledLoss.compile(try Formula.parse(text, path: path))
}

/// Compares closure outputs with the reference evaluator (the oracle), in both math modes and
/// both precisions, and returns a description of every mismatch. libm mode must be
/// bit-identical; a vectorized value the quick test (`agrees`) rejects gets a second opinion
/// from `Conditioning`, counted in `tally`.
func compareWithReference(_ c: CompiledLoss, _ b: Batch, blockElements: Int = LossKernel<Float>.blockElements,
                          tally: Tally? = nil) throws -> [String] {
    var problems: [String] = []
    let width = b.kind == .box ? 4 : (b.kind == .multiclass ? b.classes : 1)
    func check<T: BlockReal>(_ mode: MathMode, _: T.Type) throws {
        var second: Conditioning?
        func explained(_ got: Double, sample: Int, output: Int) -> Bool {
            if second == nil {
                second = Conditioning(c, params: c.formula.paramValues, ulp: T.self == Float.self ? 0x1p-24 : 0x1p-53, classes: b.classes)
            }
            return second!.explains(got, inputs: b.inputs(sample, as: Double.self), sample: sample, output: output, tol: T.self == Double.self ? 1e-12 : 1e-5)
        }
        let ref = reference(c, b, as: T.self)
        let nearby = mode == .libm ? [] : PerturbedReference<T>(c, ulps: 4).evaluate(b)
        let k = try LossKernel<T>(compiled: c, math: mode, blockElements: blockElements)
        let (got, _) = try closures(k, b)
        guard got.loss.count == ref.loss.count, got.gradient.count == ref.gradient.count else {
            problems.append("\(mode) \(T.self): sizes \(got.loss.count)/\(got.gradient.count) vs \(ref.loss.count)/\(ref.gradient.count)")
            return
        }
        let pairs = [("loss", got.loss, ref.loss, nearby.map(\.loss)), ("gradient", got.gradient, ref.gradient, nearby.map(\.gradient))]
        for (what, g, r, near) in pairs {
            for i in g.indices {
                let ok = mode == .libm
                    ? identical(g[i], r[i])
                    : agrees(Double(g[i]), ref: Double(r[i]), nearby: near.map { Double($0[i]) }, tol: T.self == Double.self ? 1e-12 : 1e-5)
                let (sample, output) = what == "loss" ? (i, 0) : (i / width, i % width + 1)
                if !ok, mode == .vectorized, explained(Double(g[i]), sample: sample, output: output) {
                    tally?.add("\(T.self) \(what)[\(i)]: closures \(g[i]), reference \(r[i])")
                } else if !ok {
                    problems.append("\(mode) \(T.self) \(what)[\(i)]: closures \(g[i]), reference \(r[i]), perturbed reference \(near.map { $0[i] })")
                    return
                }
            }
        }
    }
    try check(.libm, Float.self)
    try check(.libm, Double.self)
    try check(.vectorized, Float.self)
    try check(.vectorized, Double.self)
    return problems
}

struct ClosureEquivalenceTests {
    static let examples = ["focal", "bce", "cross_entropy", "quality_focal", "varifocal", "iou", "giou",
                           "cse_a_cls", "cse_a_reg", "cse_b_cls", "cse_b_reg"]

    /// Every example, with extreme inputs, several blocks (of 256 elements) and a partial last one:
    /// libm mode is bit-identical with the reference; vectorized mode agrees to 1e-5 (Float)
    /// and 1e-12 (Double).
    @Test(arguments: examples)
    func exampleMatchesReference(_ name: String) throws {
        let c = try exampleLoss(name)
        let shapes: [(count: Int, classes: Int)] = c.kind == .multiclass
            ? [(40, 81), (30, 3), (5, 1), (3, 1500)] : [(1100, 1)]
        for (count, classes) in shapes {
            let b = Batch.random(c.kind, count: count, classes: classes, seed: UInt64(count * 31 + classes))
            let problems = try compareWithReference(c, b, blockElements: 256)
            #expect(problems.isEmpty, "\(name) (\(count) x \(classes)): \(problems.prefix(4).joined(separator: "; "))")
        }
    }

    /// 1,200 random formulas of CSE-Autoloss's search space (400 per kind), values and
    /// gradients, on inputs that include extreme logits and degenerate boxes. A fixed corpus by
    /// default; `LOSSC_BACKEND_SEED=random` (what CI sets) draws a fresh one, printed. A formula
    /// that disagrees is shrunk and printed as a file for `Regressions/`.
    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func randomFormulasMatchReference(_ kind: LossKind) throws {
        let spec = RandomFormula(kind: kind, maxDepth: 8, maxNodes: 36)
        var rng = SeededGenerator(seed: RunSeed.value &* 1_000_003 &+ 2024 + UInt64(kind.rawValue.count))
        let tally = Tally()
        var failures: [String] = []
        for i in 0..<400 {
            let f = spec.next(using: &rng)
            let classes = kind == .multiclass ? [1, 2, 5, 7][i % 4] : 1
            let b = Batch.random(kind, count: kind == .multiclass ? 6 : 24, classes: classes, seed: UInt64(i))
            let problems = try compareWithReference(CompiledLoss.compile(f), b, tally: tally)
            guard !problems.isEmpty else { continue }
            let small = Shrinker.shrink(f) { (try? compareWithReference(CompiledLoss.compile($0), b))?.isEmpty == false }
            let text = SourcePrinter.source(name: "regression", kind: kind, params: small.params, graph: small.graph, root: small.root)
            failures.append("formula \(i): \(problems[0])\n  shrunk (batch seed \(i), \(classes) classes):\n\(text)")
            if failures.count == 3 { break }
        }
        print("closures vs reference, \(kind): LOSSC_BACKEND_SEED=\(RunSeed.value); \(tally.summary)")
        #expect(failures.isEmpty, "\(kind) formulas differ (LOSSC_BACKEND_SEED=\(RunSeed.value)):\n\(failures.joined(separator: "\n"))")
    }

    /// Sample counts around the block size (and none, one, odd ones) give the reference's
    /// values; small blocks (64 elements) make many blocks out of little data.
    @Test(arguments: [0, 1, 2, 3, 63, 64, 65, 129, 1000])
    func everyCountAroundTheBlockSize(_ count: Int) throws {
        for name in ["focal", "giou"] {
            let c = try exampleLoss(name)
            let problems = try compareWithReference(c, Batch.random(c.kind, count: count, seed: UInt64(count)), blockElements: 64)
            #expect(problems.isEmpty, "\(name) n=\(count): \(problems.prefix(3).joined(separator: "; "))")
        }
        // 81 classes in blocks of 64 elements: one row per block; 5 classes: 12 rows per block.
        let ce = try exampleLoss("cross_entropy")
        for classes in [81, 5] {
            let b = Batch.random(.multiclass, count: min(count, 40), classes: classes, seed: UInt64(count))
            let problems = try compareWithReference(ce, b, blockElements: 64)
            #expect(problems.isEmpty, "cross_entropy rows=\(min(count, 40)) x \(classes): \(problems.prefix(3).joined(separator: "; "))")
        }
    }
}

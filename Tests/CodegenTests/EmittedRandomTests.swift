import Foundation
import Testing
@testable import Codegen
import LossDSL

/// 1,200 random formulas of CSE-Autoloss's search space (400 per kind), emitted as C in
/// bundles of 100 per file (12 compiler runs), float and double kernels against the
/// reference evaluator, values and gradients, on inputs with extremes.
@Suite(.serialized) struct EmittedRandomTests {
    static let perBundle = 100

    static func formulas(_ kind: LossKind, bundle: Int) -> [CompiledLoss] {
        var rng = SeededGenerator(seed: RunSeed.value &* 1_000_003 &+ 1000 * UInt64(bundle) + UInt64([LossKind.binary, .multiclass, .box].firstIndex(of: kind) ?? 0) + 7)
        let spec = RandomFormula(kind: kind, maxDepth: 7, maxNodes: 30)
        return (0..<perBundle).map { _ in CompiledLoss.compile(spec.next(using: &rng)) }
    }

    static func batches<T: LossReal>(_ kind: LossKind, seed: UInt64, as: T.Type) -> [CBatch<T>] {
        switch kind {
        case .multiclass:
            // Rows of 7 and 81 classes (cached), and every fourth formula a row past LOSSC_ROW (streamed).
            var b = [TestInputs.batch(kind, n: 4, classes: 7, seed: seed, as: T.self),
                     TestInputs.batch(kind, n: 1, classes: 81, seed: seed + 1, as: T.self)]
            if seed % 4 == 0 { b.append(TestInputs.batch(kind, n: 1, classes: CPrelude.row + 52, seed: seed + 2, as: T.self)) }
            return b
        default: return [TestInputs.batch(kind, n: 40, seed: seed, as: T.self)]
        }
    }

    @Test(arguments: [LossKind.binary, .multiclass, .box], 0..<4)
    func randomFormulasMatchTheReference(_ kind: LossKind, _ bundle: Int) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let losses = Self.formulas(kind, bundle: bundle)
        let source = CEmitter.bundle(losses.enumerated().map { ($1, "r\($0)") })
        let lib = try CHarness.build(source, tag: "random-\(kind)-\(bundle)", compiler: cc,
                                     flags: ["-O1", "-fno-math-errno"] + CHarness.strictFlags)
        var failures: [String] = []
        for (i, loss) in losses.enumerated() {
            let kernel = try NativeKernel(library: lib, prefix: "r\(i)", kind: kind)
            let oracle = Oracle(loss)
            for b in Self.batches(kind, seed: UInt64(i), as: Float.self) {
                let bad = oracle.mismatches(try #require(kernel.run(b)), b)
                if !bad.isEmpty { failures.append("r\(i) float C=\(b.classes): \(bad.prefix(3))") }
            }
            for b in Self.batches(kind, seed: UInt64(i), as: Double.self) {
                let bad = oracle.mismatches(try #require(kernel.run(b)), b)
                if !bad.isEmpty { failures.append("r\(i) double C=\(b.classes): \(bad.prefix(3))") }
            }
            if failures.count > 0, !failures[failures.count - 1].contains("formula:") {
                failures[failures.count - 1] += "\n  formula: " + SourcePrinter.source(
                    name: "r", kind: kind, params: [], graph: loss.formula.graph, root: loss.formula.root)
                    .split(separator: "\n").dropFirst().joined(separator: "; ")
            }
        }
        #expect(failures.isEmpty, "\(kind) bundle \(bundle): \(failures.count) formulas disagree:\n\(failures.prefix(6).joined(separator: "\n"))")
    }
}

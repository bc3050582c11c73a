import Foundation
import Testing
@testable import Codegen
import LossDSL
import LossTesting

/// 1,200 random formulas of CSE-Autoloss's search space (400 per kind), emitted as C in
/// bundles of 100 per file (12 compiler runs), float and double kernels against the
/// reference evaluator, values and gradients, on inputs with extremes. A fixed corpus by
/// default; `LOSSC_BACKEND_SEED=random` (what CI sets) draws a fresh one, printed. A formula
/// that disagrees is shrunk (`Shrinker`, each candidate compiled and run alone) and printed as
/// a file for `Regressions/`, which `BackendRegressionTests` replays.
@Suite(.serialized) struct EmittedRandomTests {
    static let perBundle = 100
    static let flags = ["-O1", "-fno-math-errno"] + CHarness.strictFlags

    static func formulas(_ kind: LossKind, bundle: Int) -> [Formula] {
        var rng = SeededGenerator(seed: RunSeed.value &* 1_000_003 &+ 1000 * UInt64(bundle) + UInt64([LossKind.binary, .multiclass, .box].firstIndex(of: kind) ?? 0) + 7)
        let spec = RandomFormula(kind: kind, maxDepth: 7, maxNodes: 30)
        return (0..<perBundle).map { _ in spec.next(using: &rng) }
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

    /// The disagreements of one emitted kernel with the reference on the batches of `seed`.
    static func disagreements(_ loss: CompiledLoss, _ kernel: NativeKernel, seed: UInt64, tally: Tally? = nil) throws -> [String] {
        let oracle = Oracle(loss)
        var out: [String] = []
        for b in batches(loss.kind, seed: seed, as: Float.self) {
            let bad = oracle.mismatches(try #require(kernel.run(b)), b, tally: tally)
            if !bad.isEmpty { out.append("float C=\(b.classes): \(bad.prefix(3))") }
        }
        for b in batches(loss.kind, seed: seed, as: Double.self) {
            let bad = oracle.mismatches(try #require(kernel.run(b)), b, tally: tally)
            if !bad.isEmpty { out.append("double C=\(b.classes): \(bad.prefix(3))") }
        }
        return out
    }

    /// Whether `f`, emitted and compiled alone, still disagrees on the batches of `seed`.
    static func stillDisagrees(_ f: Formula, seed: UInt64, compiler: SystemCompiler) -> Bool {
        let loss = CompiledLoss.compile(f)
        guard let lib = try? CHarness.build(CEmitter.bundle([(loss, "s")], multiversion: false), tag: "shrink", compiler: compiler, flags: flags),
              let kernel = try? NativeKernel(library: lib, prefix: "s", kind: f.kind) else { return false }
        return (try? disagreements(loss, kernel, seed: seed))?.isEmpty == false
    }

    @Test(arguments: [LossKind.binary, .multiclass, .box], 0..<4)
    func randomFormulasMatchTheReference(_ kind: LossKind, _ bundle: Int) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let formulas = Self.formulas(kind, bundle: bundle)
        let losses = formulas.map { CompiledLoss.compile($0) }
        let source = CEmitter.bundle(losses.enumerated().map { ($1, "r\($0)") }, multiversion: false)
        let lib = try CHarness.build(source, tag: "random-\(kind)-\(bundle)", compiler: cc, flags: Self.flags)
        let tally = Tally()
        var failures: [String] = []
        for (i, loss) in losses.enumerated() {
            let kernel = try NativeKernel(library: lib, prefix: "r\(i)", kind: kind)
            let bad = try Self.disagreements(loss, kernel, seed: UInt64(i), tally: tally)
            guard !bad.isEmpty else { continue }
            let small = Shrinker.shrink(formulas[i]) { Self.stillDisagrees($0, seed: UInt64(i), compiler: cc) }
            let text = SourcePrinter.source(name: "regression", kind: kind, params: small.params, graph: small.graph, root: small.root)
            failures.append("r\(i) \(bad.joined(separator: "; "))\n  shrunk (batch seed \(i)):\n\(text)")
            if failures.count == 3 { break }
        }
        print("emitted C vs reference, \(kind) bundle \(bundle): LOSSC_BACKEND_SEED=\(RunSeed.value); \(tally.summary)")
        #expect(failures.isEmpty, "\(kind) bundle \(bundle), LOSSC_BACKEND_SEED=\(RunSeed.value): formulas disagree:\n\(failures.joined(separator: "\n"))")
    }
}

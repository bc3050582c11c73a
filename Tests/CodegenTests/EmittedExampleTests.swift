import Foundation
import Testing
@testable import Codegen
import LossDSL

/// Every bundled example, emitted as C, built by the system compiler with the recommended
/// flags, run on batches with extreme inputs, and compared with the reference evaluator.
@Suite(.serialized) struct EmittedExampleTests {
    static let examples: [(name: String, loss: CompiledLoss)] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".loss") }.sorted().compactMap { file in
            let path = dir.appendingPathComponent(file).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let f = try? Formula.parse(text, path: path) else { return nil }
            return (String(file.dropLast(5)), CompiledLoss.compile(f))
        }
    }()

    /// The batches each kind is checked on: past one block (256), and multiclass rows of 1,
    /// 81 and 300 classes (cached rows), and 2100 (past LOSSC_ROW: streamed in chunks).
    static func batches<T: LossReal>(_ kind: LossKind, as: T.Type) -> [CBatch<T>] {
        switch kind {
        case .multiclass:
            return [TestInputs.batch(kind, n: 3, classes: 1, seed: 1, as: T.self),
                    TestInputs.batch(kind, n: 6, classes: 81, seed: 2, as: T.self),
                    TestInputs.batch(kind, n: 2, classes: 300, seed: 3, as: T.self),
                    TestInputs.batch(kind, n: 2, classes: CPrelude.row + 52, seed: 6, as: T.self)]
        default:
            return [TestInputs.batch(kind, n: 300, seed: 4, as: T.self), TestInputs.batch(kind, n: 5, seed: 5, as: T.self)]
        }
    }

    func check<T: LossReal>(_ kernel: NativeKernel, _ loss: CompiledLoss, _ name: String, as: T.Type,
                            params: [Double]? = nil) {
        let oracle = Oracle(loss, params: params)
        for b in Self.batches(loss.kind, as: T.self) {
            guard let out = kernel.run(b, params: params) else { Issue.record("\(name): no kernel for \(T.self)"); return }
            let bad = oracle.mismatches(out, b)
            #expect(bad.isEmpty, "\(name) \(T.self) n=\(b.n) C=\(b.classes): \(bad.count) mismatches, first: \(bad.prefix(5))")
            // Without a gradient, and without per-sample output, the same values and sum.
            if let v = kernel.run(b, params: params, gradient: false) {
                #expect(zip(v.loss, out.loss).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(name): value-only version differs")
                #expect(v.sum == out.sum || (v.sum.isNaN && out.sum.isNaN))
            }
            if let s = kernel.run(b, params: params, loss: false, gradient: false) {
                #expect(s.sum == out.sum || (s.sum.isNaN && out.sum.isNaN), "\(name): sum without loss buffer differs")
            }
        }
    }

    @Test func examplesMatchTheReference() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        #expect(Self.examples.count >= 11)
        let source = CEmitter.bundle(Self.examples.map { ($0.loss, "ex_" + $0.name) })
        let lib = try CHarness.build(source, tag: "examples", compiler: cc,
                                     flags: SystemCompiler.optimizeFlags + CHarness.strictFlags)
        for (name, loss) in Self.examples {
            let kernel = try NativeKernel(library: lib, prefix: "ex_" + name, kind: loss.kind)
            check(kernel, loss, name, as: Float.self)
            check(kernel, loss, name, as: Double.self)
        }
    }

    /// Params passed at run time: focal with gamma 2.5 and 3 takes the general pow path (the
    /// fast path is for the emitted default, 2); alpha changes too.
    @Test func paramsAtRunTime() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let focal = try #require(Self.examples.first { $0.name == "focal" }).loss
        let lib = try CHarness.build(CEmitter.emit(focal).source, tag: "focal-params", compiler: cc)
        let kernel = try NativeKernel(library: lib, prefix: "focal", kind: .binary)
        for params in [[0.25, 2.0], [0.5, 2.5], [0.1, 3.0], [0.25, 0.0], [0.25, 1.0]] {
            check(kernel, focal, "focal\(params)", as: Float.self, params: params)
            check(kernel, focal, "focal\(params)", as: Double.self, params: params)
        }
    }
}

/// The oracle is not vacuous: a kernel of another loss fails it.
@Test func oracleRejectsAWrongKernel() throws {
    guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
    let ex = EmittedExampleTests.examples
    let bce = try #require(ex.first { $0.name == "bce" }).loss, focal = try #require(ex.first { $0.name == "focal" }).loss
    let lib = try CHarness.build(CEmitter.emit(bce).source, tag: "wrong", compiler: cc)
    let kernel = try NativeKernel(library: lib, prefix: "bce", kind: .binary)
    let b = TestInputs.batch(.binary, n: 40, seed: 9, as: Float.self)
    let out = try #require(kernel.run(b))
    #expect(Oracle(bce).mismatches(out, b).isEmpty)
    #expect(Oracle(focal).mismatches(out, b).count > 40)
}

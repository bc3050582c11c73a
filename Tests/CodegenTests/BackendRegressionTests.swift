import Foundation
import Testing
@testable import Codegen
import LossDSL

/// Every formula that once made a backend comparison fail, kept in `Regressions/` (one `.loss`
/// file each, with a comment saying what it exposed), replayed against the closures and the
/// emitted C on several batches. Most are ill-conditioned points that the comparison must
/// classify rather than report (`Conditioning`); a backend bug found by the fresh-seed runs goes
/// here too, as the shrunk formula those runs print.
@Suite(.serialized) struct BackendRegressionTests {
    /// Batch seeds replayed for each file: 0..<8, plus those its `# batch seeds: 53, …` line names
    /// (the failing runs print the seed of the batch that exposed a formula).
    static func seeds(_ f: Formula) -> [UInt64] {
        let line = String(decoding: f.file.bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("# batch seeds:") }
        let extra = line.map { $0.dropFirst("# batch seeds:".count).split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } } ?? []
        return Array(0..<8) + extra
    }

    static func formulas() throws -> [(name: String, formula: Formula)] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".loss") }.sorted()
        return try names.map { name in
            let path = dir.appendingPathComponent(name).path
            return (name, try Formula.parse(try String(contentsOfFile: path, encoding: .utf8), path: path))
        }
    }

    @Test func corpusIsNotEmpty() throws {
        #expect(try Self.formulas().count >= 5)
    }

    @Test func closuresAgree() throws {
        for (name, f) in try Self.formulas() {
            let c = CompiledLoss.compile(f)
            for seed in Self.seeds(f) {
                let b = Batch.random(f.kind, count: f.kind == .multiclass ? 6 : 24, classes: f.kind == .multiclass ? [1, 2, 5, 7][Int(seed) % 4] : 1, seed: seed)
                let problems = try compareWithReference(c, b)
                #expect(problems.isEmpty, "\(name), batch seed \(seed): \(problems.prefix(2))")
            }
        }
    }

    @Test func emittedCAgrees() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let all = try Self.formulas()
        let losses = all.map { CompiledLoss.compile($0.formula) }
        let lib = try CHarness.build(CEmitter.bundle(losses.enumerated().map { ($1, "g\($0)") }, multiversion: false), tag: "regressions",
                                     compiler: cc, flags: EmittedRandomTests.flags)
        for (k, loss) in losses.enumerated() {
            let kernel = try NativeKernel(library: lib, prefix: "g\(k)", kind: loss.kind)
            for seed in Self.seeds(all[k].formula) {
                let bad = try EmittedRandomTests.disagreements(loss, kernel, seed: seed)
                #expect(bad.isEmpty, "\(all[k].name), batch seed \(seed): \(bad.prefix(2))")
            }
        }
    }
}

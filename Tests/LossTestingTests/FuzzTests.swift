import Foundation
import Testing
@testable import LossDSL
@testable import LossTesting
import LossTestSupport

/// A bounded fuzzing run of the front end (`lossc bench fuzz` runs long ones). The seed is
/// fresh each run and printed, so a failure can be replayed with LOSSC_FUZZ_SEED.
struct FuzzTests {
    @Test func mutatedInputsEndInDiagnosticsOrValidFormulas() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: examplesDirectory.path).filter { $0.hasSuffix(".loss") }
        let corpus = try files.map { try example($0) } + [
            "Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))",
            "Add(1,Neg(Add(Div(I,U),Neg(Div(Add(E,Neg(Add(I,2))),E)))))",
        ]
        let env = ProcessInfo.processInfo.environment
        let seed = env["LOSSC_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let n = env["LOSSC_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 3000
        print("fuzz: \(n) inputs, LOSSC_FUZZ_SEED=\(seed)")
        let r = Fuzzer(corpus: corpus).run(iterations: n, seed: seed)
        #expect(r.inputs == n)
        #expect(r.valid + r.diagnosed == n)
        // The mutations are mild enough that some inputs stay valid and reach the backends.
        #expect(r.valid > n / 50, "only \(r.valid) of \(n) mutants were valid")
    }
}

import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The second opinion must excuse ill-conditioned points and nothing else: a wrong value at a
/// well-conditioned point is never explained, or fresh-seed runs would hide real bugs.
struct ConditioningTests {
    static func loss(_ body: String, _ kind: String = "binary") throws -> CompiledLoss {
        CompiledLoss.compile(try Formula.parse("loss t: \(kind)\nreturn \(body)\n"))
    }

    static func point(_ x: Double, y: Double = 1) -> [InputValue<Double>] { [.scalar(x), .scalar(y), .scalar(1)] }

    @Test func wellConditionedValuesAreJudgedStrictly() throws {
        let c = try Self.loss("x * x")
        let second = Conditioning(c, params: [], ulp: 0x1p-24, classes: 1)
        #expect(second.explains(0.25, inputs: Self.point(0.5), output: 0, tol: 1e-5))
        #expect(!second.explains(0.25 * (1 + 1e-4), inputs: Self.point(0.5), output: 0, tol: 1e-5))
        // The gradient 2x = 1 at x = 0.5: off by 1e-4 is wrong.
        #expect(second.explains(1, inputs: Self.point(0.5), output: 1, tol: 1e-5))
        #expect(!second.explains(1.0001, inputs: Self.point(0.5), output: 1, tol: 1e-5))
        #expect(!second.explains(.nan, inputs: Self.point(0.5), output: 0, tol: 1e-5))
    }

    @Test func chaoticValuesAreExcused() throws {
        // cos(exp(30)): exp(30) ≈ 1e13, one float ulp of it is ~1e6 radians.
        let c = try Self.loss("cos(exp(x))")
        let second = Conditioning(c, params: [], ulp: 0x1p-24, classes: 1)
        #expect(second.explains(0.3, inputs: Self.point(30), output: 0, tol: 1e-5))
        #expect(!second.explains(.nan, inputs: Self.point(30), output: 0, tol: 1e-5))
        // At x = 0 the same formula is well conditioned.
        #expect(!second.explains(0.3, inputs: Self.point(0), output: 0, tol: 1e-5))
    }

    @Test func finitenessDecidedByRoundingIsExcused() throws {
        // x - tanh(x) at tiny x: 0 or ±1e-16 depending on rounding, so the ratio is inf or huge.
        let c = try Self.loss("x / (x - tanh(x))")
        let second = Conditioning(c, params: [], ulp: 0x1p-53, classes: 1)
        #expect(second.explains(-1e15, inputs: Self.point(1e-9), output: 0, tol: 1e-12))
    }

    /// Another formula's values at well-conditioned points, offered as if a backend computed
    /// them (a wrong operator spelling): nearly all must be rejected.
    @Test func aWrongBackendIsCaught() throws {
        let right = try Self.loss("log(sigmoid(x)) * y + softplus(x) * (1 - y)")
        let wrong = try Self.loss("log(sigmoid(x)) * y + softplus(x * 1.001) * (1 - y)")
        let second = Conditioning(right, params: [], ulp: 0x1p-24, classes: 1)
        var offered = 0, excused = 0
        for k in 0..<200 {
            let inputs = Self.point(-8 + 16 * Double(k) / 199, y: Double(k % 2))
            let truth = right.evaluate(inputs, as: Double.self), got = wrong.evaluate(inputs, as: Double.self)
            for (output, (v, t)) in zip([got.loss] + got.gradient, [truth.loss] + truth.gradient).enumerated()
            where abs(v - t) > 1e-4 * max(1, abs(t)) {
                offered += 1
                if second.explains(v, inputs: inputs, output: output, tol: 1e-5) { excused += 1 }
            }
        }
        #expect(offered > 100)
        #expect(excused == 0)
    }
}

import Foundation
import Testing
@testable import LossDSL
@testable import LossCheck
import LossTestSupport

/// The branch-and-bound driver on functions whose answer is known in closed form.
struct SubdivisionTests {
    /// Interval bounds of f(x) = x^2 - 2 (by the operator table) over a box.
    func square(minus c: Double, _ x: Interval) -> Interval {
        Op.sub.interval([Op.mul.interval([x, x]), Interval(point: c)])
    }

    @Test func provesWithSubdivisionWhatOneBoxCannot() {
        // x^2 - 2 > 0 on [1.5, 3]: one box gives [2.25 - 2 ...] directly, but on [1.42, 3] the
        // dependency x * x needs splits near sqrt(2) = 1.41421.
        let vars = [ProofVariable("x", 1.42...3)]
        let r = Subdivision.run(vars, budget: 1000, test: { b in
            let v = square(minus: 2, b[0])
            return v.lo > 0 ? .holds : (v.hi <= 0 ? .fails : .open)
        }, probe: { (p: [Double]) -> Double? in p[0] * p[0] - 2 <= 0 ? p[0] : nil })
        guard case .proved(let n) = r else { Issue.record("not proved: \(r)"); return }
        #expect(n >= 1)
    }

    @Test func refutesWithAConcretePoint() {
        // x^2 - 2 > 0 fails on [0, 3] (below sqrt 2): the probe confirms at a midpoint.
        let r = Subdivision.run([ProofVariable("x", 0...3)], budget: 1000, test: { b in
            let v = square(minus: 2, b[0])
            return v.lo > 0 ? .holds : (v.hi <= 0 ? .fails : .open)
        }, probe: { (p: [Double]) -> Double? in p[0] * p[0] - 2 <= 0 ? p[0] : nil })
        guard case .refuted(let x) = r else { Issue.record("not refuted: \(r)"); return }
        #expect(x * x <= 2)
    }

    @Test func leavesATouchingZeroOpen() {
        // 3x^2 > 0 on [-1, 1] is false only at 0: no box around 0 closes, no point refutes
        // (the probe only ever sees midpoints), so the result is undecided near 0.
        let vars = [ProofVariable("x", -1...1)]
        let r = Subdivision.run(vars, budget: 10_000, minWidth: 1e-6, test: { b in
            let v = Op.mul.interval([Interval(point: 3), Op.mul.interval([b[0], b[0]])])
            return v.lo > 0 ? .holds : .open
        }, probe: { (p: [Double]) -> Double? in p[0] == 0 ? 0 : nil })
        switch r {
        case .undecided(let open, _):
            #expect(!open.isEmpty && open.allSatisfy { $0[0].lo <= 1e-5 && $0[0].hi >= -1e-5 })
            #expect(Subdivision.describe(open, vars).hasPrefix("x ∈ ["))
        case .refuted(let x): #expect(x == 0)
        default: Issue.record("proved 3x^2 > 0 at 0: \(r)")
        }
    }

    @Test func budgetIsRespected() {
        var calls = 0
        let r = Subdivision.run([ProofVariable("x", 0...1), ProofVariable("y", 0...1)], budget: 50, test: { _ in
            calls += 1
            return .open
        }, probe: { (_: [Double]) -> Int? in nil })
        #expect(calls == 50)
        if case .undecided(let open, let n) = r { #expect(n == 50 && !open.isEmpty) } else { Issue.record("\(r)") }
    }

    @Test func logScaleSplitsAtTheGeometricMean() {
        let v = ProofVariable("u", 1e-7...1e9, logOffset: 0)
        #expect(close(v.split(Interval(1e-7, 1e9)), 1e1, 1e-12))
        let s = ProofVariable("s", 0...1e9, logOffset: 1e-7)
        let m = s.split(Interval(0, 1e9))
        #expect(m > 0 && m < 1e9 && close(m, (1e-7 * (1e9 + 1e-7)).squareRoot() - 1e-7, 1e-12))
    }
}

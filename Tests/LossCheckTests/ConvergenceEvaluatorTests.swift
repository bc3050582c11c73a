import Foundation
import Testing
@testable import LossDSL
@testable import LossCheck
import LossTestSupport

/// The column-wise evaluator against the reference evaluator (the oracle), and interval
/// bounds against concrete values: the two foundations the convergence checks stand on.
struct ConvergenceEvaluatorTests {
    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

    /// Random inputs for one sample of a kind (class vectors of `classes` entries).
    static func sample(_ kind: LossKind, classes: Int, _ r: inout TestRandom) -> [InputValue<Double>] {
        switch kind {
        case .multiclass:
            let t = Int(r.next() * Double(classes))
            return [.vector((0..<classes).map { _ in r.uniform(-15, 15) }), .vector((0..<classes).map { $0 == t ? 1 : 0 }), .scalar(r.next())]
        case .box:
            let s = Foundation.exp(r.uniform(0, Foundation.log(1000)))
            let t = [r.uniform(0, 50), r.uniform(0, 50)]
            let tb = [t[0], t[1], t[0] + s * r.uniform(0.5, 2), t[1] + s * r.uniform(0.5, 2)]
            let p = [tb[0] + s * r.uniform(-1, 1), tb[1] + s * r.uniform(-1, 1)]
            return boxInputs([p[0], p[1], p[0] + s * r.uniform(0.3, 2), p[1] + s * r.uniform(0.3, 2)], tb)
        default:
            return [.scalar(r.uniform(-15, 15)), .scalar(r.next() < 0.5 ? 0 : 1), .scalar(r.next())]
        }
    }

    /// The samples as columns, as `ColumnEvaluator` and `BatchLoss` take them.
    static func columns(_ samples: [[InputValue<Double>]]) -> [[Double]] {
        (0..<samples[0].count).map { k in
            samples.flatMap { s -> [Double] in
                switch s[k] { case .scalar(let v): return [v]; case .vector(let v): return v }
            }
        }
    }

    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func columnsMatchTheReferenceBitForBit(_ kind: LossKind) {
        let spec = RandomFormula(kind: kind, maxDepth: 7, maxNodes: 30)
        var rng = SeededGenerator(seed: 5)
        var r = TestRandom(17)
        for _ in 0..<60 {
            let loss = CompiledLoss.compile(spec.next(using: &rng))
            let classes = [2, 5, 81][Int(r.next() * 3)]
            let samples = (0..<16).map { _ in Self.sample(kind, classes: classes, &r) }
            let batch = ColumnBatchLoss(loss).evaluate(Self.columns(samples), rows: samples.count, classes: kind == .multiclass ? classes : 1)
            let width = batch.gradient.count / samples.count
            for (i, s) in samples.enumerated() {
                let want = loss.evaluate(s, as: Double.self)
                #expect(Self.same(batch.loss[i], want.loss))
                for k in 0..<width { #expect(Self.same(batch.gradient[i * width + k], want.gradient[k])) }
            }
        }
    }

    @Test func referenceBatchLossIsTheOracleLayout() throws {
        for name in ["focal.loss", "cse_a_cls.loss", "cse_b_reg.loss"] {
            let loss = try compile(try example(name))
            var r = TestRandom(3)
            let samples = (0..<10).map { _ in Self.sample(loss.kind, classes: 5, &r) }
            let cols = Self.columns(samples), classes = loss.kind == .multiclass ? 5 : 1
            let a = ColumnBatchLoss(loss).evaluate(cols, rows: 10, classes: classes)
            let b = ReferenceBatchLoss(loss).evaluate(cols, rows: 10, classes: classes)
            #expect(a.loss == b.loss && a.gradient == b.gradient, "\(name)")
        }
    }

    /// Bounds over a box must contain every concrete value in it, wherever the box is clean.
    @Test(arguments: [LossKind.binary, .multiclass])
    func intervalBoundsContainConcreteValues(_ kind: LossKind) {
        let spec = RandomFormula(kind: kind, maxDepth: 6, maxNodes: 25)
        var rng = SeededGenerator(seed: 9)
        var r = TestRandom(23)
        var checked = 0
        for _ in 0..<150 {
            let loss = CompiledLoss.compile(spec.next(using: &rng))
            let classes = kind == .multiclass ? [2, 5, 81][Int(r.next() * 3)] : 1
            let program = IntervalProgram(graph: loss.graph, roots: [loss.value, loss.gradient[0]], params: [], classes: classes)
            let a = r.uniform(-15, 14), b = r.uniform(-15, 14), wa = r.next() * 0.9
            let xt = Interval(a, a + r.next()), xo = Interval(b, b + r.next()), w = Interval(wa, wa + 0.1)
            let y = r.next() < 0.5 ? 0.0 : 1.0
            let inputs: [ClassInterval?] = kind == .multiclass
                ? [ClassInterval(t: xt, o: xo), ClassInterval(t: Interval(point: 1), o: Interval(point: 0)), ClassInterval(scalar: w)]
                : [ClassInterval(scalar: xt), ClassInterval(scalar: Interval(point: y)), ClassInterval(scalar: w)]
            let bounds = program.bounds(inputs)
            guard bounds.clean else { continue }
            checked += 1
            for _ in 0..<20 {
                let wv = r.uniform(w.lo, w.hi)
                let x = (0..<classes).map { k in k == 0 ? r.uniform(xt.lo, xt.hi) : r.uniform(xo.lo, xo.hi) }
                let s: [InputValue<Double>] = kind == .multiclass
                    ? [.vector(x), .vector((0..<classes).map { $0 == 0 ? 1 : 0 }), .scalar(wv)]
                    : [.scalar(x[0]), .scalar(y), .scalar(wv)]
                let v = loss.evaluate(s, as: Double.self)
                #expect(bounds.roots[0].t.contains(v.loss), "loss \(v.loss) outside \(bounds.roots[0].t)")
                for (k, g) in v.gradient.enumerated() {
                    let bound = k == 0 ? bounds.roots[1].t : bounds.roots[1].o
                    #expect(bound.contains(g), "gradient[\(k)] = \(g) outside \(bound)")
                }
            }
        }
        #expect(checked > 30)
    }

    @Test func groupedSoftmaxBoundsHoldAndAreTight() {
        var r = TestRandom(31)
        for classes in [2, 5, 81] {
            for _ in 0..<200 {
                let a = r.uniform(-20, 20), b = r.uniform(-20, 20)
                let xt = Interval(a, a + r.next() * 3), xo = Interval(b, b + r.next() * 3)
                let arg = [ClassInterval(t: xt, o: xo)]
                let p = Op.softmax.classInterval(arg, classes: classes)
                let lp = Op.logSoftmax.classInterval(arg, classes: classes)
                for _ in 0..<20 {
                    let x = (0..<classes).map { $0 == 0 ? r.uniform(xt.lo, xt.hi) : r.uniform(xo.lo, xo.hi) }
                    // Accurate closed forms: log-sum-exp as m + log1p(sum of the others' e^(x - m)).
                    let top = x.indices.max { x[$0] < x[$1] }!, m = x[top]
                    let rest = x.indices.filter { $0 != top }.map { Foundation.exp(x[$0] - m) }.reduce(0, +)
                    for k in 0..<classes {
                        let bound = k == 0 ? p.t : p.o, lbound = k == 0 ? lp.t : lp.o
                        #expect(bound.contains(Foundation.exp(x[k] - m) / (1 + rest)))
                        #expect(lbound.contains((x[k] - m) - Foundation.log1p(rest)))
                    }
                }
                // At a point the bound is tight: the true class's probability is known to 1e-12.
                let point = Op.softmax.classInterval([ClassInterval(t: Interval(point: a), o: Interval(point: b))], classes: classes)
                let exact = 1 / (1 + Double(classes - 1) * Foundation.exp(b - a))
                #expect(point.t.width <= 1e-12 * Swift.max(exact, 1e-300) + 1e-300 || point.t.width < 1e-12)
            }
        }
    }

    /// The Taylor form bounds the same values as plain intervals, only tighter: concrete
    /// gradients inside its box stay inside it (to rounding), for random formulas.
    @Test func taylorBoundsContainConcreteValues() {
        let spec = RandomFormula(kind: .binary, maxDepth: 6, maxNodes: 25)
        var rng = SeededGenerator(seed: 12)
        var r = TestRandom(29)
        var checked = 0
        for _ in 0..<150 {
            let loss = CompiledLoss.compile(spec.next(using: &rng))
            let s = GraphSubstitution.bind(loss.graph, roots: [loss.gradient[0]], params: loss.formula.paramValues, [1: 1, 2: 1])
            let taylor = TaylorBound(graph: s.graph, function: s.roots[0], variable: 0, params: [])
            let a = r.uniform(-15, 14.5), x = Interval(a, a + r.next() * 0.5)
            guard let bound = taylor.bound([ClassInterval(scalar: x)]) else { continue }
            checked += 1
            for _ in 0..<20 {
                let v = r.uniform(x.lo, x.hi)
                let g = loss.evaluate([.scalar(v), .scalar(1), .scalar(1)], as: Double.self).gradient[0]
                let slack = 1e-9 * (1 + Swift.abs(g))
                #expect(bound.lo - slack <= g && g <= bound.hi + slack, "dL/dx(\(v)) = \(g) outside \(bound)")
            }
        }
        #expect(checked > 40)
    }

    @Test func taylorBoundRefusesKinksAndJumps() throws {
        for expr in ["y * relu(x)", "y * abs(x)", "y * max(x, 1 - x)"] {
            let loss = try binaryLoss(expr)
            let s = GraphSubstitution.bind(loss.graph, roots: [loss.gradient[0]], params: [], [1: 1, 2: 1])
            let taylor = TaylorBound(graph: s.graph, function: s.roots[0], variable: 0, params: [])
            #expect(taylor.bound([ClassInterval(scalar: Interval(-1, 1))]) == nil, "\(expr)")
            #expect(taylor.bound([ClassInterval(scalar: Interval(2, 3))]) != nil, "\(expr)")
        }
    }
}

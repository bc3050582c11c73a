import Testing
@testable import LossDSL

/// The operator table's per-operator facts, walked over `Op.allCases`: what the compiler's
/// exhaustive switches cannot check (a value that is the wrong kind of fact, a duplicated
/// number) fails here, so adding an operator is the recipe in docs/operators.md and nothing else.
struct OperatorTableTests {
    /// Structural hashing keys on `OpInfo.id`: the numbers must be distinct.
    @Test func permanentNumbersAreDistinct() {
        let ids = Op.allCases.map(\.info.id)
        #expect(Set(ids).count == ids.count, "duplicate OpInfo.id")
        #expect(!ids.contains(0))
    }

    private struct IsTableFunction: ElementFunctionVisitor {
        func visit<F: ElementFunction>(_ f: F.Type) -> Bool { f != OpMath.NotElementwise.self }
    }

    /// Every elementwise operator has a value, a partial per argument, an interval and a
    /// smoothness answer; every class-axis operator has a forward/reverse derivative pair.
    @Test func everyOperatorHasItsFacts() {
        let box = Interval(0.5, 2)
        for op in Op.allCases where !op.isLeaf {
            let args = [Interval](repeating: box, count: op.arity)
            if op.shapeRule == .elementwise {
                #expect(op.withElementFunction(IsTableFunction()), "\(op.name) has no element function")
                var g = Graph()
                let xs = (0..<op.arity).map { g.input($0, shape: .scalar) }
                let o = g.apply(op, xs)
                #expect(op.partials(g[o].args, result: o, in: &g).count == op.arity, "\(op.name): one partial per argument")
                #expect(op.classAxisDerivative == nil)
            } else {
                #expect(!op.withElementFunction(IsTableFunction()), "\(op.name) is not elementwise")
                #expect(op.classAxisDerivative != nil, "\(op.name) has no class-axis derivative")
            }
            let r = op.interval(args)
            #expect(!r.lo.isNaN && !r.hi.isNaN && r.lo <= r.hi, "\(op.name): interval \(r)")
        }
    }

    /// Argument order of commutative operators follows structural keys: `b + a` and `a + b`
    /// are one node, whatever order they are built in.
    @Test func commutativeOperatorsAreCanonicalInEitherOrder() {
        for op in Op.allCases where op.isCommutative && op.shapeRule == .elementwise {
            var g = Graph()
            let a = g.input(0, shape: .scalar), b = g.make(.exp, g.input(1, shape: .scalar))
            #expect(g.make(op, a, b) == g.make(op, b, a), "\(op.name)")
        }
    }
}

import Testing
@testable import LossDSL
@testable import LossTesting

struct ShrinkerTests {
    static func containsSine(_ f: Formula) -> Bool {
        let live = f.graph.reachable(from: [f.root])
        return f.graph.nodes.indices.contains { live[$0] && f.graph.nodes[$0].op == .sin }
    }

    /// A failure that needs only `sin(y)` shrinks to exactly that (written by hand here).
    @Test func shrinksToTheSmallestFailingFormula() throws {
        let f = try Formula.parse("loss t: binary\nreturn exp(log(softplus(x) + 2) * sin(y * w)) - x\n")
        let small = Shrinker.shrink(f, stillFails: Self.containsSine)
        let expected = try Formula.parse("loss t: binary\nreturn sin(y)\n")
        #expect(small.graph.liveCount(from: [small.root]) == expected.graph.liveCount(from: [expected.root]))
        let text = SourcePrinter.source(name: "t", kind: .binary, params: [], graph: small.graph, root: small.root)
        #expect(text.split(separator: "\n").last == "return sin(y)", "\(text)")
    }

    /// A formula that does not fail comes back unchanged.
    @Test func keepsAFormulaThatDoesNotFail() throws {
        let f = try Formula.parse("loss t: binary\nreturn exp(x) + y\n")
        let same = Shrinker.shrink(f) { _ in false }
        #expect(same.graph.liveCount(from: [same.root]) == f.graph.liveCount(from: [f.root]))
    }
}

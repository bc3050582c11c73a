import Testing
@testable import LossDSL
import LossTestSupport

struct RandomFormulaTests {
    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func randomFormulasAreValidAndReproducible(_ kind: LossKind) throws {
        let spec = RandomFormula(kind: kind, maxDepth: 9, maxNodes: 40)
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let f = spec.next(using: &a), g = spec.next(using: &b)
            #expect(GraphPrinter.canonicalText(f.graph, root: f.root) == GraphPrinter.canonicalText(g.graph, root: g.root))
            #expect(f.isInSearchSpace)
            #expect(f.kind == kind)
            // Every random formula compiles and evaluates without trapping.
            let c = CompiledLoss.compile(f)
            let inputs: [InputValue<Double>]
            switch kind {
            case .multiclass: inputs = [.vector([0.5, -1, 2]), .vector([0, 0, 1]), .scalar(0.7)]
            case .box: inputs = [.scalar(0), .scalar(0), .scalar(0), .scalar(0), .scalar(0), .scalar(10), .scalar(10), .scalar(2), .scalar(3), .scalar(12), .scalar(11)]
            default: inputs = [.scalar(0.3), .scalar(1), .scalar(0.8)]
            }
            let r = c.evaluate(inputs, as: Double.self)
            #expect(r.gradient.count == (kind == .multiclass ? 3 : (kind == .box ? 4 : 1)))
        }
    }

    /// `Formula(graph:)` keeps the graph as built; its printed source (`file`) parses back to
    /// the same graph after canonicalization, so the printer is checked here instead of being trusted by a
    /// print-and-reparse round trip that would turn a printer bug into a silent nil.
    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func formulaFromAGraphMatchesItsPrintedSource(_ kind: LossKind) throws {
        let spec = RandomFormula(kind: kind, maxDepth: 9, maxNodes: 40)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            let f = spec.next(using: &rng)
            let reparsed = try Formula.parse(f.file)
            // The same graph up to constant folding (the parser folds `-1`; the builder's
            // neg(1) stays until canonicalization).
            let a = Canonicalize.run(reparsed.graph, roots: [reparsed.root]), b = Canonicalize.run(f.graph, roots: [f.root])
            #expect(GraphPrinter.canonicalText(a.graph, root: a.roots[0]) == GraphPrinter.canonicalText(b.graph, root: b.roots[0]),
                    "\(f.file.text)")
        }
        var g = Graph()
        let softmax = g.apply(.softmax, g.input(0, shape: .classVector))
        #expect(Formula(name: "v", kind: .multiclass, graph: g, root: softmax) == nil, "a class-vector root is not a loss")
    }
}

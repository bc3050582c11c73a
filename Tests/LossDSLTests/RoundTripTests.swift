import Foundation
import Testing
@testable import LossDSL
import LossTestSupport

/// `fmt` output parses back to the identical graph; DEAP imports equal the hand-written files.
struct RoundTripTests {
    /// The per-sample examples (ranking losses have their own round trips in RankingLanguageTests).
    static let examples: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: examplesDirectory.path)) ?? [])
            .filter { $0.hasSuffix(".loss") && !isRankingExample($0) }.sorted()
    }()

    @Test func thereAreExamples() { #expect(Self.examples.count >= 11) }

    @Test(arguments: examples)
    func fmtRoundTrips(_ name: String) throws {
        let text = try example(name)
        let ast = try Parser.parse(SourceFile(path: name, text: text)).get()
        let formatted = SourcePrinter.format(ast)
        let a = try Formula.parse(text), b = try Formula.parse(formatted)
        #expect(GraphPrinter.canonicalText(a.graph, root: a.root) == GraphPrinter.canonicalText(b.graph, root: b.root))
        #expect(a.graph.count == b.graph.count)
        #expect(a.params.map(\.name) == b.params.map(\.name) && a.paramValues == b.paramValues)
        // Formatting is idempotent, and the bundled examples are already formatted.
        #expect(SourcePrinter.format(try Parser.parse(SourceFile(path: name, text: formatted)).get()) == formatted)
        #expect(formatted == text, "\(name) is not in canonical form; run lossc fmt --write")
    }

    @Test(arguments: examples)
    func graphSourcePrinterRoundTrips(_ name: String) throws {
        let f = try Formula.parse(try example(name))
        for (g, root) in [(f.graph, f.root), { let c = CompiledLoss.compile(f).optimizedFormula; return (c.graph, c.roots[0]) }()] {
            let text = SourcePrinter.source(name: f.name, kind: f.kind, params: f.params, graph: g, root: root)
            let back = try Formula.parse(text)
            let c1 = Canonicalize.run(g, roots: [root]), c2 = Canonicalize.run(back.graph, roots: [back.root])
            #expect(GraphPrinter.canonicalText(c1.graph, root: c1.roots[0]) == GraphPrinter.canonicalText(c2.graph, root: c2.roots[0]), "\(text)")
        }
    }

    /// Each example that quotes a published DEAP string (a '# DEAP:' line) equals its import
    /// after canonicalization, and so does the import printed as a .loss file and parsed back.
    @Test(arguments: examples)
    func deapImportEqualsHandWritten(_ name: String) throws {
        let text = try example(name)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# DEAP: ") }) else { return }
        let deap = String(line.dropFirst("# DEAP: ".count))
        let hand = try Formula.parse(text)
        let imported = try DEAPImport.formula(deap, kind: hand.kind)
        let reparsed = try Formula.parse(try DEAPImport.source(deap, kind: hand.kind))
        let h = Canonicalize.run(hand.graph, roots: [hand.root])
        let want = GraphPrinter.canonicalText(h.graph, root: h.roots[0])
        for f in [imported, reparsed] {
            let c = Canonicalize.run(f.graph, roots: [f.root])
            #expect(GraphPrinter.canonicalText(c.graph, root: c.roots[0]) == want, "\(name): DEAP import differs")
        }
    }

    @Test func publishedStringsAllImport() throws {
        let strings: [(String, LossKind)] = [
            ("Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))", .multiclass),
            ("Add(1,Neg(Add(Div(I,U),Neg(Div(Add(E,Neg(Add(I,2))),E)))))", .box),
            ("Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),Mul(Add(Add(1,Neg(Q)),Neg(Add(1,Neg(Sig(X))))),Log(Add(1,Neg(Sig(X))))))))", .binary),
            ("Neg(Div(Add(Div(Neg(Add(Neg(E),Add(1,I))),Neg(Add(3,Add(2,U)))),Add(Div(E,E),Div(Neg(E),Neg(1)))),Neg(Add(Div(Neg(Add(U,Div(I,1))),Neg(3)),Neg(E)))))", .box),
        ]
        // Published tree sizes (reference §5): A_cls 11 nodes, A_reg 16, B_cls 37, B_reg 39 as trees.
        let treeSizes = [11, 16, 37, 39]
        for ((s, kind), size) in zip(strings, treeSizes) {
            let f = try DEAPImport.formula(s, kind: kind)
            #expect(s.split(whereSeparator: { "(),".contains($0) }).count == size)
            // The DAG shares repeated subtrees (Sig(X) appears 4 times in B_cls).
            #expect(f.graph.liveCount(from: [f.root]) <= size)
            if size == 37 { #expect(f.graph.liveCount(from: [f.root]) < 30) }
        }
    }

    @Test func commutedFormulasAreOneGraphAfterCanonicalization() throws {
        let a = try Formula.parse("loss a: binary\nreturn (y * x + w) * sigmoid(x)\n")
        let b = try Formula.parse("loss b: binary\nreturn sigmoid(x) * (w + x * y)\n")
        let ca = Canonicalize.run(a.graph, roots: [a.root]), cb = Canonicalize.run(b.graph, roots: [b.root])
        #expect(GraphPrinter.canonicalText(ca.graph, root: ca.roots[0]) == GraphPrinter.canonicalText(cb.graph, root: cb.roots[0]))
        let c = try Formula.parse("loss c: binary\nreturn sigmoid(x) * (w - x * y)\n")
        let cc = Canonicalize.run(c.graph, roots: [c.root])
        #expect(GraphPrinter.canonicalText(ca.graph, root: ca.roots[0]) != GraphPrinter.canonicalText(cc.graph, root: cc.roots[0]))
    }
}

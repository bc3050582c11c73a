import Foundation
import Testing
@testable import LossDSL
@testable import LossRanking
import LossTestSupport

/// The ranking constructs and curves of the language: diagnostics, formatting, and the exact
/// semantics of curves (PAP's `_linear`), clamp and with_gradient.
struct RankingLanguageTests {
    static let rankingExamples = ["ap_loss.loss", "pap_retinanet.loss", "pap_retinanet_4fn.loss", "smooth_ap.loss"]

    func firstError(_ text: String) -> String {
        do { _ = try RankingFormula.parse(text, path: "t.loss"); return "no error" } catch {
            return error.diagnostics.first!.summary(in: error.file)
        }
    }

    func hint(_ text: String) -> String? {
        do { _ = try RankingFormula.parse(text, path: "t.loss"); return nil } catch { return error.diagnostics.first?.hint }
    }

    @Test(arguments: rankingExamples)
    func fmtRoundTrips(_ name: String) throws {
        let text = try example(name)
        #expect(isRankingExample(name))
        let formatted = SourcePrinter.format(try Parser.parse(SourceFile(path: name, text: text)).get())
        #expect(formatted == text, "\(name) is not in canonical form")
        let a = try RankingFormula.parse(text), b = try RankingFormula.parse(formatted)
        #expect(GraphPrinter.canonicalText(a.graph, root: a.root) == GraphPrinter.canonicalText(b.graph, root: b.root))
        #expect(a.slots.count == b.slots.count && a.curves == b.curves)
        #expect(a.formula.warnings.isEmpty, "\(a.formula.warnings)")
    }

    @Test func perSampleParsingRefusesRankingFiles() {
        do { _ = try Formula.parse(try example("ap_loss.loss")); Issue.record("parsed") } catch {
            #expect((error as? DiagnosticError)?.diagnostics.first?.id == "ranking-kind")
        }
        do { _ = try RankingFormula.parse(try example("focal.loss")); Issue.record("parsed") } catch {
            #expect((error as? DiagnosticError)?.diagnostics.first?.id == "not-ranking")
        }
    }

    @Test func levelAndSetErrors() {
        let h = "loss a: ranking\n"
        #expect(firstError(h + "return d\n") == "t.loss:2:8: error: this uses d, sj or uj, which exist only inside pairsum(...)")
        #expect(firstError(h + "return pairsum(d, valid)\n") == "t.loss:2:8: error: a ranking loss is one value for the batch, but this is one value per positive")
        #expect(hint(h + "return pairsum(d, valid)\n") == "reduce it with mean_positive(...) or sum_positive(...)")
        #expect(firstError(h + "return mean_positive(pairsum(d, negative))\n") == "t.loss:2:33: error: unknown name 'negative'")
        #expect(hint(h + "return mean_positive(pairsum(d, negative))\n") == "did you mean 'negatives'?")
        #expect(firstError(h + "return mean_positive(pairsum(d, 3))\n") == "t.loss:2:33: error: the second argument of pairsum must be a set of entries")
        #expect(firstError(h + "return mean_positive(sj)\n") == "t.loss:2:22: error: mean_positive reduces per-positive values, but its argument uses d, sj or uj, which exist only inside pairsum(...)")
        #expect(firstError(h + "return mean_positive(pairsum(1, top(valid, 0)))\n") == "t.loss:2:44: error: the count of top must be a whole number >= 1 (a number or a param)")
        #expect(firstError(h + "return sum_positive(valid + 1)\n") == "t.loss:2:21: error: 'valid' is a set of entries, not a value")
        #expect(firstError(h + "return exp(valid)\n") == "t.loss:2:12: error: 'valid' is a set of entries, not a value")
        #expect(firstError(h + "return mean_positive(s)\n") == "t.loss:2:22: error: unknown name 's'")
        #expect(hint(h + "return mean_positive(s)\n")!.hasPrefix("a ranking loss names the positive i's score and quality si, ui"))
        #expect(firstError(h + "return pairsum(d)\n") == "t.loss:2:8: error: pairsum takes 2 arguments, but 1 was given")
        #expect(firstError(h + "let d = 1\nreturn d\n") == "t.loss:2:5: error: 'd' is an input in a ranking loss")
        #expect(firstError(h + "let valid = 1\nreturn valid\n") == "t.loss:2:5: error: 'valid' is a set of entries in a ranking loss")
        // Ranking constructs elsewhere.
        do { _ = try Formula.parse("loss a: binary\nreturn pairsum(x, 1)\n") } catch {
            #expect(error.diagnostics.first?.hint == "'pairsum' exists only in ranking losses ('loss NAME: ranking')")
        }
    }

    @Test func curveErrors() {
        let h = "loss a: binary\n"
        func err(_ body: String) -> String {
            do { _ = try Formula.parse(h + body, path: "t.loss"); return "no error" } catch { return error.diagnostics.first!.summary(in: error.file) }
        }
        #expect(err("curve C = (0, 0), (0.5, 0.6), (1, 0.5)\nreturn C(x)\n") == "t.loss:2:31: error: the y of curve 'C''s point 3 is smaller than the previous one; curves are monotone non-decreasing")
        #expect(err("curve C = (0, 0), (0.7, 0.2), (0.5, 0.5)\nreturn C(x)\n") == "t.loss:2:31: error: the x of curve 'C''s point 3 is smaller than the previous one")
        #expect(err("curve C = (0, 0)\nreturn C(x)\n") == "t.loss:2:1: error: curve 'C' needs at least 2 points, found 1")
        #expect(err("curve C = (0, 0), (0, 1)\nreturn C(x)\n") == "t.loss:2:1: error: all points of curve 'C' have the same x")
        #expect(err("curve C = (0, 0), (1, x)\nreturn C(x)\n") == "t.loss:2:23: error: expected a number for the point's y coordinate, found 'x'")
        #expect(err("curve C = (0, 0) (1, 1)\nreturn C(x)\n") == "t.loss:2:18: error: unexpected '(' at the end of the statement")
        #expect(err("curve C = (0, 0), (1, 1)\nreturn C\n") == "t.loss:3:8: error: unknown name 'C'")
        #expect(err("curve C = (0, 0), (1, 1)\nreturn C(x, y)\n") == "t.loss:3:8: error: C takes 1 argument, but 2 were given")
        #expect(err("curve exp = (0, 0), (1, 1)\nreturn x\n") == "t.loss:2:7: error: 'exp' is the name of an operator")
        // A curve whose definition failed is not reported again where it is used.
        do { _ = try Formula.parse(h + "curve C = (0, 1), (1, 0)\nreturn C(x) + C(y)\n") } catch { #expect(error.diagnostics.count == 1) }
        do {
            _ = try RankingFormula.parse(try example("pap_retinanet.loss"), curves: ["H9": [CurvePoint(x: 0, y: 0), CurvePoint(x: 1, y: 1)]])
            Issue.record("parsed")
        } catch { #expect((error as? DiagnosticError)?.diagnostics.first?.message == "the file has no curve 'H9'") }
    }

    /// Curves follow PAP's `_linear` exactly: the left segment (value and slope) at interior
    /// knots, the first segment at 0, zero-width segments never used, end segments extended.
    @Test func curvesMatchPAPLinear() throws {
        let sets: [[(Double, Double)]] = BruteForce.retinaNet + [
            [(0, 0), (0, 0.3), (0.5, 0.5), (1, 1)],                 // two points at x = 0
            [(0, 0), (0.25, 0.1), (0.25, 0.6), (0.75, 0.7), (1, 1)], // a jump (zero-width segment)
            [(0, 0), (0.5, 0.5), (1, 1)],
        ]
        for cp in sets {
            let pts = cp.map { "(\(formatNumber($0.0)), \(formatNumber($0.1)))" }.joined(separator: ", ")
            let loss = try compile("loss c: binary\ncurve C = \(pts)\nreturn C(x)\n")
            var xs = cp.map(\.0) + (0...40).map { Double($0) / 40 }
            xs += cp.map { $0.0 + 1e-9 } .filter { $0 <= 1 }
            for x in xs where x >= 0 && x <= 1 {
                let (v, slope) = binary(loss, x)
                #expect(close(v, BruteForce.linear(x, cp), 1e-12), "\(pts) at \(x)")
                // The derivative is the slope of the segment _linear picks.
                let idx = cp.filter { x > $0.0 }.count + (x == 0 ? cp.filter { $0.0 == 0 }.count : 0) - 1
                let want = (cp[idx + 1].1 - cp[idx].1) / (cp[idx + 1].0 - cp[idx].0)
                #expect(close(slope, want, 1e-12), "\(pts): slope at \(x) is \(slope), want \(want)")
            }
            // Outside [0, 1] the end segments extend.
            let c = Curve(name: "C", points: cp.map { CurvePoint(x: $0.0, y: $0.1) }, span: SourceSpan(start: 0, length: 0))
            #expect(close(binary(loss, 1.5).0, c.value(at: 1.5), 1e-12) && close(binary(loss, -0.5).0, c.value(at: -0.5), 1e-12))
        }
    }

    @Test func clampAndWithGradientConventions() throws {
        // In a ranking loss (never reordered) clamp passes the derivative at both bounds, as
        // torch.clamp does: d/dd clamp(d, 0, 1) at d = 0 and d = 1 is 1.
        let c = try RankingFormula.parse("loss c: ranking\nreturn sum_positive(pairsum(clamp(d, 0, 1), valid))\n")
        for (si, want) in [(0.0, -1.0), (-1.0, -1.0), (-0.5, -1.0), (0.1, 0.0), (-1.1, 0.0)] {
            // One positive at si and one negative at 0: d = -si for the pair (i, j); the self pair has d = 0.
            let r = RankingReference<Double>(c).evaluate(RankingBatch(s: [si, 0], y: [1, 0]))
            #expect(r.ds[1] == -want && r.ds[0] == want, "clamp' at d = \(-si): \(r.ds)")
        }
        // with_gradient: the value of the first argument, the derivative of the second.
        let w = try binaryLoss("with_gradient(x * x, 3 * x + 1e6)")
        let r = binary(w, 2.0)
        #expect(r.0 == 4 && r.1 == 3)
    }
}

import Foundation
import Testing
@testable import LossDSL
@testable import LossCheck
import LossTestSupport

/// The corpus of stage 1: losses that must be accepted (no property refuted) and losses that
/// must be rejected for a stated reason (the named property refuted). The reasons are worked
/// out by hand in the comments, independently of the checker.
struct ConvergenceCorpusTests {
    struct Entry: CustomTestStringConvertible, Sendable {
        let name: String
        let kind: LossKind
        /// A file in examples/, or the expression of a one-line loss.
        let source: String
        /// nil: accepted. Otherwise the property that must be refuted.
        let rejectedBy: String?
        var testDescription: String { name }
    }

    static func accept(_ name: String, _ kind: LossKind, _ source: String) -> Entry {
        Entry(name: name, kind: kind, source: source, rejectedBy: nil)
    }
    static func reject(_ name: String, _ kind: LossKind, _ source: String, _ id: String) -> Entry {
        Entry(name: name, kind: kind, source: source, rejectedBy: id)
    }

    static let corpus: [Entry] = [
        // binary: accepted
        accept("BCE", .binary, "bce.loss"),
        accept("focal", .binary, "focal.loss"),
        accept("CSE-Autoloss B_cls (checked with w = 1)", .binary, "cse_b_cls.loss"),
        accept("quality focal", .binary, "quality_focal.loss"),
        accept("varifocal", .binary, "varifocal.loss"),
        accept("exponential", .binary, "y * exp(-x) + (1 - y) * exp(x)"),
        accept("BCE via softplus", .binary, "y * softplus(-x) + (1 - y) * softplus(x)"),
        accept("BCE weighted by 1 + sin w", .binary, "(1 + sin(w)) * (y * softplus(-x) + (1 - y) * softplus(x))"),
        // binary: rejected
        // -BCE: a positive's loss log(sigmoid x) rises with x.
        reject("negated BCE", .binary, "y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))", "binary.positive-decreasing"),
        // A constant has dL/dx = 0: nothing falls.
        reject("constant", .binary, "1", "binary.positive-decreasing"),
        // sin rises on [-pi/2, pi/2].
        reject("sin", .binary, "sin(x)", "binary.positive-decreasing"),
        // log of a raw logit is NaN for x < 0.
        reject("log of a raw logit", .binary, "-y * log(x)", "binary.finite"),
        // sqrt of a raw logit is NaN for x < 0.
        reject("sqrt of a raw logit", .binary, "y * sqrt(x)", "binary.finite"),
        // 1/x is infinite at x = 0.
        reject("reciprocal", .binary, "y / x", "binary.finite"),
        // 1 - p for positives: dL/dx = -p(1 - p) = -3e-7 at x = -15.
        reject("probability error", .binary, "y * sigmoid(-x) + (1 - y) * sigmoid(x)", "binary.gradient-alive"),
        // tanh margin: sech^2(15) = 3.7e-13.
        reject("tanh margin", .binary, "y * tanh(-x) + (1 - y) * tanh(x)", "binary.gradient-alive"),
        // (x - 1)^2 rises for x > 1.
        reject("squared error on logits", .binary, "(x - y) ^ 2", "binary.positive-decreasing"),
        // Hinge: flat for x > 1.
        reject("hinge", .binary, "y * relu(1 - x) + (1 - y) * relu(1 + x)", "binary.positive-decreasing"),
        // Only positives: a negative's loss is identically 0.
        reject("positives only", .binary, "-y * log(sigmoid(x))", "binary.negative-increasing"),
        // Label smoothing (target 0.95): the positive's minimum is at x = log 19 = 2.94.
        reject("label smoothing", .binary,
               "-((0.9 * y + 0.05) * log(sigmoid(x)) + (1 - (0.9 * y + 0.05)) * log(1 - sigmoid(x)))", "binary.positive-decreasing"),

        // multiclass: accepted
        accept("cross-entropy", .multiclass, "cross_entropy.loss"),
        accept("CSE-Autoloss A_cls", .multiclass, "cse_a_cls.loss"),
        accept("multiclass focal", .multiclass, "-dot(y, (1 - softmax(x)) ^ 2 * log(softmax(x)))"),
        accept("one-vs-rest exponential", .multiclass, "dot(1 - y, exp(x)) + dot(y, exp(-x))"),
        // multiclass: rejected
        reject("negated cross-entropy", .multiclass, "dot(y, log(softmax(x)))", "multiclass.true-class-decreasing"),
        // -p_true: d/dx_true = -p(1 - p), about 1e-5 when the true logit is 10 below the rest.
        reject("negative probability", .multiclass, "-dot(y, softmax(x))", "multiclass.gradient-alive"),
        // sum(softmax(x)) = 1 whatever x.
        reject("constant (softmax sums to 1)", .multiclass, "sum(softmax(x))", "multiclass.true-class-decreasing"),
        reject("sin of the true logit", .multiclass, "-dot(y, sin(x))", "multiclass.true-class-decreasing"),
        reject("log of raw logits", .multiclass, "-dot(y, log(x))", "multiclass.finite"),
        // Label smoothing (0.02 per class): d/dx_j = p_j (0.9 + 0.02 C) - 0.02 < 0 for a small p_j.
        reject("label-smoothed cross-entropy", .multiclass, "-dot(0.9 * y + 0.02, log(softmax(x)))", "multiclass.other-class-increasing"),

        // box: accepted
        accept("IoU", .box, "iou.loss"),
        accept("GIoU", .box, "giou.loss"),
        accept("CSE-Autoloss A_reg", .box, "cse_a_reg.loss"),
        accept("CSE-Autoloss B_reg (negative everywhere)", .box, "cse_b_reg.loss"),
        accept("-log IoU, guarded", .box, "-log(i / u + 1e-7)"),
        accept("L1 on the corners", .box, "abs(x1 - tx1) + abs(y1 - ty1) + abs(x2 - tx2) + abs(y2 - ty2)"),
        // box: rejected
        // The predicted box's area: shrinking it always lowers the loss.
        reject("predicted area (rewards shrinking)", .box, "(x2 - x1) * (y2 - y1)", "box.grow"),
        // IoU loss plus 1% of the predicted area: for a 100×100 target, 1 - s^2 + 100 s^2 grows with s.
        reject("IoU loss plus an area penalty (rewards shrinking)", .box, "1 - i / u + 0.01 * (x2 - x1) * (y2 - y1)", "box.grow"),
        reject("negated GIoU", .box, "-(1 - (i / u - (e - u) / e))", "box.approach"),
        reject("constant", .box, "1", "box.approach"),
        reject("IoU instead of 1 - IoU", .box, "i / u", "box.approach"),
        // u + e is flat while a box inside the target grows (u = e = the target's area).
        reject("union plus enclosing area", .box, "u + e", "box.grow"),
        // -log(0) for disjoint boxes.
        reject("-log IoU, unguarded", .box, "-log(i / u)", "box.finite"),
        reject("log of the intersection", .box, "log(i)", "box.finite"),
        // DIoU without an epsilon: 0/0 for two identical point boxes.
        reject("DIoU without epsilon", .box,
               "1 - i / u + ((x1 + x2 - tx1 - tx2) ^ 2 + (y1 + y2 - ty1 - ty2) ^ 2) / 4 / ((max(x2, tx2) - min(x1, tx1)) ^ 2 + (max(y2, ty2) - min(y1, ty1)) ^ 2)",
               "box.finite"),
    ]

    @Test func corpusIsLargeAndMixed() {
        #expect(Self.corpus.count >= 30)
        for kind in [LossKind.binary, .multiclass, .box] {
            #expect(Self.corpus.contains { $0.kind == kind && $0.rejectedBy == nil })
            #expect(Self.corpus.contains { $0.kind == kind && $0.rejectedBy != nil })
        }
    }

    @Test(arguments: corpus)
    func verdict(_ e: Entry) throws {
        let text = e.source.hasSuffix(".loss") ? try example(e.source) : "loss t: \(e.kind.rawValue)\nreturn \(e.source)\n"
        let loss = try compile(text)
        let results = ConvergenceCheck.stage1(loss, budget: Stage1Budget(proofBoxes: 300))
        let refuted = results.filter { $0.verdict.isRefuted }.map(\.id)
        if let id = e.rejectedBy {
            #expect(refuted.contains(id), "\(e.name): expected \(id) refuted, got \(refuted)")
        } else {
            #expect(refuted.isEmpty, "\(e.name): \(results.filter { $0.verdict.isRefuted }.map { "\($0.id): \($0.detail)" })")
        }
        // The search's fast path agrees: it rejects exactly the losses that are rejected.
        let fast = ConvergenceCheck.stage1(loss, budget: .search)
        #expect(ConvergenceCheck.passes(fast) == (e.rejectedBy == nil), "\(e.name): fast path disagrees")
    }
}

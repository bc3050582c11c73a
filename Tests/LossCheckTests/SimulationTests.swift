import Foundation
import Testing
@testable import LossDSL
@testable import LossCheck
import LossTestSupport

/// Stage 2: the proxy tasks are deterministic, train with the candidate's real gradient, rank
/// the published losses above broken ones.
struct SimulationTests {
    /// One task per kind (seed 1), built once: each build trains the reference loss.
    static let tasks: [LossKind: ProxyTask] = Dictionary(uniqueKeysWithValues: [LossKind.binary, .multiclass, .box].map { ($0, ProxyTask(kind: $0)!) })

    @Test func averagePrecisionByHand() {
        // Ranks 1 and 3 are positives: (1/1 + 2/3) / 2.
        #expect(close(Metrics.averagePrecision(scores: [0.9, 0.8, 0.7, 0.6], labels: [1, 0, 1, 0]), 5.0 / 6.0, 1e-15))
        // A constant score earns nothing: ties put the negatives first.
        #expect(close(Metrics.averagePrecision(scores: [1, 1, 1, 1], labels: [0, 1, 0, 0]), 0.25, 1e-15))
        #expect(Metrics.averagePrecision(scores: [1, 2], labels: [0, 0]) == 0)
    }

    /// CSE-Autoloss's conventions (`alphaT`): α_t multiplied outside the formula and w = 0 for
    /// negatives train exactly like the plain proxy on formulas that write both in by hand.
    @Test func alphaTIsTheWeightWrittenOutside() throws {
        let plain = try #require(ProxyTask(kind: .binary, seed: 5)), cse = try #require(ProxyTask(kind: .binary, seed: 5, alphaT: 0.25))
        func score(_ task: ProxyTask, _ text: String) throws -> Double {
            let run = task.run(ColumnBatchLoss(CompiledLoss.compile(try Formula.parse(text))))
            #expect(run.failure == nil)
            return run.score
        }
        let bce = "loss b: binary\nreturn -(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))\n"
        let weighted = "loss b: binary\nreturn -(0.25 * y * log(sigmoid(x)) + 0.75 * (1 - y) * log(1 - sigmoid(x)))\n"
        #expect(abs(try score(cse, bce) - score(plain, weighted)) < 1e-9)
        // A formula reading w: the negatives' term vanishes under the IoU target (w = 0 there).
        let readsW = "loss r: binary\nreturn -(w * y * log(sigmoid(x)) + w * (1 - y) * log(1 - sigmoid(x)))\n"
        let positivesOnly = "loss r: binary\nreturn -(0.25 * w * y * log(sigmoid(x)))\n"
        #expect(abs(try score(cse, readsW) - score(plain, positivesOnly)) < 1e-9)
        // and the conventions change the result: the same formula scores differently without them
        #expect(try score(cse, readsW) != score(plain, readsW))
        #expect(cse.reference != plain.reference)
    }

    @Test(arguments: [LossKind.binary, .multiclass, .box])
    func deterministicForASeed(_ kind: LossKind) throws {
        let a = try #require(ProxyTask(kind: kind, seed: 7)), b = try #require(ProxyTask(kind: kind, seed: 7))
        let c = try #require(Self.tasks[kind])
        #expect(a.reference == b.reference && a.floor == b.floor)
        #expect(a.reference != c.reference)
        #expect(a.reference > a.floor)
    }

    /// The trainers' parameter gradient (the chain rule through the candidate's per-sample
    /// gradient) against central differences of the mean training loss.
    @Test(arguments: ["focal.loss", "cse_a_cls.loss", "cse_b_reg.loss"])
    func trainerGradientMatchesFiniteDifferences(_ name: String) throws {
        let loss = try compile(try example(name))
        let task = try #require(ProxyTask(kind: loss.kind, seed: 3))
        let batch = ColumnBatchLoss(loss)
        var r = TestRandom(5)
        let p = (0..<task.parameterCount).map { _ in r.uniform(-0.1, 0.1) }
        let o = task.objective(batch, p)
        #expect(o.failure == nil)
        for k in stride(from: 0, to: p.count, by: 3) {
            let fd = centralDifference({ v in var q = p; q[k] = v; return task.objective(batch, q).value }, at: p[k], step: 1e-6)
            #expect(Swift.abs(o.gradient[k] - fd) <= 1e-5 * Swift.max(1, Swift.abs(fd)), "\(name) parameter \(k): \(o.gradient[k]) vs \(fd)")
        }
    }

    @Test func referenceRunIsTheStandardLoss() throws {
        for (kind, name) in [(LossKind.binary, "bce.loss"), (.multiclass, "cross_entropy.loss"), (.box, "giou.loss")] {
            let task = try #require(Self.tasks[kind])
            let r = Simulation.stage2(try compile(try example(name)), task: task)
            #expect(r.score == task.reference && r.passed && r.ratio == 1, "\(name): \(r.summary)")
        }
    }

    @Test(arguments: ["focal.loss", "cse_b_cls.loss", "quality_focal.loss", "varifocal.loss", "cse_a_cls.loss",
                      "iou.loss", "cse_a_reg.loss", "cse_b_reg.loss"])
    func publishedLossesPass(_ name: String) throws {
        let loss = try compile(try example(name))
        let r = Simulation.stage2(loss, task: try #require(Self.tasks[loss.kind]))
        #expect(r.passed, "\(name): \(r.summary)")
    }

    @Test(arguments: [
        ("binary", "y * sigmoid(-x) + (1 - y) * sigmoid(x)"),   // the gradient dies on wrong predictions
        ("binary", "y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))"),   // negated BCE
        ("binary", "1"),
        ("multiclass", "dot(y, log(softmax(x)))"),                // negated cross-entropy
        ("box", "i / u"),                                        // IoU instead of 1 - IoU
        ("box", "1"),
    ])
    func brokenLossesFail(_ kind: String, _ expr: String) throws {
        let loss = try compile("loss t: \(kind)\nreturn \(expr)\n")
        let r = Simulation.stage2(loss, task: try #require(Self.tasks[loss.kind]))
        #expect(!r.passed, "\(expr): \(r.summary)")
    }

    @Test func nonFiniteGradientStopsTraining() throws {
        // log of a raw logit: the logits start at 0, where d/dx(-log x) is infinite.
        let r = Simulation.stage2(try binaryLoss("-y * log(x)"), task: try #require(Self.tasks[.binary]))
        #expect(!r.passed && r.failure?.contains("non-finite gradient") == true && r.summary.hasPrefix("training failed"))
    }

    @Test func referenceEvaluatorTrainsTheSame() throws {
        // The trainer is the same code whichever BatchLoss it is given.
        let loss = try compile(try example("cse_a_reg.loss"))
        let task = try #require(ProxyTask(kind: .box, seed: 2))
        #expect(task.run(ColumnBatchLoss(loss)).score == task.run(ReferenceBatchLoss(loss)).score)
    }
}

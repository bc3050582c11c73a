import Foundation
import LossDSL
import Synchronization
import Testing
@testable import Codegen

struct ClosureAPITests {
    /// The mean is the sum over n, and the gradient of the mean is the per-sample gradient over n.
    @Test func meanAndSumReductions() throws {
        let k = try LossKernel<Double>(file: examplesDirectory.appendingPathComponent("focal.loss").path, math: .libm)
        let b = Batch.random(.binary, count: 777, seed: 5)
        let sum = try k.evaluate(x: b.x, y: b.y, w: b.w, reduction: .sum, perElement: true, gradient: true)
        let mean = try k.evaluate(x: b.x, y: b.y, w: b.w, reduction: .mean, gradient: true)
        let ref = reference(k.loss, b, as: Double.self)
        #expect(abs(sum.value - ref.loss.reduce(0, +)) <= 1e-9 * abs(sum.value))
        #expect(abs(mean.value - sum.value / 777) <= 1e-15 * abs(mean.value))
        let gs = try #require(sum.gradient), gm = try #require(mean.gradient)
        for i in 0..<777 { #expect(gm[i] == gs[i] / 777) }
        #expect(mean.perElement == nil)
        #expect(sum.count == 777)
    }

    /// Without a gradient the value-only program runs and gives the same per-sample losses.
    @Test func valueWithoutGradient() throws {
        for name in ["focal", "cross_entropy", "giou"] {
            let c = try exampleLoss(name)
            let k = try LossKernel<Float>(compiled: c)
            #expect(k.valueProgram.instructions.count < k.gradientProgram.instructions.count)
            let b = Batch.random(c.kind, count: 300, classes: 10, seed: 9)
            let (withGradient, _) = try closures(k, b)
            let r: LossResult<Float>
            if c.kind == .box {
                r = try k.evaluate(predicted: b.predicted.map(Float.init), target: b.target.map(Float.init), reduction: .sum, perElement: true)
            } else {
                r = try k.evaluate(x: b.x.map(Float.init), y: b.y.map(Float.init), w: b.w.map(Float.init),
                                   classes: c.kind == .multiclass ? 10 : nil, reduction: .sum, perElement: true)
            }
            #expect(r.perElement == withGradient.loss, "\(name)")
            #expect(r.gradient == nil)
        }
    }

    /// An omitted w is w = 1.
    @Test func omittedWeightIsOne() throws {
        let k = try LossKernel<Float>(file: examplesDirectory.appendingPathComponent("quality_focal.loss").path)
        let x: [Float] = [-3, -0.5, 0, 2, 7], y: [Float] = [0, 1, 1, 0, 1]
        let a = try k.evaluate(x: x, y: y, perElement: true, gradient: true)
        let b = try k.evaluate(x: x, y: y, w: [1, 1, 1, 1, 1], perElement: true, gradient: true)
        #expect(a.perElement == b.perElement && a.gradient == b.gradient && a.value == b.value)
    }

    /// Params given to the kernel reach the compiled loss (gamma = 0 focal is alpha-weighted BCE).
    @Test func paramsOverrideDefaults() throws {
        let focal = try LossKernel<Double>(file: examplesDirectory.appendingPathComponent("focal.loss").path,
                                           params: ["gamma": 0, "alpha": 0.5])
        let bce = try LossKernel<Double>(file: examplesDirectory.appendingPathComponent("bce.loss").path)
        let x: [Double] = [-4, -1, 0.25, 3], y: [Double] = [1, 0, 1, 0]
        let f = try focal.evaluate(x: x, y: y, reduction: .sum, perElement: true)
        let c = try bce.evaluate(x: x, y: y, reduction: .sum, perElement: true)
        for (a, b) in zip(f.perElement ?? [], c.perElement ?? []) { #expect(abs(a - 0.5 * b) <= 1e-15 * b) }
    }

    /// An empty batch: sum 0, mean NaN, empty outputs.
    @Test func emptyBatch() throws {
        let k = try LossKernel<Float>(compiled: try exampleLoss("bce"))
        let s = try k.evaluate(x: [], y: [], reduction: .sum, perElement: true, gradient: true)
        #expect(s.value == 0 && s.perElement == [] && s.gradient == [])
        #expect(try k.evaluate(x: [], y: []).value.isNaN)
    }

    /// Wrong sizes and the wrong overload for the kind are errors with a message, never a trap.
    @Test func badCallsThrow() throws {
        let bce = try LossKernel<Float>(compiled: try exampleLoss("bce"))
        let ce = try LossKernel<Float>(compiled: try exampleLoss("cross_entropy"))
        let giou = try LossKernel<Float>(compiled: try exampleLoss("giou"))
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { _ = try bce.evaluate(x: [1, 2], y: [1]) } == "y has 1 values but x has 2")
        #expect(message { _ = try bce.evaluate(x: [1, 2], y: [1, 0], w: [1]) } == "w has 1 values for 2 samples")
        #expect(message { _ = try bce.evaluate(x: [1, 2], y: [1, 0], classes: 2) }.contains("binary loss: it has no classes"))
        #expect(message { _ = try ce.evaluate(x: [1, 2], y: [1, 0]) }.contains("pass classes:"))
        #expect(message { _ = try ce.evaluate(x: [1, 2, 3], y: [1, 0, 0], classes: 2) }.contains("not a whole number of rows"))
        #expect(message { _ = try ce.evaluate(x: [1, 2], y: [1, 0], classes: 0) }.contains("pass classes:"))
        #expect(message { _ = try giou.evaluate(x: [1], y: [1]) }.contains("call evaluate(predicted:target:)"))
        #expect(message { _ = try bce.evaluate(predicted: [0, 0, 1, 1], target: [0, 0, 1, 1]) }.contains("call evaluate(x:y:w:)"))
        #expect(message { _ = try giou.evaluate(predicted: [0, 0, 1], target: [0, 0, 1]) } == "predicted has 3 values, not 4 per box")
        #expect(message {
            var out = [Float](repeating: 0, count: 3)
            try [Float](repeating: 0, count: 2).withUnsafeBufferPointer { x in
                try out.withUnsafeMutableBufferPointer { o in _ = try bce.evaluate(x: x, y: x, perElement: o) }
            }
        } == "perElement has 3 slots for 2 samples")
        #expect(message { _ = try LossKernel<Float>(file: "/nonexistent/x.loss") } == "cannot read '/nonexistent/x.loss'")
        #expect(message { _ = try LossKernel<Float>(source: "loss t: binary\nreturn sigmoud(x)\n") }.contains("DiagnosticError"))
    }

    /// Buffers and a caller-owned workspace give the array API's results, and one workspace
    /// serves kernels of different kinds and class counts in turn.
    @Test func buffersAndOwnWorkspace() throws {
        let ws = Workspace<Float>()
        for (name, classes) in [("cross_entropy", 81), ("focal", 1), ("cross_entropy", 3), ("giou", 1), ("cse_a_cls", 500)] {
            let c = try exampleLoss(name)
            let k = try LossKernel<Float>(compiled: c)
            let b = Batch.random(c.kind, count: 50, classes: classes, seed: UInt64(classes))
            let (expected, total) = try closures(k, b)
            var pe = [Float](repeating: .nan, count: 50), g = [Float](repeating: .nan, count: expected.gradient.count)
            let value: Float
            if c.kind == .box {
                let p = b.predicted.map(Float.init), t = b.target.map(Float.init)
                value = try p.withUnsafeBufferPointer { pb in
                    try t.withUnsafeBufferPointer { tb in
                        try pe.withUnsafeMutableBufferPointer { peb in
                            try g.withUnsafeMutableBufferPointer { gb in
                                try k.evaluate(predicted: pb, target: tb, reduction: .sum, perElement: peb, gradient: gb, workspace: ws)
                            }
                        }
                    }
                }
            } else {
                let x = b.x.map(Float.init), y = b.y.map(Float.init), w = b.w.map(Float.init)
                let cl = c.kind == .multiclass ? classes : nil
                value = try x.withUnsafeBufferPointer { xb in
                    try y.withUnsafeBufferPointer { yb in
                        try w.withUnsafeBufferPointer { wb in
                            try pe.withUnsafeMutableBufferPointer { peb in
                                try g.withUnsafeMutableBufferPointer { gb in
                                    try k.evaluate(x: xb, y: yb, w: wb, classes: cl, reduction: .sum, perElement: peb, gradient: gb, workspace: ws)
                                }
                            }
                        }
                    }
                }
            }
            #expect(value == total && pe == expected.loss && g == expected.gradient, "\(name) x \(classes)")
        }
    }

    /// Calls from several threads at once (the pool hands out workspaces) give bit-identical
    /// results to a call made alone.
    @Test func concurrentCallsGiveIdenticalResults() throws {
        let cases: [(CompiledLoss, Batch)] = try [
            (exampleLoss("focal"), Batch.random(.binary, count: 5000, seed: 1)),
            (exampleLoss("cross_entropy"), Batch.random(.multiclass, count: 300, classes: 81, seed: 2)),
            (exampleLoss("giou"), Batch.random(.box, count: 3000, seed: 3)),
        ]
        for (c, b) in cases {
            let k = try LossKernel<Float>(compiled: c)
            let (alone, total) = try closures(k, b)
            let mismatches = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                let same = (try? closures(k, b)).map { $0.0.loss == alone.loss && $0.0.gradient == alone.gradient && $0.1 == total } ?? false
                if !same { mismatches.withLock { $0 += 1 } }
            }
            #expect(mismatches.withLock { $0 } == 0, "\(c.formula.name)")
        }
    }

    /// The program reuses registers: focal's value and gradient (41 graph nodes) fit in a
    /// handful of work registers, and constants (params) are folded away.
    @Test func scheduleReusesRegisters() throws {
        let k = try LossKernel<Float>(compiled: try exampleLoss("focal"))
        let p = k.gradientProgram
        #expect(p.registerCount - p.inputCount - p.constantRegisters.count <= 12, "\(p)")
        #expect(!p.instructions.contains { $0.op == .stopGradient })
        // 1 - alpha and gamma - 1 are folded: no instruction reads only constants.
        #expect(!p.instructions.contains { ins in ins.args.allSatisfy { if case .constant = $0 { true } else { false } } })
        #expect(p.description.contains("outputs: "))
    }
}

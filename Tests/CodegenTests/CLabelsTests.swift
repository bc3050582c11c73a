import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The multiclass `NAME_labels_f32/_f64` kernels: class indices in, the same bits out as the
/// one-hot kernel on the one-hot rows those indices stand for (an index equal to the class
/// count: the all-zero row); a negative index ignores its sample (loss and gradient 0), one
/// beyond the class count gives NaN. Rows of 7 and 81 classes (the cached row path) and one
/// past `LOSSC_ROW` (the streamed path, whose one-hot row is allocated per chunk), on every
/// multiclass example and random multiclass formulas, 1 and 2 threads.
@Suite(.serialized) struct CLabelsTests {
    typealias Kernel = @convention(c) (Int, Int, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?,
                                       UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Double
    typealias SetThreads = @convention(c) (Int32) -> Void

    static var losses: [(loss: CompiledLoss, name: String)] { CMultiversionTests.losses.filter { $0.loss.kind == .multiclass } }

    /// One kernel call on the arrays' storage (x, w, the outputs: `T`; y: `T` or `Int64` labels).
    static func call<T: LossReal, L>(_ kernel: Kernel, _ n: Int, _ classes: Int, _ x: [T], _ y: [L], _ w: [T],
                                     loss: inout [T], gradient: inout [T]) -> Double {
        x.withUnsafeBytes { xp in
            y.withUnsafeBytes { yp in
                w.withUnsafeBytes { wp in
                    loss.withUnsafeMutableBytes { lp in
                        gradient.withUnsafeMutableBytes { gp in
                            kernel(n, classes, xp.baseAddress, yp.baseAddress, wp.baseAddress, nil, lp.baseAddress, gp.baseAddress)
                        }
                    }
                }
            }
        }
    }

    func check<T: LossReal>(_ lib: NativeLibrary, _ name: String, as: T.Type) throws {
        let suffix = T.self == Float.self ? "f32" : "f64"
        let onehotKernel = unsafeBitCast(try #require(lib.symbol("\(name)_\(suffix)")), to: Kernel.self)
        let labelsKernel = unsafeBitCast(try #require(lib.symbol("\(name)_labels_\(suffix)")), to: Kernel.self)
        let setThreads = unsafeBitCast(try #require(lib.symbol("\(name)_set_threads")), to: SetThreads.self)
        for (classes, n) in [(7, 300), (81, 900), (CPrelude.row + 52, 40)] {
            var rng = SeededGenerator(seed: UInt64(classes))
            let batch = TestInputs.batch(.multiclass, n: n, classes: classes, seed: 21, as: T.self)
            let x = batch.arrays[0], w = batch.arrays[2]
            // Every class, the background index (classes), and ignored rows (-1, -100).
            var labels = (0..<n).map { _ in Int64.random(in: 0...Int64(classes), using: &rng) }
            for i in stride(from: 5, to: n, by: 11) { labels[i] = i % 2 == 0 ? -1 : -100 }
            var y = [T](repeating: 0, count: n * classes)
            for (i, c) in labels.enumerated() where c >= 0 && c < classes { y[i * classes + Int(c)] = 1 }
            for threads: Int32 in [1, 2] {
                setThreads(threads)
                var l1 = [T](repeating: 0, count: n), g1 = [T](repeating: 0, count: n * classes)
                var l2 = [T](repeating: 0, count: n), g2 = [T](repeating: 0, count: n * classes)
                _ = Self.call(onehotKernel, n, classes, x, y, w, loss: &l1, gradient: &g1)
                let sum = Self.call(labelsKernel, n, classes, x, labels, w, loss: &l2, gradient: &g2)
                var expected = 0.0
                for i in 0..<n {
                    let row = (i * classes)..<((i + 1) * classes)
                    if labels[i] < 0 {
                        #expect(l2[i] == 0 && g2[row].allSatisfy { $0 == 0 }, "\(name) C=\(classes): ignored row \(i) not zero")
                    } else {
                        #expect(l2[i].bitPattern64 == l1[i].bitPattern64 || (l2[i].isNaN && l1[i].isNaN), "\(name) C=\(classes) row \(i): \(l2[i]) vs \(l1[i])")
                        #expect(zip(g2[row], g1[row]).allSatisfy { $0.bitPattern64 == $1.bitPattern64 || ($0.isNaN && $1.isNaN) },
                                "\(name) C=\(classes) row \(i): gradients differ")
                        expected += Double(l2[i])
                    }
                }
                // The sum is the per-sample values' (ignored rows add 0), to rounding order.
                #expect(sum == expected || (sum.isNaN && expected.isNaN) || abs(sum - expected) <= 1e-12 * max(1, abs(expected)),
                        "\(name) C=\(classes): sum \(sum) vs \(expected)")
            }
            setThreads(1)
            // A label beyond the class count is a data error: NaN, loudly.
            var bad = labels
            bad[0] = Int64(classes) + 1
            var l3 = [T](repeating: 0, count: n), g3 = [T](repeating: 0, count: n * classes)
            #expect(Self.call(labelsKernel, n, classes, x, bad, w, loss: &l3, gradient: &g3).isNaN && l3[0].isNaN && g3[0].isNaN,
                    "\(name) C=\(classes): label > C")
        }
    }

    @Test func labelsGiveTheOneHotKernelsBits() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let losses = Self.losses
        #expect(losses.count >= 6)
        let lib = try CHarness.build(CEmitter.bundle(losses), tag: "labels", compiler: cc,
                                     flags: SystemCompiler.optimizeFlags + CHarness.strictFlags)
        for (_, name) in losses {
            try check(lib, name, as: Float.self)
            try check(lib, name, as: Double.self)
        }
    }
}

private extension LossReal {
    /// The value's bits, widened (Float through Double is exact).
    var bitPattern64: UInt64 { Double(self).bitPattern }
}

import Foundation
import Testing
@testable import Codegen
import LossDSL

/// Compiles emitted C with the system compiler into a shared library in a temporary
/// directory, loads it, and checks kernels against the reference evaluator.
enum CHarness {
    /// The compiler the tests use, or nil (then tests record a skip message and pass).
    static let compiler: SystemCompiler? = SystemCompiler.find()

    static let strictFlags = ["-Wall", "-Wextra", "-Werror", "-std=c99", "-pedantic"]

    /// A fresh temporary directory for one test.
    static func temporaryDirectory(_ tag: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("lossc-ctest-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `source`, builds it as a shared library with `flags` and loads it.
    static func build(_ source: String, tag: String, compiler: SystemCompiler,
                      flags: [String] = ["-O2", "-fno-math-errno"] + strictFlags) throws -> NativeLibrary {
        let dir = try temporaryDirectory(tag)
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = dir.appendingPathComponent("k.c").path, so = dir.appendingPathComponent("k.so").path
        try source.write(toFile: c, atomically: true, encoding: .utf8)
        let out = compiler.sharedLibrary(sources: [c], output: so, flags: flags)
        try #require(out.succeeded, "\(compiler.path) failed on \(tag):\n\(out.text.prefix(4000))")
        return try NativeLibrary(path: so)
    }

    /// Records why a test did nothing.
    static func skip(_ why: String) {
        print("SKIPPED: \(why)")
    }
}

/// A batch of inputs for one kind, in the kernel layout, and per-sample reference inputs.
struct CBatch<T: LossReal> {
    var n: Int
    var classes: Int
    /// x, y, w (binary, multiclass) or pred, target (box), flattened.
    var arrays: [[T]]

    /// The reference evaluator's inputs for sample i.
    func sample<U: LossReal>(_ i: Int, kind: LossKind, as: U.Type) -> [InputValue<U>] {
        func u(_ v: T) -> U { U(Double(v)) }
        switch kind {
        case .multiclass:
            let r = i * classes..<(i + 1) * classes
            return [.vector(arrays[0][r].map(u)), .vector(arrays[1][r].map(u)), .scalar(u(arrays[2][i]))]
        case .box:
            return [.scalar(0), .scalar(0), .scalar(0)] + (0..<4).map { .scalar(u(arrays[0][4 * i + $0])) }
                + (0..<4).map { .scalar(u(arrays[1][4 * i + $0])) }
        default:
            return [.scalar(u(arrays[0][i])), .scalar(u(arrays[1][i])), .scalar(u(arrays[2][i]))]
        }
    }

    /// Gradient values per sample.
    func gradientWidth(_ kind: LossKind) -> Int { kind == .box ? 4 : (kind == .multiclass ? classes : 1) }
}

/// Deterministic test inputs, including extremes (logits at ±30 and ±100, degenerate boxes).
enum TestInputs {
    static let extremeLogits: [Double] = [-100, -30, -5, -1, -0.5, 0, 0.5, 1, 5, 30, 100]

    static func batch<T: LossReal>(_ kind: LossKind, n: Int, classes: Int = 1, seed: UInt64, as: T.Type) -> CBatch<T> {
        var rng = SeededGenerator(seed: seed)
        func uniform(_ lo: Double, _ hi: Double) -> Double { Double.random(in: lo..<hi, using: &rng) }
        switch kind {
        case .multiclass:
            var x: [T] = [], y: [T] = [], w: [T] = []
            for i in 0..<n {
                let hot = Int.random(in: 0..<classes, using: &rng)
                for k in 0..<classes {
                    let e = (i * classes + k) % 13 == 0 ? extremeLogits[(i + k) % extremeLogits.count] : uniform(-6, 6)
                    x.append(T(e)); y.append(k == hot ? 1 : 0)
                }
                w.append(T(i % 5 == 0 ? 1 : uniform(0, 1)))
            }
            return CBatch(n: n, classes: classes, arrays: [x, y, w])
        case .box:
            var p: [T] = [], t: [T] = []
            for i in 0..<n {
                let x1 = uniform(0, 500), y1 = uniform(0, 500), w = uniform(1, 300), h = uniform(1, 300)
                let box = [x1, y1, x1 + w, y1 + h]
                var target = [x1 + uniform(-50, 50), y1 + uniform(-50, 50), 0, 0]
                target[2] = target[0] + uniform(1, 300); target[3] = target[1] + uniform(1, 300)
                if i % 17 == 0 { target = box }                                       // perfect box
                if i % 19 == 0 { target = [x1 + w + 10, y1 + h + 10, x1 + w + 20, y1 + h + 30] }  // disjoint
                p += box.map { T($0) }; t += target.map { T($0) }
            }
            return CBatch(n: n, classes: 1, arrays: [p, t])
        default:
            var x: [T] = [], y: [T] = [], w: [T] = []
            for i in 0..<n {
                x.append(T(i < extremeLogits.count ? extremeLogits[i] : uniform(-8, 8)))
                y.append(T(i % 2))
                w.append(T(i % 7 == 0 ? 1 : (i % 11 == 0 ? 0 : uniform(0, 1))))
            }
            return CBatch(n: n, classes: 1, arrays: [x, y, w])
        }
    }
}

/// What a kernel returned for a batch.
struct KernelOutput<T: LossReal> {
    var sum: Double
    var loss: [T]
    var gradient: [T]
}

extension NativeKernel {
    /// Runs the kernel on a batch; `gradient: false` passes NULL for it, `loss: false` too.
    func run<T: LossReal>(_ b: CBatch<T>, params: [Double]? = nil, loss wantLoss: Bool = true, gradient wantGradient: Bool = true) -> KernelOutput<T>? {
        var loss = [T](repeating: .nan, count: b.n)
        var grad = [T](repeating: .nan, count: b.n * b.gradientWidth(kind))
        let arrays = b.arrays
        return withPointers(arrays) { inputs in
            let sum: Double? = loss.withUnsafeMutableBufferPointer { l in
                grad.withUnsafeMutableBufferPointer { g in
                    let lp = wantLoss ? l.baseAddress : nil, gp = wantGradient ? g.baseAddress : nil
                    if let params {
                        return params.withUnsafeBufferPointer {
                            self.call(n: b.n, classes: b.classes, inputs: inputs, params: $0.baseAddress, loss: lp, gradient: gp)
                        }
                    }
                    return self.call(n: b.n, classes: b.classes, inputs: inputs, params: nil, loss: lp, gradient: gp)
                }
            }
            return sum.map { KernelOutput(sum: $0, loss: loss, gradient: grad) }
        }
    }
}

/// Calls `body` with stable pointers to every array.
func withPointers<T, R>(_ arrays: [[T]], _ body: ([UnsafePointer<T>?]) -> R) -> R {
    var pointers: [UnsafePointer<T>?] = []
    func go(_ i: Int) -> R {
        if i == arrays.count { return body(pointers) }
        return arrays[i].withUnsafeBufferPointer { p in pointers.append(p.baseAddress); return go(i + 1) }
    }
    return go(0)
}

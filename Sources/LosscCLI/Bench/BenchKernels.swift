import CLossBench
import Codegen
import Foundation
import LossDSL

/// `lossc bench closures`: float32 value + gradient of focal, BCE, cross-entropy and GIoU over
/// about 4M elements, in ns per element, for the reference evaluator, the closures, hand-written
/// Swift loops and hand-written C loops of the same losses, all measured in this run; then the
/// ratios the closure backend is held to.
enum BenchKernels {
    static let options = [
        OptionSpec(name: "elements", value: "N", help: "closures, c: elements per loss (default 4194304; multiclass rows = N/81)."),
        OptionSpec(name: "repeat", value: "N", help: "closures, c, ranking: timed runs per variant, the best is kept (default 5; c: 25)."),
        OptionSpec(name: "examples", value: "DIR", help: "closures: directory of the .loss files (default examples)."),
        OptionSpec(name: "loss", value: "NAME,…", help: "closures: only these (focal, bce, cross_entropy, giou)."),
    ]

    /// One benchmarked loss: its file and its hand-written baselines.
    struct Case {
        let name: String
        let file: String
        let kind: LossKind
        /// Hand-written loops: (name, run(gradient?) -> sum of losses).
        let baselines: [(String, (UnsafeMutablePointer<Float>?) -> Double)]
    }

    /// A measured time: best of `repeatCount` runs (at least one) in ns per element.
    static func time(_ repeatCount: Int, elements: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repeatCount) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            let t1 = DispatchTime.now().uptimeNanoseconds
            best = min(best, Double(t1 - t0) / Double(elements))
        }
        return best
    }

    static func run(_ a: Arguments) throws -> ExitStatus {
        let elements = try positive(a.value("elements") ?? "4194304", "elements")
        let repeatCount = try positive(a.value("repeat") ?? "5", "repeat")
        let dir = a.value("examples") ?? "examples"
        let only = a.value("loss").map { $0.split(separator: ",").map(String.init) } ?? names
        for name in only where !names.contains(name) {
            throw UsageError("--loss: unknown benchmark loss '\(name)'", hint: "available: " + names.joined(separator: ", "))
        }
        let data = BenchData(elements: elements)
        Terminal.write("lossc bench closures: float32, value + gradient, ns per element (best of \(repeatCount) interleaved rounds), "
                       + "\(ProcessInfo.processInfo.activeProcessorCount) cores\n")
        Terminal.write("  binary: \(data.n) elements; multiclass: \(data.rows) rows x \(BenchData.classes) classes; box: \(data.n) box pairs\n\n")
        Terminal.write("loss            reference  closures  value-only  closures(libm)  " + "hand-written: Swift(libm)  Swift(vector)  C(libm)  C(vector)   agree\n")
        Terminal.flush()
        var summary: [String] = []
        for c in cases(data) where only.contains(c.name) {
            let path = dir + "/" + c.file
            let kernel: LossKernel<Float>, exact: LossKernel<Float>
            do {
                kernel = try LossKernel<Float>(file: path)
                exact = try LossKernel<Float>(file: path, math: .libm)
            } catch let e as DiagnosticError {
                Terminal.error(e.render(color: Terminal.stderrColor))
                throw Failure(status: .badInput)
            } catch {
                throw UsageError("\(error)", hint: "run from the repository root, or pass --examples DIR")
            }
            let count = c.kind == .multiclass ? data.rows * BenchData.classes : data.n
            let gradient = UnsafeMutablePointer<Float>.allocate(capacity: c.kind == .box ? 4 * data.n : count)
            let check = UnsafeMutablePointer<Float>.allocate(capacity: c.kind == .box ? 4 * data.n : count)
            defer { gradient.deallocate(); check.deallocate() }
            let gradientCount = c.kind == .box ? 4 * data.n : count

            let ref = referenceTime(kernel.loss, data)
            // Every variant is timed once per round, rounds repeat, and each keeps its best:
            // on a shared machine a burst of load then hits all variants alike.
            var closureSum = 0.0
            var sums = [Double](repeating: 0, count: c.baselines.count)
            var variants: [() -> Void] = [
                { closureSum = data.call(kernel, gradient: gradient) },
                { _ = data.call(kernel, gradient: nil) },
                { _ = data.call(exact, gradient: check) },
            ]
            for (j, (_, body)) in c.baselines.enumerated() { variants.append { sums[j] = body(check) } }
            var best = [Double](repeating: .infinity, count: variants.count)
            for v in variants { v() }  // warm-up: page in the buffers, fill the pools
            for _ in 0..<repeatCount {
                for (j, v) in variants.enumerated() { best[j] = min(best[j], time(0, elements: count, v)) }
            }
            let (closures, valueOnly, libm) = (best[0], best[1], best[2])
            let hand = Array(best[3...])
            // How far the baselines are from the closures: sums relative, gradients relative to
            // their largest entry (the gradient buffer holds the last baseline's, C(vector)).
            _ = data.call(kernel, gradient: gradient)
            var gmax: Float = 0, dmax: Float = 0
            for i in 0..<gradientCount where c.kind != .box || !data.tie(i / 4) {
                gmax = max(gmax, abs(gradient[i])); dmax = max(dmax, abs(gradient[i] - check[i]))
            }
            var agree = Double(dmax / max(gmax, 1e-30))
            for s in sums { agree = max(agree, abs(s - closureSum) / max(abs(closureSum), 1e-30)) }
            func f(_ v: Double, _ w: Int) -> String { String(format: "%.2f", v).padded(w) }
            Terminal.write(c.name.padded(16) + f(ref, 11) + f(closures, 10) + f(valueOnly, 12) + f(libm, 16) + "".padded(14)
                           + f(hand[0], 13) + f(hand[1], 15) + f(hand[2], 9) + f(hand[3], 11) + String(format: "%.0e", agree) + "\n")
            Terminal.flush()
            let bestSwift = min(hand[0], hand[1])
            summary.append(c.name.padded(16) + String(format: "%8.0fx", ref / closures).padded(14)
                           + String(format: "%.2fx", closures / bestSwift).padded(18)
                           + String(format: "%.2fx", closures / hand[3]).padded(16)
                           + String(format: "%.2fx", closures / valueOnly))
        }
        Terminal.write("\nratios          reference/closures  closures/best Swift  closures/C(vector)  (value+gradient)/value\n")
        Terminal.write("target          >= 20x              <= 1.5x              -                   <= 3x\n")
        for s in summary { Terminal.write(s + "\n") }
        Terminal.write("\nSwift(libm): one scalar loop with libm expf/log1pf; Swift(vector): blocks of 1024 through the same C block\n"
                       + "functions as the closures (lossc_vexpf, lossc_vlog1pf); C: Sources/CLossBench, -O3 -fno-math-errno, built by\n"
                       + "this toolchain; the same loops with libm or lossc_math.h. agree: largest relative difference between the\n"
                       + "closures and the hand-written loops (sum of losses, gradient relative to its largest entry; box pairs with a\n"
                       + "coordinate equal to the target's, where min/max have a kink, are skipped).\n")
        return .success
    }

    static func positive(_ s: String, _ name: String) throws -> Int {
        guard let n = Int(s), n > 0 else { throw UsageError("--\(name): '\(s)' is not a positive integer") }
        return n
    }

    /// The benchmarked losses, in order.
    static let names = ["focal", "bce", "cross_entropy", "giou"]

    static func cases(_ d: BenchData) -> [Case] {
        let n = d.n, rows = d.rows, c = BenchData.classes
        return [
            Case(name: "focal", file: "focal.loss", kind: .binary, baselines: [
                ("Swift(libm)", { HandLoops.focalLibm(d.x, d.y, $0, n, alpha: 0.25) }),
                ("Swift(vector)", { HandLoops.focalVector(d.x, d.y, $0, n, alpha: 0.25) }),
                ("C(libm)", { lossc_bench_focal_libm(d.x, d.y, $0, n, 0.25) }),
                ("C(vector)", { lossc_bench_focal_vec(d.x, d.y, $0, n, 0.25) }),
            ]),
            Case(name: "bce", file: "bce.loss", kind: .binary, baselines: [
                ("Swift(libm)", { HandLoops.bceLibm(d.x, d.y, $0, n) }),
                ("Swift(vector)", { HandLoops.bceVector(d.x, d.y, $0, n) }),
                ("C(libm)", { lossc_bench_bce_libm(d.x, d.y, $0, n) }),
                ("C(vector)", { lossc_bench_bce_vec(d.x, d.y, $0, n) }),
            ]),
            Case(name: "cross_entropy", file: "cross_entropy.loss", kind: .multiclass, baselines: [
                ("Swift(libm)", { HandLoops.crossEntropyLibm(d.mx, d.my, $0, rows: rows, classes: c) }),
                ("Swift(vector)", { HandLoops.crossEntropyVector(d.mx, d.my, $0, rows: rows, classes: c) }),
                ("C(libm)", { lossc_bench_ce_libm(d.mx, d.my, $0, rows, c) }),
                ("C(vector)", { lossc_bench_ce_vec(d.mx, d.my, $0, rows, c) }),
            ]),
            // GIoU has no transcendentals: one Swift loop and one C loop serve as both variants.
            Case(name: "giou", file: "giou.loss", kind: .box, baselines: [
                ("Swift", { HandLoops.giou(d.pred, d.target, $0, n) }),
                ("Swift", { HandLoops.giou(d.pred, d.target, $0, n) }),
                ("C", { lossc_bench_giou(d.pred, d.target, $0, n) }),
                ("C", { lossc_bench_giou(d.pred, d.target, $0, n) }),
            ]),
        ]
    }

    /// The reference evaluator's ns per element, on a subsample (it is ~1000x slower).
    static func referenceTime(_ loss: CompiledLoss, _ d: BenchData) -> Double {
        let ev = loss.evaluator(Float.self)
        let samples = loss.kind == .multiclass ? 200 : 20000
        var inputs: [[InputValue<Float>]] = []
        for i in 0..<samples {
            switch loss.kind {
            case .multiclass:
                let c = BenchData.classes
                inputs.append([.vector(Array(UnsafeBufferPointer(start: d.mx + i * c, count: c))),
                               .vector(Array(UnsafeBufferPointer(start: d.my + i * c, count: c))), .scalar(d.mw[i])])
            case .box:
                inputs.append([.scalar(0), .scalar(0), .scalar(0)] + (0..<4).map { .scalar(d.pred[4 * i + $0]) }
                              + (0..<4).map { .scalar(d.target[4 * i + $0]) })
            default:
                inputs.append([.scalar(d.x[i]), .scalar(d.y[i]), .scalar(d.w[i])])
            }
        }
        let elements = loss.kind == .multiclass ? samples * BenchData.classes : samples
        var sink: Float = 0
        let t = time(1, elements: elements) { for s in inputs { sink += ev.evaluate(s)[0][0] } }
        if sink.isNaN { Terminal.write("") }  // keep the work observable
        return t
    }
}

/// The benchmark's data: imbalanced binary labels, one-hot multiclass rows, random box pairs.
final class BenchData {
    static let classes = 81
    let n: Int, rows: Int
    let x, y, w, mx, my, mw, pred, target: UnsafeMutablePointer<Float>

    init(elements: Int) {
        n = elements
        rows = max(1, elements / Self.classes)
        var rng = SeededGenerator(seed: 7)
        func u() -> Float { Float(rng.next() >> 40) / Float(1 << 24) }
        x = .allocate(capacity: n); y = .allocate(capacity: n); w = .allocate(capacity: n)
        for i in 0..<n {
            y[i] = u() < 0.1 ? 1 : 0
            x[i] = (u() * 16 - 8) + (y[i] == 1 ? 2 : -2)
            w[i] = u()
        }
        let c = Self.classes
        mx = .allocate(capacity: rows * c); my = .allocate(capacity: rows * c); mw = .allocate(capacity: rows)
        for r in 0..<rows {
            let label = Int(u() * Float(c)) % c
            for k in 0..<c { mx[r * c + k] = u() * 10 - 5; my[r * c + k] = k == label ? 1 : 0 }
            mw[r] = u()
        }
        pred = .allocate(capacity: 4 * n); target = .allocate(capacity: 4 * n)
        for i in 0..<n {
            let tx = u() * 800, ty = u() * 800, tw = 4 + u() * 200, th = 4 + u() * 200
            // Each predicted side moves independently of the others, so exact ties with the
            // target (kinks of min/max, where any subgradient is right) are rare.
            let t = [tx, ty, tx + tw, ty + th]
            let p = [tx + (u() - 0.5) * tw * 0.6, ty + (u() - 0.5) * th * 0.6, tx + tw + (u() - 0.5) * tw * 0.6, ty + th + (u() - 0.5) * th * 0.6]
            for j in 0..<4 { pred[4 * i + j] = p[j]; target[4 * i + j] = t[j] }
        }
    }

    deinit { for p in [x, y, w, mx, my, mw, pred, target] { p.deallocate() } }

    /// Whether box pair `i` has a predicted coordinate equal to the target's: min and max have
    /// a kink there, and two correct gradients may pick different sides.
    func tie(_ i: Int) -> Bool { (0..<4).contains { pred[4 * i + $0] == target[4 * i + $0] } }

    /// One closure call on this data (sum reduction), with or without the gradient.
    func call(_ k: LossKernel<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let g: (Int) -> UnsafeMutableBufferPointer<Float>? = { count in gradient.map { UnsafeMutableBufferPointer(start: $0, count: count) } }
        let r: Float?
        switch k.kind {
        case .multiclass:
            let count = rows * Self.classes
            r = try? k.evaluate(x: UnsafeBufferPointer(start: mx, count: count), y: UnsafeBufferPointer(start: my, count: count),
                                w: UnsafeBufferPointer(start: mw, count: rows), classes: Self.classes, reduction: .sum, gradient: g(count))
        case .box:
            r = try? k.evaluate(predicted: UnsafeBufferPointer(start: pred, count: 4 * n), target: UnsafeBufferPointer(start: target, count: 4 * n),
                                reduction: .sum, gradient: g(4 * n))
        default:
            r = try? k.evaluate(x: UnsafeBufferPointer(start: x, count: n), y: UnsafeBufferPointer(start: y, count: n),
                                w: UnsafeBufferPointer(start: w, count: n), reduction: .sum, gradient: g(n))
        }
        return Double(r ?? .nan)
    }
}

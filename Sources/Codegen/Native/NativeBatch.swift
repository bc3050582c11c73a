import LossDSL

/// A loss over a batch, computed natively when a C compiler is available and by the reference
/// evaluator otherwise, with one calling convention: the inputs in the C kernels' layout.
///
/// `NativeBatch.make` never fails: where the native path cannot be had (no compiler, a build
/// error), it says why in `message` and evaluates in Swift.
/// The Swift fallback is the closure backend (`LossKernel`), and the reference evaluator for
/// what the closures cannot take.
public struct NativeBatch: Sendable {
    public let loss: CompiledLoss
    /// The native kernels, or nil when running the fallback.
    public let native: NativeKernel?
    /// Why the native path is not used (nil when it is).
    public let message: String?

    /// Native if possible (cached by `loader`), else the fallback with a message.
    public static func make(_ loss: CompiledLoss, loader: NativeLoader = NativeLoader()) -> NativeBatch {
        do {
            return NativeBatch(loss: loss, native: try loader.load(loss), message: nil)
        } catch {
            return NativeBatch(loss: loss, native: nil, message: "lossc: native kernels unavailable (\(error.message)); using Swift evaluation")
        }
    }

    /// Loss and gradient of `n` samples. `inputs`: x, y, w (binary: [n] each; multiclass:
    /// [n][C], [n][C], [n]) or pred, target ([n][4] each) for box, each at least that long;
    /// `params` in declaration order (nil, or missing trailing values: the compiled ones).
    /// Returns the sum, the per-sample losses and the per-sample gradients.
    public func evaluate<T: LossReal>(n: Int, classes: Int = 1, inputs: [[T]], params: [Double]? = nil)
        -> (sum: Double, loss: [T], gradient: [T]) {
        let width = loss.kind == .box ? 4 : (loss.kind == .multiclass ? classes : 1)
        // The kernels read exactly one double per param: missing values take the compiled ones.
        let defaults = loss.formula.paramValues
        let values = (0..<defaults.count).map { i in params.flatMap { i < $0.count ? $0[i] : nil } ?? defaults[i] }
        if let native, native.has(T.self) {
            var l = [T](repeating: 0, count: n), g = [T](repeating: 0, count: n * width)
            let sum = withArrayPointers(inputs) { ptrs in
                l.withUnsafeMutableBufferPointer { lp in
                    g.withUnsafeMutableBufferPointer { gp in
                        values.withUnsafeBufferPointer { pp in
                            native.call(n: n, classes: classes, inputs: ptrs, params: pp.baseAddress,
                                        loss: lp.baseAddress, gradient: gp.baseAddress) ?? .nan
                        }
                    }
                }
            }
            return (sum, l, g)
        }
        return Fallback.evaluate(loss, n: n, classes: classes, inputs: inputs, params: values)
    }
}

/// The Swift evaluation used when there are no native kernels.
enum Fallback {
    static func evaluate<T: LossReal>(_ loss: CompiledLoss, n: Int, classes: Int, inputs: [[T]], params: [Double])
        -> (sum: Double, loss: [T], gradient: [T]) {
        if let d = inputs as? [[Double]], let r = closures(loss, n: n, classes: classes, inputs: d, params: params),
           let l = r.loss as? [T], let g = r.gradient as? [T] {
            return (r.sum, l, g)
        }
        if let f = inputs as? [[Float]], let r = closures(loss, n: n, classes: classes, inputs: f, params: params),
           let l = r.loss as? [T], let g = r.gradient as? [T] {
            return (r.sum, l, g)
        }
        return reference(loss, n: n, classes: classes, inputs: inputs, params: params)
    }

    /// The closure backend on the same layout; nil when it cannot compile the loss.
    static func closures<T: BlockReal>(_ loss: CompiledLoss, n: Int, classes: Int, inputs: [[T]], params: [Double])
        -> (sum: Double, loss: [T], gradient: [T])? {
        var compiled = loss
        if params != loss.formula.paramValues {
            var f = loss.formula
            for i in f.params.indices where i < params.count { f.params[i].value = params[i] }
            compiled = CompiledLoss.compile(f, options: loss.options)
        }
        guard let k = try? LossKernel<T>(compiled: compiled) else { return nil }
        let width = loss.kind == .box ? 4 : (loss.kind == .multiclass ? classes : 1)
        let r: LossResult<T>?
        switch loss.kind {
        case .box:
            r = try? k.evaluate(predicted: Array(inputs[0].prefix(n * 4)), target: Array(inputs[1].prefix(n * 4)),
                                reduction: .sum, perElement: true, gradient: true)
        default:
            let w = inputs.count > 2 && inputs[2].count >= n ? Array(inputs[2].prefix(n)) : nil
            r = try? k.evaluate(x: Array(inputs[0].prefix(n * width)), y: Array(inputs[1].prefix(n * width)), w: w,
                                classes: loss.kind == .multiclass ? classes : nil, reduction: .sum, perElement: true, gradient: true)
        }
        guard let r, let l = r.perElement, let g = r.gradient else { return nil }
        return (Double(r.value), l, g)
    }

    /// The reference evaluator, one sample at a time (exact, slow).
    static func reference<T: LossReal>(_ loss: CompiledLoss, n: Int, classes: Int, inputs: [[T]], params: [Double])
        -> (sum: Double, loss: [T], gradient: [T]) {
        let ev = ReferenceEvaluator<T>(graph: loss.graph, roots: [loss.value] + loss.gradient, params: params)
        var sum = 0.0, l: [T] = [], g: [T] = []
        l.reserveCapacity(n)
        for i in 0..<n {
            let sample: [InputValue<T>]
            switch loss.kind {
            case .multiclass:
                let r = i * classes..<(i + 1) * classes
                sample = [.vector(Array(inputs[0][r])), .vector(Array(inputs[1][r])), .scalar(inputs.count > 2 ? inputs[2][i] : 0)]
            case .box:
                sample = [.scalar(0), .scalar(0), .scalar(0)] + (0..<4).map { .scalar(inputs[0][4 * i + $0]) }
                    + (0..<4).map { .scalar(inputs[1][4 * i + $0]) }
            default:
                sample = (0..<3).map { .scalar($0 < inputs.count && !inputs[$0].isEmpty ? inputs[$0][i] : 0) }
            }
            let r = CompiledLoss.unpack(ev.evaluate(sample), inputs: sample)
            l.append(r.loss)
            g += r.gradient
            sum += Double(r.loss)
        }
        return (sum, l, g)
    }
}

/// Calls `body` with stable pointers to every array (nil for empty ones).
func withArrayPointers<T, R>(_ arrays: [[T]], _ body: ([UnsafePointer<T>?]) -> R) -> R {
    var pointers: [UnsafePointer<T>?] = []
    func go(_ i: Int) -> R {
        if i == arrays.count { return body(pointers) }
        return arrays[i].withUnsafeBufferPointer { p in pointers.append(arrays[i].isEmpty ? nil : p.baseAddress); return go(i + 1) }
    }
    return go(0)
}

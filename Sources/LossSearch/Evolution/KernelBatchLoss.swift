import LossDSL
import LossCheck
import Codegen

/// Stage 2's `BatchLoss` served by the closure backend: the proxy trainers of the convergence
/// simulation and the search run on compiled block kernels instead of the column-wise
/// reference evaluation.
public struct KernelBatchLoss: BatchLoss {
    public let kind: LossKind
    let kernel: LossKernel<Double>

    /// Nil when the loss cannot be compiled to closures (the caller falls back to `ColumnBatchLoss`).
    public init?(_ loss: CompiledLoss) {
        guard let k = try? LossKernel<Double>(compiled: loss) else { return nil }
        kernel = k
        kind = loss.kind
    }

    /// Per-sample losses and gradients in `BatchLoss`'s layout (the gradient of the sum is the
    /// per-sample gradient).
    public func evaluate(_ inputs: [[Double]], rows: Int, classes: Int) -> (loss: [Double], gradient: [Double]) {
        do {
            let r: LossResult<Double>
            switch kind {
            case .box:
                // BatchLoss passes one column per kind input; the kernel takes the interleaved boxes.
                let (pred, target) = (kind.kernelPointers[0].inputs, kind.kernelPointers[1].inputs)
                var p = [Double](repeating: 0, count: rows * pred.count), t = p
                for i in 0..<rows {
                    for k in 0..<pred.count {
                        p[pred.count * i + k] = inputs[pred.lowerBound + k][i]
                        t[pred.count * i + k] = inputs[target.lowerBound + k][i]
                    }
                }
                r = try kernel.evaluate(predicted: p, target: t, reduction: .sum, perElement: true, gradient: true)
            default:
                let w = inputs.count > 2 && inputs[2].count == rows ? inputs[2] : nil
                r = try kernel.evaluate(x: inputs[0], y: inputs[1], w: w, classes: kind == .multiclass ? classes : nil,
                                        reduction: .sum, perElement: true, gradient: true)
            }
            return (r.perElement ?? [], r.gradient ?? [])
        } catch {
            // Sizes are the trainer's own; a mismatch is a programming error surfaced as NaN,
            // which the trainers report as a failed run rather than a crash.
            return ([Double](repeating: .nan, count: rows), [Double](repeating: .nan, count: rows * max(classes, kind == .box ? 4 : 1)))
        }
    }
}

import LossDSL

/// Per-sample losses and gradients over a batch: the one thing stage 2's trainers need from a
/// loss. It is the seam where faster backends (compiled closures, native kernels) plug in; the
/// trainers are the same code whichever evaluates the loss.
///
/// Layout: `inputs[k]` is input k's column, as `ColumnEvaluator` takes it (`rows` values for
/// a scalar input, `rows * classes` sample-major for a class vector; box losses take the
/// coordinates as inputs 3...10 and ignore 0...2). The gradient comes back flat: `rows`
/// values (binary), `rows * classes` (multiclass) or `rows * 4` (box: d/dx1, d/dy1, d/dx2,
/// d/dy2 per sample).
public protocol BatchLoss: Sendable {
    var kind: LossKind { get }
    func evaluate(_ inputs: [[Double]], rows: Int, classes: Int) -> (loss: [Double], gradient: [Double])
}

/// `BatchLoss` over the column-wise reference evaluation (bit-identical to
/// `ReferenceEvaluator`, a column at a time).
public struct ColumnBatchLoss: BatchLoss {
    /// The kind of the loss (fixes the input and gradient layout).
    public let kind: LossKind
    let evaluator: ColumnEvaluator<Double>

    /// Evaluates `loss`'s value and gradient graphs.
    public init(_ loss: CompiledLoss) {
        kind = loss.kind
        evaluator = ColumnEvaluator(graph: loss.graph, roots: [loss.value] + loss.gradient, params: loss.formula.paramValues)
    }

    /// Per-sample losses and the flat gradient (see `BatchLoss` for the layout).
    public func evaluate(_ inputs: [[Double]], rows: Int, classes: Int) -> (loss: [Double], gradient: [Double]) {
        let out = evaluator.evaluate(inputs, rows: rows, classes: classes)
        let loss = (0..<rows).map { out[0].at($0, 0, classes: classes) }
        var grad: [Double]
        switch kind {
        case .multiclass:
            let g = out[1]
            if g.layout == .classVector { grad = g.values } else {
                grad = [Double](repeating: 0, count: rows * classes)
                for r in 0..<rows { for k in 0..<classes { grad[r * classes + k] = g.at(r, k, classes: classes) } }
            }
        case .box:
            grad = [Double](repeating: 0, count: rows * 4)
            for r in 0..<rows { for k in 0..<4 { grad[r * 4 + k] = out[1 + k].at(r, 0, classes: 1) } }
        default:
            let g = out[1]
            grad = g.layout == .scalar ? g.values : (0..<rows).map { g.at($0, 0, classes: 1) }
        }
        return (loss, grad)
    }
}

/// `BatchLoss` that calls `ReferenceEvaluator` once per sample: slow, the oracle the others are
/// tested against.
public struct ReferenceBatchLoss: BatchLoss {
    /// The kind of the loss (fixes the input and gradient layout).
    public let kind: LossKind
    let evaluator: ReferenceEvaluator<Double>

    /// Evaluates `loss` one sample at a time.
    public init(_ loss: CompiledLoss) {
        kind = loss.kind
        evaluator = loss.evaluator(Double.self)
    }

    /// Per-sample losses and the flat gradient (see `BatchLoss` for the layout).
    public func evaluate(_ inputs: [[Double]], rows: Int, classes: Int) -> (loss: [Double], gradient: [Double]) {
        var loss: [Double] = [], grad: [Double] = []
        for r in 0..<rows {
            let sample: [InputValue<Double>] = inputs.indices.map { k in
                let c = inputs[k]
                if c.isEmpty { return .scalar(0) }
                if k < kind.inputs.count, kind.inputs[k].shape == .classVector {
                    return .vector(Array(c[(r * classes)..<((r + 1) * classes)]))
                }
                return .scalar(c.count == 1 ? c[0] : c[r])
            }
            let out = evaluator.evaluate(sample)
            let u = CompiledLoss.unpack(out, inputs: sample)
            loss.append(u.loss)
            grad += u.gradient
        }
        return (loss, grad)
    }
}

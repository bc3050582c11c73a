import LossDSL

/// One data pointer of the kernels' calling convention: its name and the kind's input indices
/// it carries. A pointer with several inputs interleaves them, `inputs.count` values per
/// sample (a box: x1, y1, x2, y2).
package struct KernelPointer: Sendable {
    package let name: String
    package let inputs: Range<Int>

    /// The element of input `index` for sample `sample` (an expression in the target language).
    package func element(_ index: Int, sample: String) -> String {
        inputs.count == 1 ? "\(name)[\(sample)]" : "\(name)[\(inputs.count) * \(sample) + \(index - inputs.lowerBound)]"
    }
}

/// The kernels' data layout per loss kind, read by the C interface, the Swift writer and the
/// batch loss (one table instead of index arithmetic in each).
extension LossKind {
    /// The data pointers, in argument order. Box kernels take the predicted and the target
    /// boxes (i, u and e are computed from them); the others one pointer per input.
    package var kernelPointers: [KernelPointer] {
        switch self {
        case .box: return [KernelPointer(name: "pred", inputs: 3..<7), KernelPointer(name: "target", inputs: 7..<11)]
        case .binary, .multiclass, .ranking:
            return inputs.indices.map { KernelPointer(name: inputs[$0].name, inputs: $0..<($0 + 1)) }
        }
    }

    /// The pointer that carries input `index`, if any (box: nil for the derived i, u, e).
    package func kernelPointer(carrying index: Int) -> KernelPointer? { kernelPointers.first { $0.inputs.contains(index) } }

    /// The C name of the gradient output: d_ and the differentiated pointer's name.
    package var gradientPointer: String { "d_" + (kernelPointers.first?.name ?? "x") }
}

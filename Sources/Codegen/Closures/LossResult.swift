/// How a `LossKernel` reduces the per-sample losses to one number.
public enum Reduction: String, Sendable, CaseIterable {
    /// The mean over the samples (NaN for no samples). The gradient is that of the mean:
    /// each sample's derivative divided by the sample count.
    case mean
    /// The sum over the samples. The gradient is each sample's own derivative.
    case sum
}

/// What a `LossKernel` computed for a batch.
public struct LossResult<T: BlockReal>: Sendable {
    /// The reduced loss (mean or sum).
    public var value: T
    /// The number of samples.
    public var count: Int
    /// The loss of each sample, when asked for.
    public var perElement: [T]?
    /// The gradient of `value` with respect to the predictions, when asked for: one value per
    /// binary element, `classes` per multiclass row (row-major), four per box
    /// (`d x1, d y1, d x2, d y2`).
    public var gradient: [T]?
}

/// A call a `LossKernel` cannot serve: wrong sizes, the wrong kind of inputs for the loss,
/// an unsupported loss kind, or a loss file that does not compile.
public struct KernelError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public let message: String
    /// An error with this message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

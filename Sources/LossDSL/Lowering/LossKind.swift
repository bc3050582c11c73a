/// What a loss is for. The kind fixes the inputs a formula may name, their shapes and
/// domains, and what the gradient is taken with respect to.
public enum LossKind: String, CaseIterable, Sendable {
    case binary, multiclass, box, ranking

    /// The inputs of this kind, in the order of `Graph` input indices.
    public var inputs: [InputInfo] {
        switch self {
        case .binary:
            return [InputInfo("x", "logit", domain: Interval(-1e4, 1e4), differentiated: true),
                    InputInfo("y", "label in {0,1}", domain: .unit),
                    InputInfo("w", "IoU / quality in [0,1]", domain: .unit)]
        case .multiclass:
            return [InputInfo("x", "logits over C classes", shape: .classVector, domain: Interval(-1e4, 1e4), differentiated: true),
                    InputInfo("y", "one-hot label over C classes", shape: .classVector, domain: .unit),
                    InputInfo("w", "IoU of the sample, broadcast over classes", domain: .unit)]
        case .box:
            let area = Interval(0, 1e8), coord = Interval(-1e4, 1e4)
            return [InputInfo("i", "intersection area", domain: area),
                    InputInfo("u", "union area + 1e-7", domain: Interval(1e-7, 1e8)),
                    InputInfo("e", "enclosing-box area + 1e-7", domain: Interval(1e-7, 1e8)),
                    InputInfo("x1", "predicted box left", domain: coord, differentiated: true),
                    InputInfo("y1", "predicted box top", domain: coord, differentiated: true),
                    InputInfo("x2", "predicted box right", domain: coord, differentiated: true),
                    InputInfo("y2", "predicted box bottom", domain: coord, differentiated: true),
                    InputInfo("tx1", "target box left", domain: coord),
                    InputInfo("ty1", "target box top", domain: coord),
                    InputInfo("tx2", "target box right", domain: coord),
                    InputInfo("ty2", "target box bottom", domain: coord)]
        case .ranking:
            return [InputInfo("s", "score (raw logit)", domain: Interval(-1e4, 1e4), differentiated: true),
                    InputInfo("y", "label: 1 positive, 0 negative, -1 ignored", domain: Interval(-1, 1)),
                    InputInfo("u", "quality in [0,1]", domain: .unit)]
        }
    }

    /// Whether this build can compile losses of this kind.
    public var isSupported: Bool { self != .ranking }

    /// The index of the input named `name`, if this kind has one.
    public func inputIndex(_ name: String) -> Int? { inputs.firstIndex { $0.name == name } }

    /// For `box`: the inputs a formula names but that kernels compute from the boxes.
    public var derivedInputs: Set<Int> { self == .box ? [0, 1, 2] : [] }

    /// The inputs the data (CSV rows, kernel arguments) carry.
    public var dataInputs: [Int] {
        inputs.indices.filter { !derivedInputs.contains($0) }
    }
}

/// One input of a loss kind.
public struct InputInfo: Sendable {
    public let name: String
    public let summary: String
    public let shape: Shape
    /// The region the checks assume (documented in README).
    public let domain: Interval
    /// True for the prediction the gradient is taken with respect to.
    public let differentiated: Bool

    init(_ name: String, _ summary: String, shape: Shape = .scalar, domain: Interval, differentiated: Bool = false) {
        self.name = name; self.summary = summary; self.shape = shape; self.domain = domain
        self.differentiated = differentiated
    }
}

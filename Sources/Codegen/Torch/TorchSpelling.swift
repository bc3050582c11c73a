import LossDSL

/// How an operator is written in an emitted PyTorch module (`lossc emit --target torch`).
///
/// Every elementwise node becomes one statement `t<id> = <expression>` over its arguments'
/// names (tensors `t<id>`, or Python floats for constants, params and param-only values), so
/// no precedence question arises.
public enum TorchSpelling: Sendable, Equatable {
    /// `a OP b`: works on any mix of tensors and Python floats.
    case infix(String)
    /// `OPa`.
    case prefix(String)
    /// A torch function of tensors (`torch.exp(a)`). With `numbers`, arguments after the first
    /// may be Python floats (`torch.pow(t, 2.0)`, which torch specializes); otherwise a float
    /// argument is first made a 0-d tensor of the computation's dtype and device.
    case function(String, numbers: Bool)
    /// A function defined in the module itself, `_NAME(...)` (its text: `TorchPrelude`);
    /// `numbers` as for `function`.
    case helper(String, numbers: Bool)
    /// A map over the class axis (dim 1 of a `multiclass` input), `torch.softmax(a, 1)`.
    case classMap(String)
    /// A sum over the class axis, of `a * b` (`product`) or of `a`.
    case classSum(product: Bool)
    /// The value of its argument (stop_gradient: lossc's gradient graph already has it zero).
    case identity
    /// Constants, inputs and params: names or literals, never expressions.
    case leaf
}

extension Op {
    /// The operator's torch spelling: the torch column of the operator table, kept here
    /// (beside the other backends) as one exhaustive switch, so a new `Op` case does not
    /// compile until it has one. Values follow `Op.apply` (the reference), with one documented
    /// difference: `min`/`max` are `torch.minimum`/`torch.maximum`, which return NaN when
    /// either argument is NaN, where the reference returns `a` when only `b` is NaN.
    public var torchSpelling: TorchSpelling {
        switch self {
        case .constant, .input, .param: return .leaf
        case .neg: return .prefix("-")
        case .exp: return .function("torch.exp", numbers: false)
        case .log: return .function("torch.log", numbers: false)
        case .abs: return .function("torch.abs", numbers: false)
        case .sqrt: return .function("torch.sqrt", numbers: false)
        case .softmax: return .classMap("torch.softmax")
        case .softplus: return .helper("softplus", numbers: false)
        case .sigmoid: return .function("torch.sigmoid", numbers: false)
        case .tanh: return .function("torch.tanh", numbers: false)
        case .sin: return .function("torch.sin", numbers: false)
        case .cos: return .function("torch.cos", numbers: false)
        case .relu: return .function("torch.relu", numbers: false)
        case .scaledGD: return .helper("scaled_gd", numbers: false)
        case .scaledALF: return .helper("scaled_alf", numbers: false)
        case .scaledERF: return .helper("scaled_erf", numbers: false)
        case .scaledERFC: return .helper("scaled_erfc", numbers: false)
        case .add: return .infix("+")
        case .sub: return .infix("-")
        case .mul: return .infix("*")
        case .div: return .infix("/")
        case .dot: return .classSum(product: true)
        case .pow: return .helper("pow", numbers: true)
        case .log1p: return .function("torch.log1p", numbers: false)
        case .expm1: return .function("torch.expm1", numbers: false)
        case .min: return .function("torch.minimum", numbers: false)
        case .max: return .function("torch.maximum", numbers: false)
        case .select: return .helper("select", numbers: false)
        case .stopGradient: return .identity
        case .sum: return .classSum(product: false)
        case .logSoftmax: return .classMap("torch.log_softmax")
        case .sign: return .helper("sign", numbers: false)
        case .step: return .helper("step", numbers: false)
        case .cosh: return .function("torch.cosh", numbers: false)
        }
    }
}

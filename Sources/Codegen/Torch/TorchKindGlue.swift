import LossDSL

/// The torch conventions of each per-sample kind, as the emitted `autograd.Function` and
/// `nn.Module` text:
///
/// - `binary`: `forward(x, y, w=None)`, tensors of broadcastable shapes (e.g. (N, A, K)
///   anchors x classes); `w` defaults to 1;
/// - `multiclass`: `forward(x, y, w=None)`, `x` (N, C) or (N, C, d1, ...) with the class axis 1
///   as `F.cross_entropy`; `y` int64 class indices of shape (N, d1, ...) (an index outside
///   [0, C) gives an all-zero target row) or a one-hot / soft target of `x`'s shape; `w` per
///   sample, (N, d1, ...);
/// - `box`: `forward(pred, target)`, (..., 4) boxes x1, y1, x2, y2 (broadcastable); the
///   gradient goes to `pred`.
/// Targets (y, w, target) that require grad are an error with a message: lossc differentiates
/// the prediction only.
struct TorchKindGlue {
    let kind: LossKind
    let className: String
    let params: [ParamInfo]
    let writer: TorchGraphWriter

    var functionName: String { className + "Function" }
    /// The keyword argument of each param.
    var keywords: [String] { params.map { PyNames.identifier($0.name) } }
    var inputs: [String] { kind == .box ? ["pred", "target"] : ["x", "y", "w"] }

    func functionClass() -> String {
        let none = Array(repeating: "None", count: inputs.count + 1).joined(separator: ", ")
        let product = kind == .box ? "grad_value.unsqueeze(-1) * grad" : "grad_value * grad"
        return """
        class \(functionName)(torch.autograd.Function):
            \"\"\"The per-sample loss (no reduction) with lossc's gradient as its backward.

            forward(\(inputs.joined(separator: ", ")), p, k): inputs already in the compute dtype and broadcast
            to the prediction's shape; p = the params, k = _invariants(p). The forward evaluates
            lossc's stabilized value and gradient graphs in one pass and saves the gradient; the
            backward multiplies the incoming gradient by it.
            \"\"\"

            @staticmethod
            def forward(ctx, \(inputs.joined(separator: ", ")), p, k):
                evaluate = _value_and_grad_compiled if torch.compiler.is_compiling() else _value_and_grad
                value, grad = evaluate(\(inputs.joined(separator: ", ")), p, k)
                ctx.save_for_backward(grad)
                return value

            @staticmethod
            @torch.autograd.function.once_differentiable
            def backward(ctx, grad_value):
                # lossc's first derivative: differentiating it again is an error, not a silent zero
                (grad,) = ctx.saved_tensors
                return \(product), \(none)


        
        """
    }

    func moduleClass() -> String {
        let kwargs = zip(keywords, params).map { "\($0)=\(PyNames.floatLiteral($1.value))" } + ["reduction=\"mean\""]
        let tuple = keywords.isEmpty ? "()" : "(" + keywords.map { "float(\($0))" }.joined(separator: ", ") + ",)"
        var s = "class \(className)(torch.nn.Module):\n"
        s += "    \"\"\"\(docstring)\n    \"\"\"\n\n"
        s += "    def __init__(self, \(kwargs.joined(separator: ", "))):\n"
        s += "        super().__init__()\n"
        s += "        self._p = \(tuple)\n"
        s += "        self._k = _invariants(self._p)\n"
        s += "        self.reduction = _check_reduction(reduction)\n\n"
        s += "    @property\n    def params(self):\n"
        s += "        \"\"\"The params this module computes with, by their names in the .loss file.\"\"\"\n"
        s += "        return dict(zip(PARAMS, self._p))\n\n"
        s += "    def extra_repr(self):\n"
        s += "        return \", \".join([\"%s=%r\" % item for item in self.params.items()] + [\"reduction=%r\" % self.reduction])\n\n"
        s += forward()
        return s + "\n\n"
    }

    var docstring: String {
        let call = "\(className)(" + (zip(keywords, params).map { "\($0)=\(PyNames.floatLiteral($1.value))" } + ["reduction='mean'"]).joined(separator: ", ") + ")"
        var s = "lossc loss (kind \(kind.rawValue)): \(call).\n\n"
        switch kind {
        case .binary:
            s += "    forward(x, y, w=None): logits x, labels y in {0, 1} and weights / IoU w in [0, 1] (default 1),\n"
            s += "    any broadcastable shapes (e.g. (N, A, K) anchors x classes)."
        case .multiclass:
            s += "    forward(x, y, w=None): logits x of shape (N, C) or (N, C, d1, ...) (class axis 1); y int64\n"
            s += "    class indices (N, d1, ...) (an index outside [0, C) gives an all-zero target row) or a\n"
            s += "    one-hot / soft target of x's shape; w per-sample weights / IoU (N, d1, ...), default 1."
        default:
            s += "    forward(pred, target): boxes (..., 4) as x1, y1, x2, y2; i, u, e are computed from them with\n"
            s += "    the published +1e-7 on the union and the enclosing area. The gradient goes to pred."
        }
        s += "\n    reduction: 'none' (per sample), 'mean' or 'sum'. float16 / bfloat16 are computed in float32\n"
        s += "    and returned in the input dtype. The params are fixed at construction."
        return s
    }

    func forward() -> String {
        var s = "    def forward(self, \(kind == .box ? "pred, target" : "x, y, w=None")):\n"
        let p = kind == .box ? "pred" : "x"
        switch kind {
        case .box:
            s += "        _no_grad_required(\"target\", target)\n"
            s += "        if pred.shape[-1:] != (4,) or target.shape[-1:] != (4,):\n"
            s += "            raise ValueError(\"lossc: boxes must be (..., 4), got \" + str(tuple(pred.shape)) + \" and \" + str(tuple(target.shape)))\n"
            s += "        dtype = _compute_dtype(pred)\n"
            s += "        target = target.to(dtype)\n"
            s += "        pred = pred.to(dtype).expand(torch.broadcast_shapes(pred.shape, target.shape))\n"
        case .multiclass:
            s += "        _no_grad_required(\"y\", y)\n        _no_grad_required(\"w\", w)\n"
            s += "        if x.dim() < 2:\n"
            s += "            raise ValueError(\"lossc: x must be (N, C) or (N, C, d1, ...), got \" + str(tuple(x.shape)))\n"
            s += "        dtype = _compute_dtype(x)\n"
            s += "        x = x.to(dtype)\n"
            s += "        if y.is_floating_point():\n            y = y.to(dtype)\n"
            s += "        else:\n"
            s += "            # class indices as a one-hot target (a comparison, not F.one_hot, which checks the\n"
            s += "            # range on the host)\n"
            s += "            classes = torch.arange(x.shape[1], device=y.device).view((1, -1) + (1,) * (y.dim() - 1))\n"
            s += "            y = (y.unsqueeze(1) == classes).to(dtype)\n"
            s += "        w = torch.ones((), dtype=dtype, device=x.device) if w is None else w.to(dtype).unsqueeze(1)\n"
            s += "        x = x.expand(torch.broadcast_shapes(x.shape, y.shape))\n"
        default:
            s += "        _no_grad_required(\"y\", y)\n        _no_grad_required(\"w\", w)\n"
            s += "        dtype = _compute_dtype(x)\n"
            s += "        x = x.to(dtype)\n"
            s += "        y = y.to(dtype)\n"
            s += "        w = torch.ones((), dtype=dtype, device=x.device) if w is None else w.to(dtype)\n"
            s += "        x = x.expand(torch.broadcast_shapes(x.shape, y.shape, w.shape))\n"
        }
        let args = inputs.joined(separator: ", ")
        s += "        if torch.is_grad_enabled() and \(p).requires_grad:\n"
        s += "            value = \(functionName).apply(\(args), self._p, self._k)\n"
        s += "        else:\n"
        s += "            evaluate = _value_compiled if torch.compiler.is_compiling() else _value\n"
        s += "            value = evaluate(\(args), self._p, self._k)\n"
        if kind == .multiclass { s += "        value = value.squeeze(1)\n" }
        s += "        return _reduce(value, self.reduction).to(input_dtype)\n"
        // the input dtype, read before the prediction is converted
        return s.replacingOccurrences(of: "        dtype = _compute_dtype(\(p))\n",
                                      with: "        input_dtype = \(p).dtype\n        dtype = _compute_dtype(\(p))\n")
    }
}

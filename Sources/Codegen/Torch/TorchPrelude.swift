/// The Python text of the helpers an emitted torch module defines: one function per
/// `TorchSpelling.helper` name, each following the reference math of its operator
/// (`Op.apply`) the stable way, as the C prelude does. Only the helpers a loss uses are emitted.
enum TorchPrelude {
    /// The definition of helper `name` (`_NAME`), or nil if there is none (a test checks that
    /// every helper the operator table names has one).
    static func definition(_ name: String) -> String? {
        switch name {
        case "softplus":
            return """
            def _softplus(a):
                # log(1 + e^a) = max(a, 0) + log1p(e^-|a|): never overflows, keeps the small tail
                # (torch.nn.functional.softplus returns a past its threshold, off by e^-a).
                return torch.logaddexp(a, torch.zeros((), dtype=a.dtype, device=a.device))

            """
        case "scaled_gd":
            return """
            def _scaled_gd(a):
                # (gud(pi a/4) 2/pi + 1)/2 = (2/pi) atan(e^(pi a/4)): no cancellation in the negative tail
                return (2.0 / math.pi) * torch.atan(torch.exp((math.pi / 4.0) * a))

            """
        case "scaled_alf":
            return """
            def _scaled_alf(a):
                # (h/s + 1)/2 with h = a/2, s = sqrt(1 + h^2) (as |h| sqrt(1 + 1/h^2) for |h| > 1, finite up
                # to infinite h); for h < 0 the sum cancels, and equals 1/(2 s (s - h)) since (s+h)(s-h) = 1
                h = a / 2.0
                ah = torch.abs(h)
                r = torch.sqrt(1.0 + 1.0 / (h * h))
                s = torch.where(ah > 1.0, ah * r, torch.sqrt(1.0 + h * h))
                negative = 1.0 / (2.0 * s * (s - h))
                positive = torch.where(ah > 1.0, (1.0 / r + 1.0) / 2.0, (h / s + 1.0) / 2.0)
                return torch.where(h < 0.0, negative, positive)

            """
        case "scaled_erf":
            return """
            def _scaled_erf(a):
                # (1 + erf(sqrt(pi) a/4))/2 as erfc(-sqrt(pi) a/4)/2: no cancellation for a << 0
                return torch.erfc((-math.sqrt(math.pi) / 4.0) * a) / 2.0

            """
        case "scaled_erfc":
            return """
            def _scaled_erfc(a):
                return torch.erfc((math.sqrt(math.pi) / 4.0) * a) / 2.0

            """
        case "pow":
            return """
            def _pow(a, b):
                # a ^ b as torch.pow (C's pow), which specializes Python-number exponents (2: a square);
                # a param-only exponent equal to 1 (focal's gamma - 1 at gamma = 2) costs nothing
                if isinstance(b, float) and b == 1.0:
                    return a
                return torch.pow(a, b)

            """
        case "select":
            return """
            def _select(c, a, b):
                return torch.where(c > 0.0, a, b)

            """
        case "step":
            return """
            def _step(a):
                return (a > 0.0).to(a.dtype)

            """
        case "sign":
            return """
            def _sign(a):
                # -1, 1, or a itself (0, -0 and NaN), as the reference does
                return torch.where(a > 0.0, 1.0, torch.where(a < 0.0, -1.0, a))

            """
        default:
            return nil
        }
    }

    /// Helpers every module defines.
    static let common = """
    _HALF = (torch.float16, torch.bfloat16)


    def _compute_dtype(t):
        # float16 and bfloat16 are computed in float32 (and returned in their own dtype)
        if not t.is_floating_point():
            raise TypeError("lossc: expected a floating-point tensor, got " + str(t.dtype))
        return torch.float32 if t.dtype in _HALF else t.dtype


    def _k(v, like):
        # a Python float as a 0-d tensor of like's dtype and device (for torch functions that
        # take tensors only); 0-d tensors broadcast without changing the result dtype
        return torch.full((), v, dtype=like.dtype, device=like.device)


    def _full(v, shape, like):
        # an output as a tensor of its shape (a float when the loss or its gradient does not
        # depend on the data)
        if isinstance(v, torch.Tensor):
            return torch.broadcast_to(v, shape)
        return torch.full(shape, v, dtype=like.dtype, device=like.device)


    def _reduce(value, reduction):
        if reduction == "none":
            return value
        if reduction == "sum":
            return value.sum()
        return value.mean()


    def _check_reduction(reduction):
        if reduction not in ("none", "mean", "sum"):
            raise ValueError("lossc: reduction must be 'none', 'mean' or 'sum', got " + repr(reduction))
        return reduction


    def _no_grad_required(name, t):
        if t is not None and t.requires_grad:
            raise ValueError("lossc: this loss's gradient is taken with respect to its prediction only; "
                             + name + " requires grad (pass " + name + ".detach())")


    """
}

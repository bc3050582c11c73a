import LossDSL
import LossRanking

/// A ranking construct the torch backend cannot emit.
public struct TorchRankingUnsupported: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The PyTorch backend for `ranking` losses (`lossc emit RANKINGFILE --target torch`): one
/// module (imports `torch` and `math` only) running the same `RankingPlan` as `RankingKernel`
/// and the C emitter, in O(n log n) tensor operations:
///
/// - `_evaluate(s, y, u, grad)`: labels → positives, valid entries sorted by score
///   (`torch.sort`, stable), each set's members; the slots' forward values in order (row sums
///   of each `pairsum` from prefix sums, pair by pair only at breakpoints and on non-polynomial
///   intervals); the loss; with `grad`, the reverse pass of `CRankingReverse` (adjoints seeded by
///   the loss's partials, row and column sums weighted by each slot's adjoint), accumulated in
///   float64;
/// - `<Name>Function`, an `autograd.Function` whose backward is that gradient (AP-Loss's
///   error-driven update included), and `<Name>Loss`, an `nn.Module` with
///   `forward(s, y, u=None)` pooling every entry of any shape into one ranking.
/// Params are fixed at emission (they set breakpoints and coefficients).
public enum TorchRankingEmitter {
    /// Emits the module of a ranking formula.
    public static func emit(_ f: RankingFormula, name: String? = nil, command: String? = nil) throws(TorchRankingUnsupported) -> TorchSource {
        try emit(RankingPlan(f), name: name, command: command)
    }

    /// Emits the module of a planned ranking formula.
    public static func emit(_ plan: RankingPlan, name: String? = nil, command: String? = nil) throws(TorchRankingUnsupported) -> TorchSource {
        let f = plan.formula
        let live = plan.graph.reachable(from: [f.root] + f.slots.map(\.argument) + plan.derivatives.root.nodes)
        for i in 0..<plan.graph.count where live[i] && plan.graph.nodes[i].op.shapeRule != .elementwise {
            let op = plan.graph.nodes[i].op
            guard op == .constant || op == .input || op == .param else {
                throw TorchRankingUnsupported(message: "the torch backend cannot emit '\(op.name)' in a ranking loss")
            }
        }
        let className = PyNames.className(name ?? f.name)
        var w = TorchRankingExpressions(plan: plan)
        let run = evaluate(plan, &w)
        var s = header(plan, command: command)
        s += "import math\n\nimport torch\n\n"
        s += "__all__ = [\(PyNames.stringLiteral(className)), \(PyNames.stringLiteral(className + "Function")), \"Loss\"]\n\n"
        s += "KIND = \"ranking\"\nNAME = \(PyNames.stringLiteral(f.name))\n"
        s += "# The params (the file's names) this module was emitted with (fixed: re-emit with --param to change).\n"
        s += "PARAMS = {" + f.params.map { "\(PyNames.stringLiteral($0.name)): \(PyNames.floatLiteral($0.value))" }.joined(separator: ", ") + "}\n"
        s += "# Whether the loss's gradient reaches u.\nREACHES_U = \(plan.derivatives.reachesU ? "True" : "False")\n\n"
        s += TorchPrelude.common
        var helpers: [String] = []
        for i in 0..<plan.graph.count {  // the derivative and factor nodes too
            if case .helper(let h, _) = plan.graph.nodes[i].op.torchSpelling, !helpers.contains(h) { helpers.append(h) }
        }
        for h in helpers.sorted() { s += TorchPrelude.definition(h)! + "\n" }
        s += TorchRankingRuntime.text
        s += w.text + run + moduleText(plan, className: className)
        s += "Loss = \(className)\n"
        return TorchSource(text: s, className: className)
    }

    /// `_evaluate(s, y, u, grad)`: flat tensors of the compute dtype → (loss, d_s, d_u).
    static func evaluate(_ plan: RankingPlan, _ w: inout TorchRankingExpressions) -> String {
        let f = plan.formula, dv = plan.derivatives, slots = f.slots
        var sets: [RankingSet] = []
        for k in slots.indices { if let s = plan.pairs[k]?.set, !sets.contains(s) { sets.append(s) } }
        func setOf(_ k: Int) -> String { "sets[\(sets.firstIndex(of: plan.pairs[k]!.set)!)]" }
        var r = "def _evaluate(s, y, u, grad):\n"
        r += "    # s, y, u: flat tensors of the compute dtype. The index lists (positives, valid entries)\n"
        r += "    # are data-dependent sizes: building them reads their lengths on the host.\n"
        r += "    c = _Ctx()\n    c.zero = torch.zeros((), dtype=s.dtype, device=s.device)\n"
        r += "    c.s = s\n    c.u = u\n"
        r += "    positive = y > 0.5\n    valid = y >= -0.5\n"
        r += "    pos = torch.nonzero(positive).flatten()\n    vidx = torch.nonzero(valid).flatten()\n"
        r += "    np_ = pos.numel()\n"
        r += "    _, o = torch.sort(s[vidx], stable=True)\n    sorted_valid = vidx[o]\n"
        r += "    c.si = s[pos]\n    c.ui = u[pos]\n"
        r += "    _, c.by_score = torch.sort(c.si, stable=True)\n"
        r += "    c.num_positive = torch.full((), np_, dtype=s.dtype, device=s.device)\n"
        r += "    c.num_valid = torch.full((), vidx.numel(), dtype=s.dtype, device=s.device)\n"
        r += "    c.num_negative = c.num_valid - c.num_positive\n"
        r += "    c.a = {}\n    c.b = {}\n    arg = {}\n"
        r += "    sets = [" + sets.map { s in
            let base = s.base == .positives ? 0 : (s.base == .negatives ? 1 : 2)
            return "_members(s, y, sorted_valid, \(base), \(s.top.map(String.init) ?? "None"))"
        }.joined(separator: ", ") + "]\n"
        for (k, slot) in slots.enumerated() {
            r += "    # slot \(k): \(slot.name)\n"
            if let pair = plan.pairs[k] {
                r += "    c.a[\(k)] = \(w.rows(pair.forward))(c, \(setOf(k))).to(s.dtype)\n"
            } else if let a = plan.anchors[k] {
                let fn = w.anchor([a.forward])
                switch slot.kind {
                case .maxBelow: r += "    c.a[\(k)], arg[\(k)] = _max_below(c, \(fn)(c)[0])\n"
                case .sumPositive: r += "    c.b[\(k)] = \(fn)(c)[0].sum()\n"
                default: r += "    c.b[\(k)] = \(fn)(c)[0].sum() / np_ if np_ > 0 else c.zero\n"
                }
            }
        }
        r += "    loss = \(w.batch([f.root]))(c)[0]\n"
        r += "    if not grad:\n        return loss, None, None\n"
        r += "    n = s.numel()\n    ds = torch.zeros(n, dtype=_ACC, device=s.device)\n"
        r += "    du = torch.zeros(n, dtype=_ACC, device=s.device)\n"
        r += "    adj_a = {k: torch.zeros(np_, dtype=_ACC, device=s.device) for k in c.a}\n"
        r += "    adj_b = [torch.zeros((), dtype=_ACC, device=s.device) for _ in range(\(slots.count))]\n"
        func add(_ leaf: Int, _ v: String) -> String? {
            guard leaf >= RankingInput.firstSlot else { return nil }
            let k = leaf - RankingInput.firstSlot
            return slots[k].level == .batch ? "adj_b[\(k)] += (\(v)).sum()" : "adj_a[\(k)] += \(v)"
        }
        if !dv.root.nodes.isEmpty {
            r += "    o = \(w.batch(dv.root.nodes))(c)\n"
            for (i, leaf) in dv.root.leaves.enumerated() { if let a = add(leaf, "o[\(i)].to(_ACC)") { r += "    \(a)\n" } }
        }
        for k in slots.indices.reversed() where dv.reached[k] {
            if let pair = plan.pairs[k], !(pair.rows.isEmpty && pair.columns.isEmpty) {
                r += "    # slot \(k) (pairsum) backward\n    wt = adj_a[\(k)].to(s.dtype)\n"
                for (target, e) in pair.rows {
                    r += "    v = wt.to(_ACC) * \(w.rows(e))(c, \(setOf(k)))\n"
                    switch target {
                    case .s: r += "    ds.index_add_(0, pos, v)\n"
                    case .u: r += "    du.index_add_(0, pos, v)\n"
                    case .slot(let k2): r += "    \(add(RankingInput.slotIndex(k2), "v")!)\n"
                    }
                }
                for (target, e) in pair.columns {
                    r += "    \(target == .s ? "ds" : "du").index_add_(0, \(setOf(k)).entries, \(w.columns(e))(c, \(setOf(k)), wt))\n"
                }
            } else if let a = plan.anchors[k], !a.backward.isEmpty {
                r += "    if np_ > 0:  # slot \(k) (\(slots[k].name)) backward\n"
                switch slots[k].kind {
                case .meanPositive: r += "        wt = (adj_b[\(k)] / np_).expand(np_)\n"
                case .sumPositive: r += "        wt = adj_b[\(k)].expand(np_)\n"
                default: r += "        wt = torch.zeros(np_, dtype=_ACC, device=s.device).index_add_(0, arg[\(k)], adj_a[\(k)])\n"
                }
                r += "        pr = \(w.anchor(a.backward))(c)\n"
                for (i, leaf) in a.leaves.enumerated() {
                    let v = "wt * pr[\(i)].to(_ACC)"
                    if leaf == RankingInput.si.rawValue { r += "        ds.index_add_(0, pos, \(v))\n" }
                    else if leaf == RankingInput.ui.rawValue { r += "        du.index_add_(0, pos, \(v))\n" }
                    else if let a = add(leaf, v) { r += "        \(a)\n" }
                }
            }
        }
        r += "    return loss, ds.to(s.dtype), du.to(s.dtype)\n\n\n"
        return r
    }

    /// The autograd Function and the nn.Module.
    static func moduleText(_ plan: RankingPlan, className: String) -> String {
        let fn = className + "Function"
        return """
        class \(fn)(torch.autograd.Function):
            \"\"\"The batch's ranking loss with lossc's gradient as its backward.

            forward(s, y, u): flat tensors of the compute dtype (u may be zeros). The forward
            evaluates the loss and, in the same pass, lossc's gradient (for AP-Loss the
            error-driven update), saved for the backward.
            \"\"\"

            @staticmethod
            def forward(ctx, s, y, u):
                loss, ds, du = _evaluate(s, y, u, True)
                ctx.save_for_backward(ds, du)
                return loss

            @staticmethod
            @torch.autograd.function.once_differentiable
            def backward(ctx, grad_loss):
                # lossc's first derivative: differentiating it again is an error, not a silent zero
                ds, du = ctx.saved_tensors
                return grad_loss * ds, None, grad_loss * du


        class \(className)(torch.nn.Module):
            \"\"\"lossc ranking loss: \(className)().

            forward(s, y, u=None): scores s, labels y (1 positive, 0 negative, -1 ignored) and
            qualities u in [0, 1] (default 0), any broadcastable shapes: every entry of the batch
            is pooled into one ranking. Returns the batch's scalar loss; the gradient goes to s
            and to u (where the loss reaches u: REACHES_U). float16 / bfloat16 are computed in
            float32 and returned in the input dtype. Params are fixed at emission (PARAMS).
            \"\"\"

            @property
            def params(self):
                \"\"\"The params this module was emitted with, by their names in the .loss file.\"\"\"
                return dict(PARAMS)

            def forward(self, s, y, u=None):
                _no_grad_required("y", y)
                input_dtype = s.dtype
                dtype = _compute_dtype(s)
                shapes = [s.shape, y.shape] + ([] if u is None else [u.shape])
                shape = torch.broadcast_shapes(*shapes)
                s = s.to(dtype).expand(shape).reshape(-1)
                y = y.to(dtype).expand(shape).reshape(-1)
                if u is None:
                    u = torch.zeros_like(s)
                else:
                    u = u.to(dtype).expand(shape).reshape(-1)
                if torch.is_grad_enabled() and (s.requires_grad or u.requires_grad):
                    loss = \(fn).apply(s, y, u)
                else:
                    loss = _evaluate(s, y, u, False)[0]
                return loss.to(input_dtype)



        """
    }

    /// Provenance, the formula, the evaluation plan.
    static func header(_ plan: RankingPlan, command: String?) -> String {
        let f = plan.formula.formula
        var s = "# Generated by lossc \(Codegen.version) (torch backend, ranking).\n# Do not edit; regenerate with\n"
        s += "#     \(PyNames.commentText(Provenance.regenerate(command, path: f.file.path, target: "torch")))\n#\n"
        s += "# Ranking loss '\(PyNames.commentText(f.name))'"
        s += f.params.isEmpty ? ", no params.\n" : ", params fixed at emission (re-emit with --param NAME=VALUE to change): "
            + f.params.map { "\(PyNames.commentText($0.name)) = \(formatNumber($0.value))" }.joined(separator: ", ") + ".\n"
        s += "# Source formula:\n#\n"
        let lines = String(decoding: f.file.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines.prefix(60) { s += "#     " + PyNames.commentText(String(line)) + "\n" }
        if lines.count > 60 { s += "#     ... (\(lines.count - 60) more lines)\n" }
        s += "#\n# Evaluation (O(n log n): torch.sort by score, prefix sums, torch.searchsorted per positive):\n"
        for line in plan.summary { s += "#   " + PyNames.commentText(line) + "\n" }
        s += "#\n# Imports only torch and math. Runs on any device; building the index lists reads their\n"
        s += "# sizes on the host (a few synchronisations per call).\n\n"
        return s
    }
}

"""AP-Loss as a built-in baseline, until the torch backend emits ranking losses.

Chen et al., "Towards Accurate One-Stage Object Detection with AP-Loss", CVPR 2019; the official
code (cccorn/AP-loss, lib/model/aploss.py `AP_loss`) loops over the positives, each against every
negative above min(s_P) - delta. This computes the same loss and error-driven update with sorts and
prefix sums instead (f(d) = clamp(d / (2 delta) + 1/2, 0, 1) is piecewise linear, so each sum over
a sorted set is a count plus a window sum): O((P + N) log) with no Python loop, which a batch of
~10^5-10^6 entries needs on a CPU. The test compares it with a transcription of the official loop.
"""
import torch


def _f_sums(sorted_vals, prefix, queries, delta):
    """For each query q: sum over sorted_vals v of clamp((v - q) / (2 delta) + 1/2, 0, 1)."""
    n = sorted_vals.numel()
    lo = torch.searchsorted(sorted_vals, queries - delta, right=True)  # v <= q - delta: f = 0
    hi = torch.searchsorted(sorted_vals, queries + delta, right=False)  # v >= q + delta: f = 1
    count = (hi - lo).to(queries.dtype)
    window = prefix[hi] - prefix[lo]
    return (n - hi).to(queries.dtype) + (window - count * queries) / (2 * delta) + 0.5 * count


class _APLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s, t, delta):
        flat, lab = s.detach().reshape(-1), t.reshape(-1)
        pos, neg = lab == 1, lab == 0
        grad = torch.zeros_like(flat)
        num_pos = int(pos.sum())
        if num_pos == 0:
            ctx.save_for_backward(grad.reshape(s.shape))
            return s.new_zeros(())
        s_pos, s_neg = flat[pos], flat[neg]
        s_pos_sorted, order = torch.sort(s_pos, stable=True)
        s_neg_sorted = torch.sort(s_neg).values
        zero = flat.new_zeros(1)
        prefix_neg = torch.cat([zero, torch.cumsum(s_neg_sorted, 0)])
        prefix_pos = torch.cat([zero, torch.cumsum(s_pos_sorted, 0)])
        # ranks of the positives, in ascending score order (the official scan's order)
        rank_pos = _f_sums(s_pos_sorted, prefix_pos, s_pos_sorted, delta)  # self term 1/2 included
        rank_pos = rank_pos + 0.5
        rank = rank_pos + _f_sums(s_neg_sorted, prefix_neg, s_pos_sorted, delta)
        prec = rank_pos / rank
        interp = torch.cummax(prec, 0).values  # best precision at or below s_i
        scale = torch.where(interp > prec, (1 - interp) / (1 - prec), torch.ones_like(prec))
        w = scale / rank  # L_ij = w_i f(s_j - s_i) for each negative j
        # negatives: sum_i w_i f(s_j - s_i) = sum_i w_i clamp((s_j - s_i)/(2 delta) + 1/2, 0, 1)
        pw = torch.cat([zero, torch.cumsum(w, 0)])
        pws = torch.cat([zero, torch.cumsum(w * s_pos_sorted, 0)])
        lo = torch.searchsorted(s_pos_sorted, s_neg - delta, right=True)  # s_i <= s_j - delta: f = 1
        hi = torch.searchsorted(s_pos_sorted, s_neg + delta, right=False)  # s_i < s_j + delta: window
        g_neg = pw[lo] + ((s_neg / (2 * delta) + 0.5) * (pw[hi] - pw[lo]) - (pws[hi] - pws[lo]) / (2 * delta))
        g_pos = torch.empty_like(interp)
        g_pos[order] = -(1 - interp)
        grad[pos] = g_pos / num_pos
        grad[neg] = g_neg / num_pos
        ctx.save_for_backward(grad.reshape(s.shape))
        return (1 - interp).mean()

    @staticmethod
    def backward(ctx, out):
        (grad,) = ctx.saved_tensors
        return out * grad, None, None


class APLoss(torch.nn.Module):
    """forward(s, y, u=None): the batch's AP-Loss over scores s with labels y in {1, 0, -1}."""

    def __init__(self, delta=1.0):
        super().__init__()
        self.delta = float(delta)

    def forward(self, s, y, u=None):
        return _APLoss.apply(s, y, self.delta)

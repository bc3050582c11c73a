"""torch.compile(fullgraph=True) of the emitted focal, cross-entropy and GIoU modules: no
graph break (fullgraph raises on one), and values and gradients as in eager mode.
Kept to three small compilations: Inductor takes tens of seconds each on a small CPU."""
import pytest
import torch

import _torch_support as ts


def _compile_matches_eager(criterion, inputs):
    torch._dynamo.reset()
    compiled = torch.compile(criterion, fullgraph=True, dynamic=False)
    results = []
    for f in (criterion, compiled):
        first = inputs[0].detach().clone().requires_grad_(True)
        value = f(first, *inputs[1:])
        value.backward()
        results.append((value.detach(), first.grad))
    (eager_value, eager_grad), (compiled_value, compiled_grad) = results
    torch.testing.assert_close(compiled_value, eager_value, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled_grad, eager_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["focal", "cross_entropy", "giou"])
def test_compile_fullgraph_matches_eager(lossc, name):
    mod = ts.module(lossc, name)
    kind = ts.KIND_OF[name]
    inputs = [t.float() if t.is_floating_point() else t for t in ts.data(kind, n=64, seed=30)]
    _compile_matches_eager(mod.Loss(), inputs)

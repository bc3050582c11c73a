"""The emitted torch modules against lossc's own reference (`lossc eval --precision f64`) for
every per-sample example: values and gradients, on random data and at the extremes (logits
+-30, +-100, +-1e4; identical, zero-area, far-apart and nested boxes), in float64 (tight) and
float32 (loose)."""
import importlib.util

import pytest
import torch

import _torch_support as ts

CASES = [(name, kind) for kind, names in ts.PER_SAMPLE.items() for name in names]


@pytest.mark.parametrize("name,kind", CASES)
def test_float64_matches_lossc_eval(lossc, tmp_path, name, kind):
    mod = ts.module(lossc, name)
    assert mod.KIND == kind
    inputs = ts.data(kind, n=40, seed=7)
    expected_value, expected_grad = ts.reference(lossc, ts.EXAMPLES / (name + ".loss"), kind, inputs, tmp_path)
    value, grad = ts.value_and_grad(mod.Loss(reduction="none"), inputs)
    ts.assert_close(value, expected_value, 1e-10, 1e-12, name + " value")
    ts.assert_close(grad, expected_grad, 1e-9, 1e-12, name + " gradient")


def _compiled_form(mod):
    """A fresh copy of the module whose eager calls run the forms written for torch.compile
    (out of place; sigmoids and softpluses of one tensor sharing one exponential)."""
    spec = importlib.util.spec_from_file_location(mod.__name__ + "_compiled_form", mod.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    copy._value, copy._value_and_grad = copy._value_compiled, copy._value_and_grad_compiled
    return copy


@pytest.mark.parametrize("name,kind", CASES)
def test_compiled_form_matches_lossc_eval(lossc, tmp_path, name, kind):
    # the form torch.compile traces, run eagerly on the same points and extremes
    mod = _compiled_form(ts.module(lossc, name))
    for dtype, seed, rtol, atol in [(torch.float64, 7, 1e-9, 1e-12), (torch.float32, 8, 1e-3, 1e-3 if kind == "box" else 1e-5)]:
        inputs = ts.data(kind, n=40, seed=seed)
        expected_value, expected_grad = ts.reference(lossc, ts.EXAMPLES / (name + ".loss"), kind, inputs, tmp_path)
        value, grad = ts.value_and_grad(mod.Loss(reduction="none"), inputs, dtype=dtype)
        ts.assert_close(value, expected_value, rtol, atol, "%s %s compiled-form value" % (name, dtype))
        ts.assert_close(grad, expected_grad, rtol, atol, "%s %s compiled-form gradient" % (name, dtype))
        with torch.no_grad():
            plain = mod.Loss(reduction="none")(*[t.to(dtype) if t.is_floating_point() else t for t in inputs])
        ts.assert_close(plain, expected_value, rtol, atol, "%s %s compiled-form value without grad" % (name, dtype))


@pytest.mark.parametrize("name,kind", CASES)
def test_eager_form_leaves_the_inputs_alone(lossc, name, kind):
    # eager mode writes into temporaries that die (a.mul_(b)); never into x, y, w, pred or
    # target, which float64 inputs reach without a copy
    mod = ts.module(lossc, name)
    inputs = ts.data(kind, n=40, seed=9)
    before = [t.clone() for t in inputs]
    ts.value_and_grad(mod.Loss(reduction="none"), inputs)
    with torch.no_grad():
        mod.Loss(reduction="sum")(*inputs)
    for a, b in zip(inputs, before):
        assert torch.equal(torch.nan_to_num(a, 7.0), torch.nan_to_num(b, 7.0)), name


@pytest.mark.parametrize("name,kind", CASES)
def test_float32_matches_lossc_eval(lossc, tmp_path, name, kind):
    mod = ts.module(lossc, name)
    inputs = ts.data(kind, n=40, seed=8)
    expected_value, expected_grad = ts.reference(lossc, ts.EXAMPLES / (name + ".loss"), kind, inputs, tmp_path)
    value, grad = ts.value_and_grad(mod.Loss(reduction="none"), inputs, dtype=torch.float32)
    assert value.dtype == torch.float32 and grad.dtype == torch.float32
    # boxes far apart (coordinates 1e4) lose float32 digits in the areas themselves
    atol = 1e-3 if kind == "box" else 1e-5
    ts.assert_close(value, expected_value, 1e-4, atol, name + " value")
    ts.assert_close(grad, expected_grad, 1e-3, atol, name + " gradient")


def test_params_override_matches_lossc_eval(lossc, tmp_path):
    mod = ts.module(lossc, "focal")
    inputs = ts.data("binary", n=30, seed=9)
    params = [("alpha", 0.4), ("gamma", 1.5)]
    expected_value, expected_grad = ts.reference(lossc, ts.EXAMPLES / "focal.loss", "binary", inputs, tmp_path, params)
    value, grad = ts.value_and_grad(mod.Loss(alpha=0.4, gamma=1.5, reduction="none"), inputs)
    ts.assert_close(value, expected_value, 1e-10, 1e-12, "focal(0.4, 1.5) value")
    ts.assert_close(grad, expected_grad, 1e-9, 1e-12, "focal(0.4, 1.5) gradient")


def test_emitted_defaults_follow_param_flags(lossc, tmp_path):
    mod = ts.module(lossc, "focal", gamma=3.0)
    assert mod.PARAMS == {"alpha": 0.25, "gamma": 3.0}
    inputs = ts.data("binary", n=20, seed=10)
    expected_value, _ = ts.reference(lossc, ts.EXAMPLES / "focal.loss", "binary", inputs, tmp_path, [("gamma", 3.0)])
    value, _ = ts.value_and_grad(mod.Loss(reduction="none"), inputs)
    ts.assert_close(value, expected_value, 1e-10, 1e-12, "focal(gamma=3) value")


EVERY_OPERATOR = """loss every_op: binary
param a = 0.75
param b = 1.5
let s = scaled_gd(x) + scaled_alf(x) + scaled_erf(x) + scaled_erfc(x) + tanh(x) + sin(x) + cos(x)
let t = relu(x) + abs(x) + sqrt(abs(x) + 1) + log1p(abs(x)) + expm1(-abs(x)) + exp(-abs(x))
let u = min(x, a) + max(x, -a) + select(x - a, x, -x) + softplus(x) + sigmoid(x) + log(sigmoid(x) + 1)
let v = pow(abs(x) + 1, b) + (abs(x) + 2) ^ 3 + stop_gradient(x) * y + 1 / (abs(x) + b) - (1 - a) * w
return s + t + u + v
"""


def test_every_elementwise_operator_matches_lossc_eval(lossc, tmp_path):
    # one loss reading every elementwise operator of the table, at random points and extremes
    # (ties of min/max/select with params avoided: the reference picks a side there)
    path = tmp_path / "every_op.loss"
    path.write_text(EVERY_OPERATOR)
    mod = ts.module(lossc, str(path))
    x = torch.cat([torch.linspace(-40, 40, 81, dtype=torch.float64) + 0.013,
                   torch.tensor([-1e4, -100.0, 100.0, 1e4], dtype=torch.float64)])
    y = (torch.arange(x.numel()) % 2).double()
    w = torch.linspace(0, 1, x.numel(), dtype=torch.float64)
    expected_value, expected_grad = ts.reference(lossc, path, "binary", (x, y, w), tmp_path)
    value, grad = ts.value_and_grad(mod.Loss(reduction="none"), (x, y, w))
    ts.assert_close(value, expected_value, 1e-10, 1e-12, "every-op value")
    ts.assert_close(grad, expected_grad, 1e-9, 1e-12, "every-op gradient")


MULTICLASS_OPERATORS = """loss class_ops: multiclass
return -dot(y, log_softmax(x)) + sum(softmax(x * w) * y) * 0.5 + dot(x, x) * 0.01 + sum(y * w) * 0.1
"""


def test_class_axis_operators_match_lossc_eval(lossc, tmp_path):
    path = tmp_path / "class_ops.loss"
    path.write_text(MULTICLASS_OPERATORS)
    mod = ts.module(lossc, str(path))
    inputs = ts.data("multiclass", n=25, seed=11)
    expected_value, expected_grad = ts.reference(lossc, path, "multiclass", inputs, tmp_path)
    value, grad = ts.value_and_grad(mod.Loss(reduction="none"), inputs)
    ts.assert_close(value, expected_value, 1e-10, 1e-12, "class-axis value")
    ts.assert_close(grad, expected_grad, 1e-9, 1e-12, "class-axis gradient")

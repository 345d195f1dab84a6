"""``pure_callback`` with several results inside compiled programs, some of them unused
(dead-code elimination keeps the call for the used ones; Numba's object mode rejected
a declared result nothing read). References: the Python function called directly."""
from __future__ import annotations

import numpy as np
import pytest

import xform

SDS = xform.ShapeDtypeStruct
CALLS: list = []


def three(x, s):
    """Three results of mixed shapes: an array, a 0-d value, an integer array."""
    CALLS.append(x.shape)
    return np.sin(x) * s, np.float64(np.sum(x * x)), np.arange(x.shape[-1]) * 2


def cb(x, s):
    n = x.shape[-1]
    return xform.pure_callback(
        three, (SDS(x.shape, x.dtype), SDS((), x.dtype), SDS((n,), np.int64)), x, s,
        vmap_method="sequential")


def use_first(x, s):
    a, _, _ = cb(x, s)
    return a + 1.0


def use_middle(x, s):
    _, b, _ = cb(x, s)
    return b * 2.0


def use_last_two(x, s):
    _, b, c = cb(x, s)
    return b + c


def use_all(x, s):
    a, b, c = cb(x, s)
    return a * b + c


def _direct(fun, x, s):
    """``fun`` with the callback's results computed by calling ``three`` directly."""
    a, b, c = three(np.asarray(x), np.asarray(s))
    return {"use_first": a + 1.0, "use_middle": b * 2.0, "use_last_two": b + c,
            "use_all": a * b + c}[fun.__name__]


FUNS = [use_first, use_middle, use_last_two, use_all]
BY_NAME = {f.__name__: f for f in FUNS}
JITTED = {f.__name__: xform.jit(f) for f in FUNS}  # one compile each, shared


@pytest.mark.parametrize("fun", FUNS, ids=lambda f: f.__name__)
def test_results_used_and_unused_under_jit(fun):
    x, s = np.array([0.3, -1.2, 2.0]), 1.5
    want = _direct(fun, x, s)
    np.testing.assert_allclose(fun(x, s), want, rtol=0, atol=0)  # eager
    CALLS.clear()
    got = JITTED[fun.__name__](x, s)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert CALLS == [(3,)]  # one call per kernel call, whatever is used
    # a second call runs the compiled kernel again
    np.testing.assert_allclose(JITTED[fun.__name__](2 * x, -s), _direct(fun, 2 * x, -s),
                               rtol=1e-15)


def test_unused_results_are_not_in_the_jaxpr_outputs_but_the_call_stays():
    j = JITTED["use_middle"].lower(np.ones(3), 1.0).jaxpr
    calls = [e for e in j.jaxpr.eqns if e.primitive.name == "pure_callback"]
    assert len(calls) == 1 and len(calls[0].outvars) == 3


def test_vmap_of_jit_with_unused_results():
    xs, s = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.25]]), 0.5
    for name in ("use_first", "use_middle"):
        got = xform.vmap(JITTED[name], in_axes=(0, None))(xs, s)
        want = np.stack([_direct(BY_NAME[name], x, s) for x in xs])
        np.testing.assert_allclose(got, want, rtol=1e-15)


@xform.custom_jvp
def sin_via_callback(x):
    a, _, _ = cb(x, 1.0)  # the 0-d and integer results are unused
    return a


@sin_via_callback.defjvp
def _sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    cos, _ = xform.pure_callback(lambda v: (np.cos(v), np.tan(v)),
                                 (SDS(x.shape, x.dtype), SDS(x.shape, x.dtype)), x,
                                 vmap_method="sequential")
    return sin_via_callback(x), cos * t  # tan unused


_jit_grad = xform.jit(xform.grad(lambda v: sin_via_callback(v).sum()))


def test_grad_through_custom_jvp_around_a_multi_result_callback():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(_jit_grad(x), np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(xform.grad(lambda v: sin_via_callback(v).sum())(x), np.cos(x),
                               rtol=1e-15)
    # against central differences of the callback itself
    h = 1e-6
    fd = (np.sin(x + h) - np.sin(x - h)) / (2 * h)
    np.testing.assert_allclose(_jit_grad(x), fd, rtol=1e-8)
    per_row = xform.vmap(_jit_grad)(np.stack([x, x + 1.0]))
    np.testing.assert_allclose(per_row, np.cos(np.stack([x, x + 1.0])), rtol=1e-15)

"""Accuracy, special values, fast-math safety and vectorization of numba_math.

Errors are measured in ulp of the float64 result against numpy, and against
numpy evaluated in long double (64-bit mantissa on x86) where that is more
precise than float64, so that numpy's own error does not hide ours.
"""

import math
import platform
import re
import types

import numba
import numpy as np
import pytest

from xform.backend.numba import vector_math as nm
from xform.backend.numba.vector_math import (
    FASTMATH,
    VECTOR_MATH,
    vcos,
    vexp,
    vlog,
    vlogistic,
    vsin,
    vtanh,
)

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is optional
    given = None

MAX_ULP = 4.0
LD = np.longdouble
HAVE_LD = np.finfo(LD).nmant >= 63  # x87 extended or quad


def _logistic(x):
    """Numpy logistic in the overflow-free form (1/(1+exp(-x)) loses x << 0)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


NUMPY = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "logistic": _logistic,
}

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

_KERNELS = {}


def kernel(name, fastmath=False):
    """A compiled loop applying VECTOR_MATH[name] elementwise (cached)."""
    key = (name, bool(fastmath))
    if key not in _KERNELS:
        f = VECTOR_MATH[name]

        @numba.njit(fastmath=fastmath, error_model="numpy")
        def run(a, out):
            for i in range(a.size):
                out[i] = f(a[i])

        _KERNELS[key] = run
    return _KERNELS[key]


def apply(name, x, fastmath=False):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    kernel(name, fastmath)(x, out)
    return out


def reference(name, x):
    """Best available reference: numpy in long double, else float64."""
    with np.errstate(all="ignore"):
        if HAVE_LD:
            return NUMPY[name](x.astype(LD))
        return NUMPY[name](x)


def ulp_error(got, ref):
    """|got - ref| in units of the float64 spacing at ref; specials must match."""
    got = np.asarray(got, dtype=np.float64)
    with np.errstate(all="ignore"):
        ref64 = np.asarray(ref).astype(np.float64)
        diff = np.abs(got.astype(LD) - np.asarray(ref, dtype=LD))
        err = (diff / np.spacing(np.abs(ref64)).astype(LD)).astype(np.float64)
    special = ~np.isfinite(got) | ~np.isfinite(ref64)
    same = (got == ref64) | (np.isnan(got) & np.isnan(ref64))
    return np.where(special, np.where(same, 0.0, np.inf), err)


def log_uniform(rng, lo, hi, n, signed=True):
    x = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    if signed:
        x *= rng.choice([-1.0, 1.0], n)
    return x


def same_value(a, b):
    """Bitwise-meaningful equality: same value and sign of zero, or both nan."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))


# --------------------------------------------------------------------------
# accuracy over the full range
# --------------------------------------------------------------------------

N = 200_000
DENORM_MIN = 5e-324
DBL_MAX = np.finfo(np.float64).max


def _samples(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "exp":
        parts = [
            log_uniform(rng, 1e-320, 746.0, N),
            rng.uniform(-746.0, 710.0, N),
            rng.uniform(-746.0, -708.0, N // 4),  # denormal results
        ]
    elif name == "log":
        parts = [
            log_uniform(rng, DENORM_MIN, DBL_MAX, N, signed=False),
            rng.uniform(0.5, 2.0, N),
            1.0 + log_uniform(rng, 1e-17, 1e-3, N // 4),
            log_uniform(rng, DENORM_MIN, 2.2e-308, N // 4, signed=False),
        ]
    elif name in ("sin", "cos"):
        parts = [
            log_uniform(rng, DENORM_MIN, DBL_MAX, N),
            rng.uniform(-20.0, 20.0, N),
            # near multiples of pi/2, where reduction cancels most
            (rng.integers(1, 10**6, N // 4) * (np.pi / 2)) * (1 + rng.uniform(-1e-15, 1e-15, N // 4)),
        ]
    else:  # tanh, logistic
        parts = [
            log_uniform(rng, DENORM_MIN, 1e3, N),
            rng.uniform(-40.0, 40.0, N),
            log_uniform(rng, 700.0, DBL_MAX, N // 8),
        ]
    return np.concatenate(parts)


@pytest.mark.parametrize("name", sorted(VECTOR_MATH))
def test_accuracy_vs_numpy(name):
    x = _samples(name)
    got = apply(name, x)
    with np.errstate(all="ignore"):
        ref_np = NUMPY[name](x)
    err_np = ulp_error(got, ref_np)
    worst = int(np.argmax(err_np))
    assert err_np.max() <= MAX_ULP, (name, x[worst], got[worst], ref_np[worst])


@pytest.mark.codegen_portable
@pytest.mark.skipif(not HAVE_LD, reason="needs extended-precision long double")
@pytest.mark.parametrize(
    "name, bound",
    # Measured maxima are about exp 0.97, log 0.82, tanh 1.38, logistic 2.24,
    # sin/cos 0.76; the bounds leave a little slack.
    [
        ("exp", 1.5),
        ("log", 1.5),
        ("tanh", 2.0),
        ("logistic", 3.0),
        ("sin", 1.5),
        ("cos", 1.5),
    ],
)
def test_accuracy_vs_long_double(name, bound):
    x = _samples(name)
    got = apply(name, x)
    err = ulp_error(got, reference(name, x))
    worst = int(np.argmax(err))
    assert err.max() <= bound, (name, x[worst], got[worst], err[worst])


def test_sin_cos_hardest_reductions():
    """Arguments closest to multiples of pi/2 (worst cases of the reduction)."""
    x = np.array(
        [
            6381956970095103.0 * 2.0**797,  # closest double to k*pi/2 overall
            5.319372648326541e255,
            1.5707963267948966,
            3.141592653589793,
            4.71238898038469,
            6.283185307179586,
            1e22,
            2.0**1023,
            DBL_MAX,
            -DBL_MAX,
            1e-300,
        ]
    )
    for name in ("sin", "cos"):
        err = ulp_error(apply(name, x), reference(name, x))
        assert err.max() <= (1.5 if HAVE_LD else MAX_ULP), (name, err)


# Leading hex digits of 2/pi (as in fdlibm's ipio2 table).
TWO_OVER_PI_HEX = "A2F9836E4E441529FC2757D1F534DDC0DB6295993C439041FE5163"


@pytest.mark.parametrize("row", [0, 1, 30, 79])
def test_two_over_pi_table(row):
    """Each table row is the 192-bit window of 2/pi for its exponent."""
    words = [int(w) & 0xFFFFFFFFFFFFFFFF for w in nm._PH_TABLE[3 * row : 3 * row + 3]]
    window = words[0] | words[1] << 64 | words[2] << 128
    nbits = 4 * len(TWO_OVER_PI_HEX)
    e = row + nm._PH_EB0 - 1075  # |x| = M * 2**e with integer M
    top = e - 1 + 191  # 2/pi bit that lands on the window's lsb
    expected = (int(TWO_OVER_PI_HEX, 16) >> (nbits - top)) & ((1 << 192) - 1)
    assert window == expected


def test_split_constants():
    """Cody-Waite constants: hi parts have enough trailing zero bits."""
    hi_bits = int(np.float64(nm._LN2_HI).view(np.int64))
    assert hi_bits & ((1 << 11) - 1) == 0  # k*LN2_HI exact for |k| < 2**11
    assert abs((nm._LN2_HI + nm._LN2_LO) - math.log(2.0)) == 0.0
    assert nm._PIO2_HI + nm._PIO2_LO == math.pi / 2


# --------------------------------------------------------------------------
# special values
# --------------------------------------------------------------------------

INF = math.inf
NAN = math.nan

SPECIAL_CASES = {
    "exp": [
        (0.0, 1.0),
        (-0.0, 1.0),
        (INF, INF),
        (-INF, 0.0),
        (NAN, NAN),
        (DENORM_MIN, 1.0),
        (-DENORM_MIN, 1.0),
        (709.782712893384, 1.7976931348622732e308),
        (709.7827128933841, INF),
        (1000.0, INF),
        (-745.1332191019411, DENORM_MIN),
        (-745.1332191019412, 0.0),
        (-1e300, 0.0),
    ],
    "log": [
        (1.0, 0.0),
        (0.0, -INF),
        (-0.0, -INF),
        (-1.0, NAN),
        (-DENORM_MIN, NAN),
        (-INF, NAN),
        (INF, INF),
        (NAN, NAN),
        (DENORM_MIN, -744.4400719213812),
        (DBL_MAX, 709.782712893384),
    ],
    "sin": [
        (0.0, 0.0),
        (-0.0, -0.0),
        (DENORM_MIN, DENORM_MIN),
        (-DENORM_MIN, -DENORM_MIN),
        (1e-300, 1e-300),
        (INF, NAN),
        (-INF, NAN),
        (NAN, NAN),
    ],
    "cos": [
        (0.0, 1.0),
        (-0.0, 1.0),
        (DENORM_MIN, 1.0),
        (INF, NAN),
        (-INF, NAN),
        (NAN, NAN),
    ],
    "tanh": [
        (0.0, 0.0),
        (-0.0, -0.0),
        (DENORM_MIN, DENORM_MIN),
        (-DENORM_MIN, -DENORM_MIN),
        (INF, 1.0),
        (-INF, -1.0),
        (NAN, NAN),
        (20.0, 1.0),
        (-1e300, -1.0),
    ],
    "logistic": [
        (0.0, 0.5),
        (-0.0, 0.5),
        (INF, 1.0),
        (-INF, 0.0),
        (NAN, NAN),
        (40.0, 1.0),
        (-1000.0, 0.0),
        (-740.0, 4.2e-322),  # denormal result, where 1/(1+exp(-x)) gives 0
    ],
}


@pytest.mark.parametrize("name", sorted(SPECIAL_CASES))
def test_special_values(name):
    x, expected = map(np.array, zip(*SPECIAL_CASES[name]))
    f = VECTOR_MATH[name]
    loop = apply(name, x)
    scalar = np.array([f(v) for v in x])
    for got in (loop, scalar):
        ok = same_value(got, expected)
        assert ok.all(), list(zip(x[~ok], got[~ok], expected[~ok]))


@pytest.mark.parametrize("name", sorted(set(NUMPY) - {"logistic"}))
def test_specials_match_numpy(name):
    """Same results as the numpy ufunc (sign of zero included) on edge inputs."""
    x = np.array(
        [0.0, -0.0, INF, -INF, NAN, DENORM_MIN, -DENORM_MIN, 1e-310, -1e-310,
         2.2250738585072014e-308, -2.2250738585072014e-308, 1.0, -1.0,
         DBL_MAX, -DBL_MAX]
    )  # fmt: skip
    got = apply(name, x)
    with np.errstate(all="ignore"):
        ref = NUMPY[name](x)
    exact = same_value(got, ref)
    close = ulp_error(got, ref) <= MAX_ULP
    sign_ok = np.signbit(got) == np.signbit(ref)
    ok = exact | (close & sign_ok)
    assert ok.all(), list(zip(x[~ok], got[~ok], ref[~ok]))


def test_other_input_types():
    """float32 and integer arguments are computed in float64."""
    assert vexp(np.float32(1.5)) == vexp(1.5)
    assert vlog(3) == vlog(3.0)
    assert vsin(np.int64(3)) == vsin(3.0)
    assert vcos(np.float32(0.25)) == vcos(0.25)
    assert vtanh(np.float32(-2.0)) == vtanh(-2.0)
    assert vlogistic(2) == vlogistic(2.0)


if given is not None:

    @settings(max_examples=400, deadline=None)
    @given(st.floats(allow_nan=True, allow_infinity=True))
    def test_hypothesis_all_functions(x):
        arr = np.array([x])
        for name, f in VECTOR_MATH.items():
            got = np.array([f(x)])
            with np.errstate(all="ignore"):
                ref = NUMPY[name](arr)
            assert ulp_error(got, ref)[0] <= MAX_ULP, (name, x, got, ref)
            assert same_value(got, ref)[0] or ref[0] != 0.0, (name, x)


# --------------------------------------------------------------------------
# fast-math safety and vectorization
# --------------------------------------------------------------------------


def test_fastmath_flags():
    assert FASTMATH == {"reassoc", "contract", "nsz", "arcp"}
    assert not FASTMATH & {"nnan", "ninf", "fast", "afn"}


@pytest.mark.codegen_portable
@pytest.mark.parametrize("name", sorted(VECTOR_MATH))
def test_strict_callee_in_fastmath_kernel(name):
    """Inlined into a fastmath=FASTMATH kernel, results are bit-identical.

    Compiled with the full FASTMATH set *inside* the function bodies, exp,
    tanh and logistic break (reassoc+nsz folds the (t + 1.5*2**52) - 1.5*2**52
    rounding), so this guards the strict compilation of the callees.
    """
    f = VECTOR_MATH[name]
    assert f.targetoptions.get("fastmath") is False
    assert f.targetoptions.get("forceinline") is True
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [
            [1.0, -1.0, 0.5, 709.78, -0.0, 0.0, INF, -INF, NAN, DENORM_MIN],
            log_uniform(rng, DENORM_MIN, DBL_MAX, 20_000),
            rng.uniform(-50.0, 50.0, 20_000),
        ]
    )
    strict = apply(name, x)
    fast = apply(name, x, fastmath=FASTMATH)
    assert same_value(strict, fast).all()


def _module_compiled_with(fastmath):
    """A fresh copy of numba_math whose bodies are compiled with ``fastmath``."""
    src = open(nm.__file__).read()
    strict = '_jit = numba.njit(fastmath=False, error_model="numpy", forceinline=True)'
    assert src.count(strict) == 1
    src = src.replace(strict, strict.replace("fastmath=False", f"fastmath={fastmath!r}"))
    mod = types.ModuleType("numba_math_fastmath_copy")
    mod.__file__ = nm.__file__
    exec(compile(src, nm.__file__, "exec"), mod.__dict__)
    return mod


def test_bodies_safe_under_contract_nsz_arcp():
    """Documented claim: flags without reassoc do not hurt even inside bodies."""
    mod = _module_compiled_with({"contract", "nsz", "arcp"})
    rng = np.random.default_rng(7)
    for name, (x, expected) in (
        (n, tuple(map(np.array, zip(*SPECIAL_CASES[n], strict=True)))) for n in sorted(SPECIAL_CASES)
    ):
        f = mod.VECTOR_MATH[name]
        assert same_value([f(v) for v in x], expected).all(), name
        sample = _samples(name)[rng.integers(0, 100_000, 300)]
        got = np.array([f(v) for v in sample])
        assert ulp_error(got, reference(name, sample)).max() <= 3.0, name


def _packed_fp_ops(dispatcher):
    asm = "\n".join(dispatcher.inspect_asm().values())
    return re.findall(r"\bv?(?:fn?m(?:add|sub)\d*|mul|add|sub)pd\s+%[xyz]mm", asm)


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"),
    reason="assembly check written for x86-64",
)
@pytest.mark.parametrize("fastmath", [False, True], ids=["strict", "fastmath"])
@pytest.mark.parametrize("name", sorted(VECTOR_MATH))
def test_loop_vectorizes(name, fastmath):
    """The elementwise loop uses packed double arithmetic (no libm calls)."""
    k = kernel(name, FASTMATH if fastmath else False)
    apply(name, np.ones(4), FASTMATH if fastmath else False)  # ensure compiled
    asm = "\n".join(k.inspect_asm().values())
    assert len(_packed_fp_ops(k)) >= 8, name
    for libm in ("exp", "log", "sin", "cos", "tanh"):
        assert not re.search(rf"call\w*\s+\*?\w*\b{libm}\b", asm), (name, libm)

"""Tolerances derived from floating-point error bounds (issue 19).

Results that depend on the order in which sums are formed (dot products, matmuls,
einsum, reductions) differ in their last bits between machines: numpy's BLAS picks a
kernel per CPU (OPENBLAS_CORETYPE), SIMD widths change the order of partial sums, FMA
contracts products and sums. Comparing such results with another implementation's
rounding (numpy's float32 matmul, say) at a few ulps therefore encodes one machine.
Instead, values are compared with a reference computed in float64 (numpy on the
inputs converted exactly to float64), with a tolerance from the classical a-priori
error bounds (Higham, "Accuracy and Stability of Numerical Algorithms", ch. 3):

- u = unit roundoff of the result dtype (2**-11 float16, 2**-24 float32, 2**-53
  float64), and gamma(k) = k u / (1 - k u).
- A sum of products, each output an expression sum_j prod_i x_ij computed with + and *
  in any order (dot, matmul, einsum, tensordot, sum, cumsum, outer, kron): every term
  goes through at most k roundings (k = terms + factors per term - 1, plus one for a
  final conversion of the result dtype), so

      |computed - exact| <= gamma(k) * (the same expression on |x|)     (Higham 3.5)

  e.g. |fl(a @ b) - a @ b| <= gamma(n) * (|a| @ |b|) for a contraction of length n.
  This holds for every summation order, blocking, FMA use and accumulator precision
  at least the result's, i.e. for every correct BLAS kernel. It does not hold for a
  wrong result (a missing or doubled term, a wrong index, a lower working precision).
- The float64 reference has its own error, bounded the same way with float64's u, so
  the tolerance is (gamma_dtype(k) + gamma_float64(k)) * magnitude, plus k times the
  smallest subnormal of the dtype for gradual underflow.
- Complex results: each component of a complex sum of products is a real sum of
  products of twice the length with terms bounded by |a_j||b_j|, so k -> 2k and the
  modulus of the error gains a factor sqrt(2) (Higham 3.6).
- Two-pass variance (mean, deviations, sum of squares, divide): see ``variance``.

``assert_within(actual, ref, tol)`` checks |actual - ref| <= tol elementwise (nan where
the reference is nan, the same infinities).
"""
from __future__ import annotations

import warnings

import numpy as np

F64 = np.dtype(np.float64)


def real_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    return np.dtype(np.finfo(dt).dtype) if dt.kind == "c" else dt


def unit_roundoff(dtype) -> float:
    """u = 2**-p for a p-bit significand: half of numpy's eps."""
    return float(np.finfo(real_dtype(dtype)).eps) / 2


def gamma(k, dtype):
    """gamma(k) = k u / (1 - k u) (Higham's notation); ``k`` may be an array."""
    u = unit_roundoff(dtype)
    k = np.asarray(k, dtype=np.float64)
    assert np.all(k * u < 0.5), "bound meaningless: k u >= 1/2"
    return k * u / (1 - k * u)


def tolerance(k, magnitude, dtype):
    """(gamma_dtype(k) + gamma_f64(k)) * magnitude + k * (smallest subnormal), for a
    result of ``dtype`` compared with a float64 reference; see the module docstring."""
    dt = np.dtype(dtype)
    k = np.asarray(k, dtype=np.float64)
    c = 1.0
    if dt.kind == "c":
        k, c = 2 * k, np.sqrt(2.0)
    mag = np.abs(np.asarray(magnitude))
    tiny = float(np.finfo(real_dtype(dt)).smallest_subnormal)
    return c * (gamma(k, dt) + gamma(k, F64)) * mag + k * tiny


def tolerance_between(k, magnitude, dtype):
    """Tolerance between two results of ``dtype`` of the same operation on the same
    inputs (jit and eager, vmap and a loop), each within gamma(k) * magnitude of the
    exact value: 2 gamma(k) * magnitude (+ the underflow term, twice)."""
    dt = np.dtype(dtype)
    k = np.asarray(k, dtype=np.float64)
    c = 1.0
    if dt.kind == "c":
        k, c = 2 * k, np.sqrt(2.0)
    tiny = float(np.finfo(real_dtype(dt)).smallest_subnormal)
    return 2 * (c * gamma(k, dt) * np.abs(np.asarray(magnitude)) + k * tiny)


def rounded_tolerance(k, magnitude, ref, work_dtype, out_dtype):
    """Tolerance for a result computed at ``work_dtype`` (k roundings per term) and
    rounded once to ``out_dtype`` (float16 under jit: float32 accumulation, one
    rounding per result): u_out |ref| + (1 + u_out) gamma_work(k) |magnitude|, plus the
    float64 reference's own gamma_f64(k) |magnitude|."""
    u_out = unit_roundoff(out_dtype)
    mag = np.abs(np.asarray(magnitude))
    return (u_out * np.abs(np.asarray(ref)) + (1 + u_out) * gamma(k, work_dtype) * mag
            + gamma(k, F64) * mag + float(np.finfo(real_dtype(out_dtype)).smallest_subnormal))


# -- inputs in float64 ---------------------------------------------------------------------


def _is_numeric(x) -> bool:
    """Arrays, numpy scalars and Python floats/complexes are operands; Python ints and
    bools are taken as structural arguments (axes, counts, ``matrix_power``'s n)."""
    if isinstance(x, (float, complex, np.generic, np.ndarray)):
        return np.asarray(x).dtype.kind in "biufc"
    return False


def _map(f, x):
    """Apply ``f`` to the numeric leaves of nested lists/tuples."""
    if isinstance(x, (list, tuple)):
        return type(x)(_map(f, v) for v in x)
    return f(x) if _is_numeric(x) else x


def _count(x) -> int:
    if isinstance(x, (list, tuple)):
        return sum(_count(v) for v in x)
    return int(_is_numeric(x))


def to_float64(x):
    """float16/float32 -> float64, complex64 -> complex128 (exact conversions); other
    numbers and non-numeric arguments (subscripts, axes) unchanged."""
    def up(v):
        a = np.asarray(v)
        if a.dtype.kind == "f" and a.dtype.itemsize < 8:
            return a.astype(np.float64)
        if a.dtype.kind == "c" and a.dtype.itemsize < 16:
            return a.astype(np.complex128)
        return v
    return _map(up, x)


def magnitudes(x):
    """|x| of every numeric leaf (booleans as 0/1 floats)."""
    return _map(lambda v: np.abs(np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "b"
                                 else np.asarray(v)), x)


def ones(x):
    """An all-ones float64 array of the shape of every numeric leaf."""
    return _map(lambda v: np.ones(np.shape(v), np.float64), x)


def _kwargs64(kwargs):
    """``dtype=`` of a float/complex result becomes float64/complex128."""
    kw = dict(kwargs or {})
    if kw.get("dtype") is not None:
        dt = np.dtype(kw["dtype"])
        if dt.kind == "f":
            kw["dtype"] = np.float64
        elif dt.kind == "c":
            kw["dtype"] = np.complex128
    return kw


def _call(fn, args, kwargs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty slices, ddof >= n: nan/inf as numpy gives
        return np.asarray(fn(*args, **kwargs))


# -- bounds ---------------------------------------------------------------------------------


def sum_of_products(fn, args, kwargs, dtype):
    """``(ref, tol)`` for ``fn`` a sum of products of its numeric arguments (dot, matmul,
    vdot, inner, outer, tensordot, einsum, kron, multi_dot, sum, nansum, cumsum).

    ref = fn(float64 args); magnitude = fn(|args|); the number of terms of each output
    is fn(all-ones args); each term is a product of at most m factors (m = number of
    numeric arguments), so k = terms + m - 1, plus 1 for the final rounding to
    ``dtype`` (a float16 result of a float32 accumulation, say)."""
    a64, kw = to_float64(args), _kwargs64(kwargs)
    ref = _call(fn, a64, kw)
    mag = _call(fn, magnitudes(a64), kw)
    terms = np.maximum(_call(fn, ones(args), kw).real, 1)
    k = terms + (_count(args) - 1) + 1
    return ref, tolerance(k, mag, dtype)


def mean_of(fn, count):
    """Bound for ``fn`` = (sum of ``count`` terms) / count (mean, nanmean): the sum's
    count - 1 roundings, the division, the final rounding: k = count + 1 on the
    magnitude fn(|x|). ``count(args, kwargs)`` gives the number of terms per output."""
    def bound(_fn, args, kwargs, dtype):
        a64, kw = to_float64(args), _kwargs64(kwargs)
        ref = _call(fn, a64, kw)
        mag = _call(fn, magnitudes(a64), kw)
        return ref, tolerance(np.asarray(count(args, kwargs)) + 1, mag, dtype)
    return bound


def product_of(count):
    """Bound for a product of ``count`` factors (prod): count - 1 roundings, each
    relative, plus the final one: |error| <= gamma(count) |prod|."""
    def bound(fn, args, kwargs, dtype):
        a64, kw = to_float64(args), _kwargs64(kwargs)
        ref = _call(fn, a64, kw)
        return ref, tolerance(np.maximum(np.asarray(count(args, kwargs)), 1), ref, dtype)
    return bound


def variance(x, axis=None, ddof=0, keepdims=False, dtype=None, std=False):
    """``(ref, tol)`` for the two-pass variance (or its square root) that numpy and xform
    compute: m = sum(x)/n, d = x - m, v = sum(d*d)/(n - ddof), at the precision of the
    result dtype (or better).

    With delta = |m^ - m| <= gamma(n+1) mean(|x|) (mean bound above), and
    sum((x - m^)**2) = sum((x - m)**2) + n delta**2 (the cross term vanishes since
    sum(x - m) = 0), each squared deviation suffers 3 roundings (subtract, square)
    relative to (x - m^)**2, the sum n - 1 more, the division and final rounding 2:
    |v^ - v| <= gamma(n+4) (v + n delta**2/(n - ddof)) + n delta**2/(n - ddof).
    For std = sqrt(v): |sqrt(v^) - sqrt(v)| <= min(sqrt(e), e / sqrt(v)) with e that
    bound, plus the rounding of the square root (gamma(2) of the result).
    """
    x = np.asarray(x)
    # roundings per squared deviation: subtract, square (real); subtract, 2 squares, add
    # (complex: |d|**2 = re**2 + im**2)
    per_term = 4 if x.dtype.kind == "c" else 3
    out_dt = real_dtype(np.dtype(dtype) if dtype is not None else (
        np.result_type(x.dtype, np.float16) if x.dtype.kind in "fc" else F64))
    x64 = to_float64(x)
    if x64.dtype.kind not in "fc":
        x64 = x64.astype(np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = x.size // max(np.var(x64, axis=axis, keepdims=keepdims).size, 1) if x.size else 0
        v = np.asarray(np.var(x64, axis=axis, ddof=ddof, keepdims=keepdims))
        mean_abs = np.asarray(np.mean(np.abs(x64), axis=axis, keepdims=keepdims))
        delta = tolerance(n + 1, mean_abs, out_dt)
        denom = max(n - ddof, 0)
        shift = n * delta ** 2 / denom if denom > 0 else np.inf
        e = tolerance(n + per_term + 1, v + shift, out_dt) + shift
        if not std:
            return v, e
        s = np.sqrt(v)
        es = np.minimum(np.sqrt(e), np.where(s > 0, e / np.where(s > 0, s, 1), np.inf))
        return s, es + tolerance(2, s + es, out_dt)


# -- the check ------------------------------------------------------------------------------


def assert_within(actual, ref, tol, err_msg=""):
    """|actual - ref| <= tol elementwise, in float64/complex128; nan exactly where ref is
    nan (and not a +-inf in actual where ref is finite), infinities equal."""
    a = np.asarray(actual)
    r = np.asarray(ref)
    assert a.shape == r.shape or r.size == 1, (a.shape, r.shape, err_msg)
    wide = np.complex128 if a.dtype.kind == "c" or r.dtype.kind == "c" else np.float64
    a, r = a.astype(wide), np.broadcast_to(r.astype(wide), a.shape)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), a.shape)
    with np.errstate(all="ignore"):
        a_nan, r_nan = np.isnan(a), np.isnan(r)
        a_inf, r_inf = np.isinf(a) & ~a_nan, np.isinf(r) & ~r_nan
        finite = ~(r_nan | r_inf)
        err = np.abs(a - r)
        ok = np.where(finite, (err <= tol) & ~a_nan & ~a_inf, True)
        ok &= a_nan == r_nan
        ok &= np.where(r_inf, a == r, True)
    if not ok.all():
        bad = np.argwhere(~ok)[:5] if a.ndim else [()]
        lines = [f"  at {tuple(int(i) for i in b)}: got {a[tuple(b)]!r}, reference {r[tuple(b)]!r}, "
                 f"|diff| {err[tuple(b)]:.3g} > bound {tol[tuple(b)]:.3g}" for b in bad]
        raise AssertionError(f"{int((~ok).sum())} of {a.size} elements outside the error bound "
                             f"{err_msg}\n" + "\n".join(lines))

"""Convolution: ``conv_general_dilated`` (JAX's ``lax.conv_general_dilated``) with all
of its rules, and the helpers built on it (``conv``, ``conv_with_general_padding``,
``conv_transpose``, ``conv_dimension_numbers``, ``conv_general_shape_tuple``, ...).

Semantics (XLA's ConvGeneralDilated, as in JAX): with the operands permuted to
``lhs (N, C, *spatial)``, ``rhs (O, I, *window)`` and the result ``(N', O, *out)``::

    out[n, o, q] = sum_{i, k} lhs_pd[n, g(o) * I + i, q * stride + k * rhs_dilation]
                              * rhs[o, i, k]

where ``lhs_pd`` is lhs with ``lhs_dilation - 1`` zeros between its elements, then
padded by ``padding`` (negative padding crops), and ``g(o)`` is the feature group of
output feature ``o`` (``feature_group_count`` groups of ``I`` input features). With
``batch_group_count = G > 1`` the batch is split into G groups and output feature
group ``g`` only sees batch group ``g`` (N' = N / G).

The primitive is linear in each operand: its JVP is two convolutions and its
transposes are convolutions again (JAX's rules: the input cotangent of a strided
convolution is a convolution of the cotangent with the flipped kernel and
``lhs_dilation = stride``; the kernel cotangent swaps the roles of batch and
feature dimensions), so every derivative order and vmap of them is a convolution.
"""
from __future__ import annotations

import operator
from typing import NamedTuple, Sequence

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import Zero, defjvp
from ..interpreters.transpose import is_undefined
from ._rules import as_dtype_of
from .structural import checked_impl, reshape, rev, shape_of, transpose

__all__ = [
    "ConvDimensionNumbers", "conv_general_dilated", "conv", "conv_with_general_padding",
    "conv_transpose", "conv_dimension_numbers", "conv_general_permutations",
    "conv_general_shape_tuple", "conv_shape_tuple", "conv_transpose_shape_tuple",
    "padtype_to_pads", "conv_general_dilated_p",
]


class ConvDimensionNumbers(NamedTuple):
    """Where the batch/feature/spatial dimensions of each operand are (JAX's named tuple).

    ``lhs_spec = (batch dim, feature dim, spatial dims...)``, ``rhs_spec = (output feature
    dim, input feature dim, spatial dims...)``, ``out_spec = (batch dim, feature dim,
    spatial dims...)``; the spatial dimensions are listed in the same (rhs) order.

    >>> conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
    ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """

    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


# -- shapes, padding and dimension numbers ------------------------------------------------------


def _dilate_dim(d: int, r: int) -> int:
    return 0 if d == 0 else 1 + r * (d - 1)


def _dilate_shape(shape, dilation):
    return tuple(_dilate_dim(int(d), int(r)) for d, r in zip(shape, dilation))


def padtype_to_pads(in_shape, window_shape, window_strides, padding) -> list:
    """Explicit ``(low, high)`` padding pairs for a padding string: ``"VALID"`` (none),
    ``"SAME"`` (output size ``ceil(in / stride)``, the extra element at the end) or
    ``"SAME_LOWER"`` (the extra element at the start).

    >>> padtype_to_pads((10, 9), (3, 4), (2, 1), "SAME")
    [(0, 1), (1, 2)]
    """
    if not isinstance(padding, str):
        raise TypeError(f"padtype_to_pads: padding must be a string, got {padding!r}")
    mode = padding.upper()
    if mode == "VALID":
        return [(0, 0)] * len(in_shape)
    if mode not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of "
                         f"(low, high) pairs, got {padding!r}")
    pads = []
    for d, w, s in zip(in_shape, window_shape, window_strides):
        out = -(-int(d) // int(s))
        total = max((out - 1) * int(s) + int(w) - int(d), 0)
        lo = total // 2 if mode == "SAME" else total - total // 2
        pads.append((lo, total - lo))
    return pads


def conv_general_permutations(dimension_numbers) -> tuple:
    """The (lhs, rhs, out) permutations of a string spec such as
    ``("NHWC", "HWIO", "NHWC")``: each lists the batch (or output feature) dimension, the
    feature (input feature) dimension, then the spatial dimensions in rhs order.

    >>> conv_general_permutations(("NCHW", "OIHW", "NHWC"))
    ((0, 1, 2, 3), (0, 1, 2, 3), (0, 3, 1, 2))
    """
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    charpairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for i, (a, b) in enumerate(charpairs):
        spec = dimension_numbers[i]
        if not spec.count(a) == spec.count(b) == 1:
            raise TypeError(f"convolution dimension_numbers[{i}] must contain the characters "
                            f"'{a}' and '{b}' exactly once, got {spec!r}.")
        if len(spec) != len(set(spec)):
            raise TypeError(f"convolution dimension_numbers[{i}] cannot have duplicate "
                            f"characters, got {spec!r}.")
    if not (set(lhs_spec) - set("NC") == set(rhs_spec) - set("OI") == set(out_spec) - set("NC")):
        raise TypeError(f"convolution dimension_numbers elements must each have the same set "
                        f"of spatial characters, got {tuple(dimension_numbers)!r}.")

    def perm(spec, pair):
        spatial = [i for i, c in enumerate(spec) if c not in pair]
        if spec is not rhs_spec:
            spatial = sorted(spatial, key=lambda i: rhs_spec.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1])) + tuple(spatial)

    return tuple(perm(s, p) for s, p in zip(dimension_numbers, charpairs))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """``ConvDimensionNumbers`` from ``None`` (``NCHW``/``OIHW``/``NCHW`` order), a triple
    of strings (``("NHWC", "HWIO", "NHWC")``) or a ``ConvDimensionNumbers``.

    >>> conv_dimension_numbers((1, 3, 8), (4, 3, 3), None)
    ConvDimensionNumbers(lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2), out_spec=(0, 1, 2))
    """
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return ConvDimensionNumbers(*(tuple(int(d) for d in s) for s in dimension_numbers))
    lhs_shape, rhs_shape = tuple(lhs_shape), tuple(rhs_shape)
    if len(lhs_shape) != len(rhs_shape):
        raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got "
                        f"{len(lhs_shape)} and {len(rhs_shape)} (shapes {lhs_shape} and "
                        f"{rhs_shape}).")
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if isinstance(dimension_numbers, (list, tuple)):
        if len(dimension_numbers) != 3:
            raise TypeError(f"convolution dimension_numbers list/tuple must be length 3, got "
                            f"{len(dimension_numbers)}.")
        if not all(isinstance(e, str) for e in dimension_numbers):
            raise TypeError(f"convolution dimension_numbers elements must be strings, got "
                            f"{tuple(type(e).__name__ for e in dimension_numbers)}.")
        for i, e in enumerate(dimension_numbers):
            if len(e) != len(lhs_shape):
                raise TypeError(f"convolution dimension_numbers[{i}] must have len equal to the "
                                f"ndim of lhs and rhs, got {len(e)} for lhs and rhs shapes "
                                f"{lhs_shape} and {rhs_shape}.")
        return ConvDimensionNumbers(*conv_general_permutations(tuple(dimension_numbers)))
    raise TypeError(f"convolution dimension_numbers must be tuple/list or None, got "
                    f"{type(dimension_numbers).__name__}.")


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count: int = 1) -> tuple:
    """Output shape of a convolution in ``NC...``/``OI...`` order (dilations applied to
    the shapes already).

    >>> conv_shape_tuple((2, 3, 9, 9), (8, 3, 3, 3), (2, 2), "SAME")
    (2, 8, 5, 5)
    """
    lhs_shape, rhs_shape = tuple(lhs_shape), tuple(rhs_shape)
    if isinstance(pads, str):
        pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    if len(pads) != len(lhs_shape) - 2:
        raise ValueError(f"convolution: wrong number of padding pairs: expected "
                         f"{len(lhs_shape) - 2} (one per spatial dimension), got {len(pads)}")
    padded = [int(d) + int(lo) + int(hi) for d, (lo, hi) in zip(lhs_shape[2:], pads)]
    if any(p < 0 for p in padded):
        raise ValueError(f"Negative padding is larger than the size of the corresponding "
                         f"dimension: got padding={tuple(pads)} for lhs_shape[2:]={lhs_shape[2:]}")
    out_space = tuple(max(0, (p - int(w)) // int(s) + 1) if p >= int(w) else 0
                      for p, w, s in zip(padded, rhs_shape[2:], strides))
    n = lhs_shape[0] // batch_group_count if batch_group_count > 1 else lhs_shape[0]
    return (n, rhs_shape[0]) + out_space


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                             dimension_numbers) -> tuple:
    """Output shape of ``conv_general_dilated`` without dilation (``example_libraries.stax``
    calls it to infer layer shapes).

    >>> conv_general_shape_tuple((1, 32, 32, 3), (3, 3, 3, 16), (2, 2), "SAME",
    ...                          ("NHWC", "HWIO", "NHWC"))
    (1, 16, 16, 16)
    """
    dn = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    lhs_t = tuple(np.take(lhs_shape, dn.lhs_spec))
    rhs_t = tuple(np.take(rhs_shape, dn.rhs_spec))
    out_t = conv_shape_tuple(lhs_t, rhs_t, window_strides, padding)
    return tuple(int(d) for d in np.take(out_t, np.argsort(dn.out_spec)))


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers) -> tuple:
    """Output shape of ``conv_transpose`` (strings or explicit padding).

    >>> conv_transpose_shape_tuple((1, 8, 8, 3), (3, 3, 3, 4), (2, 2), "SAME",
    ...                            ("NHWC", "HWIO", "NHWC"))
    (1, 16, 16, 4)
    """
    dn = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    lhs_t = np.take(lhs_shape, dn.lhs_spec)
    rhs_t = np.take(rhs_shape, dn.rhs_spec)
    if isinstance(padding, str):
        padding = [_conv_transpose_padding(int(k), int(s), padding)
                   for k, s in zip(rhs_t[2:], window_strides)]
    space = tuple((int(i) - 1) * int(s) - int(k) + 2 + int(lo) + int(hi)
                  for i, k, s, (lo, hi) in zip(lhs_t[2:], rhs_t[2:], window_strides, padding))
    out_t = (int(lhs_t[0]), int(rhs_t[0])) + space
    return tuple(int(d) for d in np.take(out_t, np.argsort(dn.out_spec)))


# -- the primitive ---------------------------------------------------------------------------

conv_general_dilated_p = Primitive("conv_general_dilated")


def _check_positive(name, values, what):
    if any(int(v) < 1 for v in values):
        raise ValueError(f"conv_general_dilated: {what} must be positive, got {name}={tuple(values)}")


def _conv_abstract(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                   dimension_numbers, feature_group_count, batch_group_count, precision,
                   preferred_element_type):
    desc = f"conv_general_dilated: lhs {lhs.str_short()}, rhs {rhs.str_short()}"
    if lhs.ndim != rhs.ndim:
        raise TypeError(f"{desc}: lhs and rhs need the same rank")
    if lhs.ndim < 2:
        raise TypeError(f"{desc}: operands need rank >= 2 (batch/feature dimensions)")
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"{desc}: operands must have the same dtype (convert one with "
                        f"xform.lax.convert_element_type)")
    if lhs.dtype.kind not in "iufc":
        raise TypeError(f"{desc}: dtype {lhs.dtype} is not supported (numbers only)")
    lspec, rspec, ospec = dimension_numbers
    nsp = lhs.ndim - 2
    for name, spec in (("lhs_spec", lspec), ("rhs_spec", rspec), ("out_spec", ospec)):
        if sorted(spec) != list(range(lhs.ndim)):
            raise ValueError(f"{desc}: dimension_numbers.{name}={spec} is not a permutation of "
                             f"the {lhs.ndim} dimensions")
    for name, v in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                    ("rhs_dilation", rhs_dilation), ("padding", padding)):
        if len(v) != nsp:
            raise ValueError(f"{desc}: {name}={tuple(v)} needs one entry per spatial "
                             f"dimension ({nsp})")
    _check_positive("window_strides", window_strides, "window strides")
    _check_positive("lhs_dilation", lhs_dilation, "dilations")
    _check_positive("rhs_dilation", rhs_dilation, "dilations")
    G, B = int(feature_group_count), int(batch_group_count)
    if G < 1 or B < 1:
        raise ValueError(f"{desc}: feature_group_count and batch_group_count must be >= 1, "
                         f"got {G} and {B}")
    if G > 1 and B > 1:
        raise ValueError(f"{desc}: at most one of batch_group_count and feature_group_count "
                         f"may be > 1, got {B} and {G}")
    C, I_ = lhs.shape[lspec[1]], rhs.shape[rspec[1]]
    Ot, N = rhs.shape[rspec[0]], lhs.shape[lspec[0]]
    if C % G:
        raise ValueError(f"{desc}: feature_group_count={G} must divide the lhs feature "
                         f"dimension size {C}")
    if C // G != I_:
        raise ValueError(f"{desc}: the lhs feature dimension size divided by "
                         f"feature_group_count must equal the rhs input feature dimension size, "
                         f"but {C} // {G} != {I_}")
    if Ot % G:
        raise ValueError(f"{desc}: the rhs output feature dimension size {Ot} must be a "
                         f"multiple of feature_group_count={G}")
    if B > 1 and N % B:
        raise ValueError(f"{desc}: batch_group_count={B} must divide the lhs batch dimension "
                         f"size {N}")
    if Ot % B:
        raise ValueError(f"{desc}: the rhs output feature dimension size {Ot} must be a "
                         f"multiple of batch_group_count={B}")
    lhs_t = _dilate_shape(np.take(lhs.shape, lspec), (1, 1) + tuple(lhs_dilation))
    rhs_t = _dilate_shape(np.take(rhs.shape, rspec), (1, 1) + tuple(rhs_dilation))
    out_t = conv_shape_tuple(lhs_t, rhs_t, window_strides, padding, B)
    shape = tuple(int(d) for d in np.take(out_t, np.argsort(ospec)))
    if preferred_element_type is not None:
        return ShapedArray(shape, np.dtype(preferred_element_type), False)
    return ShapedArray(shape, lhs.dtype, lhs.weak_type and rhs.weak_type)


def _windows(x, window, strides, rhs_dilation):
    """(N, C, *out, *window) view of the padded, dilated lhs (N, C, *spatial)."""
    nsp = len(window)
    span = tuple(_dilate_dim(k, r) for k, r in zip(window, rhs_dilation))
    v = np.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(2, 2 + nsp)))
    sel = (slice(None),) * 2 + tuple(slice(None, None, s) for s in strides) \
        + tuple(slice(None, None, r) for r in rhs_dilation)
    return v[sel]


def _dilate_and_pad(x, lhs_dilation, padding, fill=0):
    """x (N, C, *spatial) with interior dilation then (possibly negative) edge padding."""
    nsp = x.ndim - 2
    if all(d == 1 for d in lhs_dilation) and all(lo == 0 and hi == 0 for lo, hi in padding):
        return x
    shape = x.shape[:2] + tuple(_dilate_dim(n, d) for n, d in zip(x.shape[2:], lhs_dilation))
    big = shape[:2] + tuple(n + max(lo, 0) + max(hi, 0) for n, (lo, hi) in zip(shape[2:], padding))
    out = np.full(big, fill, dtype=x.dtype)
    sel = (slice(None),) * 2 + tuple(
        slice(max(lo, 0), max(lo, 0) + n, d) for n, d, (lo, _) in zip(shape[2:], lhs_dilation, padding))
    out[sel] = x
    crop = (slice(None),) * 2 + tuple(
        slice(max(-lo, 0), b - max(-hi, 0)) for b, (lo, hi) in zip(big[2:], padding))
    del nsp
    return out[crop]


def _conv_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count, batch_group_count, precision,
               preferred_element_type):
    """numpy: windows of the padded lhs (a strided view) contracted with the kernel by
    ``tensordot`` (BLAS) per group."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    if lhs.dtype != rhs.dtype:
        raise TypeError("dtype mismatch")
    out_aval = _conv_abstract(
        ShapedArray(lhs.shape, lhs.dtype), ShapedArray(rhs.shape, rhs.dtype),
        window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, batch_group_count=batch_group_count,
        precision=precision, preferred_element_type=preferred_element_type)
    dt = out_aval.dtype
    lspec, rspec, ospec = dimension_numbers
    x = np.transpose(lhs, lspec).astype(dt, copy=False)
    w = np.transpose(rhs, rspec).astype(dt, copy=False)
    out_t = tuple(np.take(out_aval.shape, ospec))
    if 0 in out_t or 0 in x.shape or 0 in w.shape[1:]:
        return np.zeros(out_aval.shape, dt)
    x = _dilate_and_pad(x, lhs_dilation, padding)
    nsp = x.ndim - 2
    win = _windows(x, w.shape[2:], window_strides, rhs_dilation)  # (N, C, *Q, *K)
    G, B = feature_group_count, batch_group_count
    N, C = win.shape[:2]
    Ot = w.shape[0]
    q = win.shape[2:2 + nsp]
    csum = [1] + list(range(2 + nsp, 2 + 2 * nsp))  # C and the window axes
    wsum = [1] + list(range(2, 2 + nsp))
    out = np.empty((out_t[0], Ot) + q, dt)
    Og = Ot // (G * B)
    for g in range(G * B):
        if B > 1:
            xs = win[g * (N // B):(g + 1) * (N // B)]
        else:
            xs = win[:, g * (C // G):(g + 1) * (C // G)]
        ws = w[g * Og:(g + 1) * Og]
        r = np.tensordot(xs, ws, axes=(csum, wsum))  # (N', *Q, Og)
        out[:, g * Og:(g + 1) * Og] = np.moveaxis(r, -1, 1)
    return np.ascontiguousarray(np.transpose(out, np.argsort(ospec)))


# -- transposes (JAX's rules) ------------------------------------------------------------------


def _conv_sdims(spec):
    return tuple(spec[2:])


def _conv_spec_transpose(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def _reshape_axis_out_of(src, size1, x):
    shape = list(shape_of(x))
    size2, ragged = divmod(shape[src], size1)
    assert not ragged
    shape[src:src + 1] = [size1, size2]
    return reshape(x, tuple(shape))


def _reshape_axis_into(src, dst, x):
    """Merge axis ``src`` into axis ``dst`` (numbered after removing ``src``) as its
    major part."""
    shape = shape_of(x)
    perm = [i for i in range(len(shape)) if i != src]
    perm.insert(dst, src)
    new_shape = [shape[i] for i in range(len(shape)) if i != src]
    new_shape[dst] *= shape[src]
    return reshape(transpose(x, tuple(perm)), tuple(new_shape))


def _vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                     lhs_dilation, rhs_dilation):
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    before = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
    after = [a + r - 1 - o - b for a, r, o, b in zip(lhs_d, rhs_d, out_d, before)]
    return tuple(zip(before, after))


def _vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                     lhs_dilation, rhs_dilation):
    if not in_shape:
        return ()
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    los = [lo for lo, _ in padding]
    his = [(o - a) + (r - lo - 1) for o, a, r, lo in zip(out_d, lhs_d, rhs_d, los)]
    return tuple(zip(los, his))


def _as_dtype(x, dtype):
    if get_aval(x).dtype != dtype:
        from .elementwise import convert_element_type

        return convert_element_type(x, dtype)
    return x


def _conv_transpose_lhs(ct, rhs, lhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count, batch_group_count,
                        precision, preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    t_rhs_spec = _conv_spec_transpose(rhs_spec)
    G = feature_group_count
    if feature_group_count > 1:
        # the feature groups move into the transposed kernel's output feature dimension
        rhs = _reshape_axis_out_of(rhs_spec[0], feature_group_count, rhs)
        rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
    elif batch_group_count > 1:
        rhs = _reshape_axis_out_of(rhs_spec[0], batch_group_count, rhs)
        rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
        G = batch_group_count
    trans_dn = ConvDimensionNumbers(out_spec, t_rhs_spec, lhs_spec)
    rhs_shape = shape_of(rhs)
    pads = _vjp_lhs_padding(
        tuple(lhs_aval.shape[d] for d in lhs_spec[2:]), tuple(rhs_shape[d] for d in rhs_spec[2:]),
        window_strides, tuple(shape_of(ct)[d] for d in out_spec[2:]), padding, lhs_dilation,
        rhs_dilation)
    out = conv_general_dilated_p.bind(
        ct, rev(rhs, tuple(rhs_spec[2:])), window_strides=tuple(lhs_dilation), padding=pads,
        lhs_dilation=tuple(window_strides), rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=trans_dn, feature_group_count=G, batch_group_count=1,
        precision=precision, preferred_element_type=None)
    if batch_group_count > 1:
        out = _reshape_axis_out_of(lhs_spec[1], batch_group_count, out)
        out = _reshape_axis_into(lhs_spec[1], lhs_spec[0], out)
    return out


def _conv_transpose_rhs(ct, lhs, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count, batch_group_count,
                        precision, preferred_element_type):
    lhs_sdims, rhs_sdims, out_sdims = map(_conv_sdims, dimension_numbers)
    lhs_t, rhs_t, out_t = map(_conv_spec_transpose, dimension_numbers)
    G, B = feature_group_count, batch_group_count
    if B > 1:
        G, B = B, 1
    elif G > 1:
        G, B = 1, G
    trans_dn = ConvDimensionNumbers(lhs_t, out_t, rhs_t)
    lhs_shape = shape_of(lhs)
    pads = _vjp_rhs_padding(
        tuple(lhs_shape[d] for d in lhs_sdims), tuple(rhs_aval.shape[d] for d in rhs_sdims),
        window_strides, tuple(shape_of(ct)[d] for d in out_sdims), padding, lhs_dilation,
        rhs_dilation)
    return conv_general_dilated_p.bind(
        lhs, ct, window_strides=tuple(rhs_dilation), padding=pads,
        lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(window_strides),
        dimension_numbers=trans_dn, feature_group_count=G, batch_group_count=B,
        precision=precision, preferred_element_type=None)


def _conv_transpose_rule(ct, lhs, rhs, **params):
    if is_undefined(lhs) and is_undefined(rhs):
        raise ValueError("conv_general_dilated: transpose with respect to both operands (the "
                         "convolution is bilinear, not linear)")
    if is_undefined(lhs):
        if type(ct) is Zero or 0 in shape_of(rhs):
            return [Zero(lhs.aval), None]
        ct = _as_dtype(ct, get_aval(rhs).dtype)
        out = _conv_transpose_lhs(ct, rhs, lhs.aval, **params)
        return [_as_dtype(out, lhs.aval.dtype), None]
    if type(ct) is Zero or 0 in shape_of(ct):
        return [None, Zero(rhs.aval)]
    ct = _as_dtype(ct, get_aval(lhs).dtype)
    out = _conv_transpose_rhs(ct, lhs, rhs.aval, **params)
    return [None, _as_dtype(out, rhs.aval.dtype)]


# -- batching (JAX's rule: the vmapped axis folds into batch, features or groups) --------------


def _conv_batch(vals, dims, **params):
    (lhs, rhs), (ld, rd) = vals, dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    G, B = params["feature_group_count"], params["batch_group_count"]
    bind = conv_general_dilated_p.bind
    if ld is not None and rd is not None:
        size = shape_of(lhs)[ld]
        if B > 1:
            new_lhs = _reshape_axis_into(ld, lhs_spec[0], lhs)
            p = dict(params, batch_group_count=B * size)
        else:
            new_lhs = _reshape_axis_into(ld, lhs_spec[1], lhs)
            p = dict(params, feature_group_count=G * size)
        new_rhs = _reshape_axis_into(rd, rhs_spec[0], rhs)
        out = bind(new_lhs, new_rhs, **p)
        return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
    if ld is not None:
        size = shape_of(lhs)[ld]
        if B == 1:
            new_lhs = _reshape_axis_into(ld, lhs_spec[0], lhs)
        else:
            new_lhs = _reshape_axis_out_of(lhs_spec[0] + int(ld <= lhs_spec[0]), B, lhs)
            new_lhs = _reshape_axis_into(ld + int(lhs_spec[0] < ld), lhs_spec[0] + 1, new_lhs)
            new_lhs = _reshape_axis_into(lhs_spec[0], lhs_spec[0], new_lhs)
        out = bind(new_lhs, rhs, **params)
        return _reshape_axis_out_of(out_spec[0], size, out), out_spec[0]
    size = shape_of(rhs)[rd]
    if G == 1 and B == 1:
        new_rhs = _reshape_axis_into(rd, rhs_spec[0], rhs)
        out = bind(lhs, new_rhs, **params)
        return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
    # groups stay outermost in the output feature dimension: factor them out, fold the
    # vmapped axis into what remains, and undo that on the output
    groups = G if G > 1 else B
    new_rhs = _reshape_axis_out_of(rhs_spec[0] + int(rd <= rhs_spec[0]), groups, rhs)
    new_rhs = _reshape_axis_into(rd + int(rhs_spec[0] < rd), rhs_spec[0] + 1, new_rhs)
    new_rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[0], new_rhs)
    out = bind(lhs, new_rhs, **params)
    out = _reshape_axis_out_of(out_spec[1], groups, out)
    out = _reshape_axis_out_of(out_spec[1] + 1, size, out)
    out = _reshape_axis_into(out_spec[1], out_spec[1] + 1, out)
    return out, out_spec[1]


conv_general_dilated_p.impl = checked_impl(conv_general_dilated_p, _conv_impl)
conv_general_dilated_p.abstract_eval = _conv_abstract
defjvp(conv_general_dilated_p,
       lambda g, ans, lhs, rhs, **p: conv_general_dilated_p.bind(g, rhs, **p),
       lambda g, ans, lhs, rhs, **p: conv_general_dilated_p.bind(lhs, g, **p))
conv_general_dilated_p.transpose = _conv_transpose_rule
conv_general_dilated_p.batch = _conv_batch


# -- user-facing functions ----------------------------------------------------------------------


def _int_tuple(name, v, n, default=1):
    if v is None:
        return (default,) * n
    try:
        t = tuple(operator.index(e) for e in v)
    except TypeError:
        raise TypeError(f"conv_general_dilated: {name} must be a sequence of ints, got {v!r}") from None
    if len(t) != n:
        raise ValueError(f"conv_general_dilated: {name}={t} needs {n} entries (one per spatial "
                         f"dimension)")
    return t


def _precision(precision):
    """Precision is accepted as in JAX and only recorded: CPU products are always exact
    to the working precision of the dtype."""
    if precision is None or isinstance(precision, (str, int)):
        return precision
    if isinstance(precision, (tuple, list)):
        return tuple(_precision(p) for p in precision)
    return str(precision)


def conv_general_dilated(lhs, rhs, window_strides: Sequence[int], padding,
                         lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers=None, feature_group_count: int = 1,
                         batch_group_count: int = 1, precision=None,
                         preferred_element_type=None):
    """General n-d convolution (JAX's ``lax.conv_general_dilated``; a cross-correlation,
    the kernel is not flipped).

    ``padding`` is ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` or one ``(low, high)`` pair per
    spatial dimension (negative values crop); ``lhs_dilation`` inserts zeros between input
    elements (transposed convolution), ``rhs_dilation`` between kernel elements (atrous);
    ``dimension_numbers`` is ``None`` (``NCHW``, ``OIHW``, ``NCHW``), a triple of strings
    such as ``("NHWC", "HWIO", "NHWC")`` or a ``ConvDimensionNumbers``;
    ``feature_group_count`` splits the features into groups (depthwise: one per channel),
    ``batch_group_count`` the batch. ``preferred_element_type`` sets the accumulation
    and result dtype; ``precision`` is accepted and ignored (products are exact to the
    dtype on CPU).

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)          # NCHW
    >>> k = np.ones((1, 1, 2, 2))                        # OIHW
    >>> conv_general_dilated(x, k, (2, 2), "VALID")[0, 0]
    array([[10., 18.],
           [42., 50.]])
    >>> y = np.ones((2, 5, 5, 3)); w = np.ones((3, 3, 3, 8))
    >>> conv_general_dilated(y, w, (1, 1), "SAME",
    ...                      dimension_numbers=("NHWC", "HWIO", "NHWC")).shape
    (2, 5, 5, 8)
    """
    lhs, rhs = as_dtype_of(lhs, rhs), as_dtype_of(rhs, lhs)
    ls, rs = shape_of(lhs), shape_of(rhs)
    dn = conv_dimension_numbers(ls, rs, dimension_numbers)
    if len(ls) != len(rs):
        raise TypeError(f"conv_general_dilated: lhs and rhs need the same rank, got shapes "
                        f"{ls} and {rs}")
    nsp = len(ls) - 2
    window_strides = _int_tuple("window_strides", window_strides, nsp)
    lhs_dil = _int_tuple("lhs_dilation", lhs_dilation, nsp)
    rhs_dil = _int_tuple("rhs_dilation", rhs_dilation, nsp)
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dil):
            raise ValueError("conv_general_dilated: string padding is not implemented for "
                             "transposed convolution (lhs_dilation > 1); give explicit (low, high) "
                             "pairs or use conv_transpose")
        k = [_dilate_dim(rs[d], r) for d, r in zip(dn.rhs_spec[2:], rhs_dil)]
        pads = padtype_to_pads([ls[d] for d in dn.lhs_spec[2:]], k, window_strides, padding)
    else:
        try:
            pads = [(operator.index(lo), operator.index(hi)) for lo, hi in padding]
        except (TypeError, ValueError):
            raise ValueError(f"conv_general_dilated: padding should be a string or a sequence of "
                             f"(low, high) pairs, got {padding!r}") from None
    pet = None if preferred_element_type is None else np.dtype(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=window_strides, padding=tuple(tuple(p) for p in pads),
        lhs_dilation=lhs_dil, rhs_dilation=rhs_dil, dimension_numbers=dn,
        feature_group_count=operator.index(feature_group_count),
        batch_group_count=operator.index(batch_group_count), precision=_precision(precision),
        preferred_element_type=pet)


def conv(lhs, rhs, window_strides: Sequence[int], padding, precision=None,
         preferred_element_type=None):
    """Convolution in ``NCHW``/``OIHW`` layout without dilation (JAX's ``lax.conv``).

    >>> import numpy as np
    >>> conv(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), (1, 1), "SAME").shape
    (1, 3, 5, 5)
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides: Sequence[int], padding, lhs_dilation,
                              rhs_dilation, precision=None, preferred_element_type=None):
    """``conv`` with explicit padding pairs and dilations (JAX's
    ``lax.conv_with_general_padding``).

    >>> import numpy as np
    >>> conv_with_general_padding(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (1,), [(0, 0)],
    ...                           None, (2,))
    array([[[2., 2.]]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                rhs_dilation=rhs_dilation, precision=precision,
                                preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k: int, s: int, padding):
    """(before, after) padding of the dilated input of a transposed convolution (JAX's
    rule): 'SAME'/'VALID' name the padding of the corresponding forward convolution; a
    (low, high) pair is a forward padding too (``use_consistent_padding``)."""
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else -(-pad_len // 2)
    elif padding == "VALID":
        pad_len = k + s - 2 + max(k - s, 0)
        pad_a = k - 1
    elif isinstance(padding, tuple):
        pads = tuple(k - int(p) - 1 for p in padding)
        pad_a, pad_len = pads[0], sum(pads)
    else:
        raise ValueError(f"conv_transpose: padding mode must be 'SAME', 'VALID' or (low, high) "
                         f"pairs, got {padding!r}")
    return pad_a, pad_len - pad_a


_TRANSPOSE_DEFAULT_DN = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                         4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}


def conv_transpose(lhs, rhs, strides: Sequence[int], padding, rhs_dilation=None,
                   dimension_numbers=None, transpose_kernel: bool = False, precision=None,
                   preferred_element_type=None, use_consistent_padding: bool = False):
    """Transposed convolution ("deconvolution", JAX's ``lax.conv_transpose``): the input
    is dilated by ``strides``. Default layout ``NHWC``/``HWIO``. ``'SAME'``/``'VALID'``
    name the padding of the forward convolution; explicit pairs are the padding of the
    transposed one (of the forward one with ``use_consistent_padding=True``).
    ``transpose_kernel=True`` flips the kernel and swaps its input/output feature dims
    (Keras' ``Conv2DTranspose``).

    >>> import numpy as np
    >>> conv_transpose(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 5)), (2, 2), "SAME").shape
    (1, 8, 8, 5)
    """
    ls, rs = shape_of(lhs), shape_of(rhs)
    ndim = len(ls)
    if ndim != len(rs) or ndim < 2:
        raise ValueError(f"conv_transpose: lhs and rhs need the same rank >= 2, got shapes "
                         f"{ls} and {rs}")
    if dimension_numbers is None:
        if ndim not in _TRANSPOSE_DEFAULT_DN:
            raise ValueError("conv_transpose: no default dimension_numbers for rank > 5; pass them")
        dimension_numbers = _TRANSPOSE_DEFAULT_DN[ndim]
    dn = conv_dimension_numbers(ls, rs, dimension_numbers)
    k_sdims = [rs[d] for d in dn.rhs_spec[2:]]
    if rhs_dilation is None:
        rhs_dilation = (1,) * (ndim - 2)
    if use_consistent_padding or (isinstance(padding, str) and padding in ("SAME", "VALID")):
        eff = [_dilate_dim(k, r) for k, r in zip(k_sdims, rhs_dilation)]
        per_dim = [padding] * len(strides) if isinstance(padding, str) else \
            [tuple(p) for p in padding]
        pads = [_conv_transpose_padding(k, s, p) for k, s, p in zip(eff, strides, per_dim)]
    elif isinstance(padding, str):
        raise ValueError(f"conv_transpose: padding mode must be 'SAME', 'VALID' or (low, high) "
                         f"pairs, got {padding!r}")
    else:
        pads = padding
    if transpose_kernel:
        rhs = rev(rhs, tuple(dn.rhs_spec[2:]))
        perm = list(range(ndim))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = perm[dn.rhs_spec[1]], perm[dn.rhs_spec[0]]
        rhs = transpose(rhs, tuple(perm))
    return conv_general_dilated(lhs, rhs, (1,) * (ndim - 2), pads, strides, rhs_dilation, dn,
                                precision=precision, preferred_element_type=preferred_element_type)

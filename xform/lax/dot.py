"""Contractions: dot_general (with all its rules) and the dot / batch_matmul helpers.

(The decompositions of JAX's ``lax.linalg`` live in ``xform/lax/linalg.py``.)

``dot_general(lhs, rhs, (((lhs_contract), (rhs_contract)), ((lhs_batch), (rhs_batch))))``
follows JAX: the result has the batch dimensions first, then the free (neither
contracted nor batch) dimensions of lhs, then those of rhs, each in operand order.
"""
from __future__ import annotations

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import Zero, defjvp
from ..interpreters.transpose import is_undefined
from ._rules import as_dtype_of, move_bdim_to_front
from .structural import canonicalize_axis, checked_impl, shape_of, transpose

__all__ = ["dot_general", "dot", "batch_matmul", "dot_general_p"]

dot_general_p = Primitive("dot_general")


def _free(ndim, contract, batch):
    return tuple(i for i in range(ndim) if i not in contract and i not in batch)


def _dg_abstract(lhs, rhs, dimension_numbers, preferred_element_type):
    (lc, rc), (lb, rb) = dimension_numbers
    desc = (f"dot_general: lhs {lhs.str_short()}, rhs {rhs.str_short()}, "
            f"dimension_numbers={dimension_numbers}")
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ValueError(f"{desc}: lhs and rhs need as many contracting (and batch) dimensions")
    for name, aval, dims in (("lhs", lhs, lc + lb), ("rhs", rhs, rc + rb)):
        if any(not 0 <= d < aval.ndim for d in dims):
            raise ValueError(f"{desc}: a {name} dimension is out of bounds for rank {aval.ndim}")
        if len(set(dims)) != len(dims):
            raise ValueError(f"{desc}: repeated {name} dimension")
    for kind, ld, rd in (("contracting", lc, rc), ("batch", lb, rb)):
        ls, rs = tuple(lhs.shape[d] for d in ld), tuple(rhs.shape[d] for d in rd)
        if ls != rs:
            raise ValueError(f"{desc}: {kind} dimensions have different sizes {ls} and {rs}")
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"{desc}: operands must have the same dtype (convert one with "
                        f"xform.lax.convert_element_type; xform.numpy promotes)")
    shape = (tuple(lhs.shape[d] for d in lb)
             + tuple(lhs.shape[d] for d in _free(lhs.ndim, lc, lb))
             + tuple(rhs.shape[d] for d in _free(rhs.ndim, rc, rb)))
    if preferred_element_type is not None:
        return ShapedArray(shape, preferred_element_type, False)
    return ShapedArray(shape, lhs.dtype, lhs.weak_type and rhs.weak_type)


def _dg_impl(lhs, rhs, dimension_numbers, preferred_element_type):
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    if lhs.dtype != rhs.dtype:
        raise TypeError("dtype mismatch")
    if preferred_element_type is not None:
        lhs = lhs.astype(preferred_element_type, copy=False)
        rhs = rhs.astype(preferred_element_type, copy=False)
    (lc, rc), (lb, rb) = dimension_numbers
    if not lb:
        if lhs.ndim == 2 and rhs.ndim == 2 and lc == (1,) and rc == (0,):
            return np.matmul(lhs, rhs)
        return np.asarray(np.tensordot(lhs, rhs, axes=(list(lc), list(rc))))
    lf, rf = _free(lhs.ndim, lc, lb), _free(rhs.ndim, rc, rb)
    bshape = tuple(lhs.shape[d] for d in lb)
    lfs, rfs = tuple(lhs.shape[d] for d in lf), tuple(rhs.shape[d] for d in rf)
    for ld, rd in zip(lc, rc):
        if lhs.shape[ld] != rhs.shape[rd]:
            raise ValueError("contracting size mismatch")
    k = int(np.prod([lhs.shape[d] for d in lc], dtype=np.int64))
    b = int(np.prod(bshape, dtype=np.int64))
    m = int(np.prod(lfs, dtype=np.int64))
    n = int(np.prod(rfs, dtype=np.int64))
    L = np.transpose(lhs, lb + lf + lc).reshape(b, m, k)
    R = np.transpose(rhs, rb + rc + rf).reshape(b, k, n)
    return np.matmul(L, R).reshape(bshape + lfs + rfs)


def _ranges_like(*xs):
    start, out = 0, []
    for x in xs:
        out.append(tuple(range(start, start + len(x))))
        start += len(x)
    return out


def _dg_transpose_lhs(ct, x_aval, y, dimension_numbers, preferred_element_type, swap_ans=False):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    y_ndim = len(shape_of(y))
    x_kept = _free(x_aval.ndim, x_contract, x_batch)
    y_kept = _free(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    dims = ((ans_y, y_kept), (ans_batch, y_batch))
    x_contract_sorted_by_y = tuple(np.take(x_contract, np.argsort(y_contract)).tolist())
    out_axes = tuple(np.argsort(tuple(x_batch) + x_kept + x_contract_sorted_by_y).tolist())
    ct_dt, y_dt = get_aval(ct).dtype, get_aval(y).dtype
    if ct_dt != y_dt:
        from .elementwise import convert_element_type

        ct = convert_element_type(ct, y_dt)
    x_bar = transpose(dot_general_p.bind(ct, y, dimension_numbers=dims,
                                         preferred_element_type=None), out_axes)
    if get_aval(x_bar).dtype != x_aval.dtype:
        from .elementwise import convert_element_type

        x_bar = convert_element_type(x_bar, x_aval.dtype)
    return x_bar


def _dg_transpose(ct, lhs, rhs, dimension_numbers, preferred_element_type):
    if is_undefined(lhs) and is_undefined(rhs):
        raise ValueError("dot_general: transpose w.r.t. both operands (the product is bilinear, "
                         "not linear)")
    (lc, rc), (lb, rb) = dimension_numbers
    if is_undefined(lhs):
        if type(ct) is Zero:
            return [Zero(lhs.aval), None]
        return [_dg_transpose_lhs(ct, lhs.aval, rhs, dimension_numbers,
                                  preferred_element_type), None]
    if type(ct) is Zero:
        return [None, Zero(rhs.aval)]
    swapped = ((rc, lc), (rb, lb))
    return [None, _dg_transpose_lhs(ct, rhs.aval, lhs, swapped, preferred_element_type,
                                    swap_ans=True)]


def _shift(ds, d):
    return tuple(a + (a >= d) for a in ds)


def _dg_batch(vals, dims, dimension_numbers, preferred_element_type):
    (lhs, rhs), (ld, rd) = vals, dims
    (lc, rc), (lb, rb) = dimension_numbers
    params = dict(preferred_element_type=preferred_element_type)
    if ld is not None and rd is not None:
        # both batched: the vmapped axis becomes a leading batch dimension
        lhs, rhs = move_bdim_to_front(lhs, ld), move_bdim_to_front(rhs, rd)
        dn = ((_shift(lc, 0), _shift(rc, 0)), ((0,) + _shift(lb, 0), (0,) + _shift(rb, 0)))
        return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **params), 0
    if ld is not None:
        # only lhs batched: the vmapped axis is a free lhs dimension
        lc2, lb2 = _shift(lc, ld), _shift(lb, ld)
        free = _free(len(shape_of(lhs)), lc2, lb2)
        out = dot_general_p.bind(lhs, rhs, dimension_numbers=((lc2, rc), (lb2, rb)), **params)
        return out, len(lb) + free.index(ld)
    rc2, rb2 = _shift(rc, rd), _shift(rb, rd)
    free = _free(len(shape_of(rhs)), rc2, rb2)
    n_lhs_free = len(shape_of(lhs)) - len(lc) - len(lb)
    out = dot_general_p.bind(lhs, rhs, dimension_numbers=((lc, rc2), (lb, rb2)), **params)
    return out, len(rb) + n_lhs_free + free.index(rd)


dot_general_p.impl = checked_impl(dot_general_p, _dg_impl)
dot_general_p.abstract_eval = _dg_abstract
defjvp(dot_general_p,
       lambda g, ans, lhs, rhs, **p: dot_general_p.bind(g, rhs, **p),
       lambda g, ans, lhs, rhs, **p: dot_general_p.bind(lhs, g, **p))
dot_general_p.transpose = _dg_transpose
dot_general_p.batch = _dg_batch


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None,
                out_sharding=None):
    """General tensor contraction (JAX's ``lax.dot_general``).

    ``dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``;
    the result has the batch dims, then lhs's free dims, then rhs's free dims.
    ``preferred_element_type`` sets the accumulation and result dtype. ``precision``
    (a ``Precision``, a string or a pair) and ``out_sharding`` are accepted, as in JAX, and
    change nothing: products are always computed in the full precision of the dtype.

    >>> import numpy as np
    >>> a, b = np.ones((5, 2, 3)), np.ones((5, 3, 4))
    >>> dot_general(a, b, (((2,), (1,)), ((0,), (0,)))).shape
    (5, 2, 4)
    """
    lhs, rhs = as_dtype_of(lhs, rhs), as_dtype_of(rhs, lhs)
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    try:
        (lc, rc), (lb, rb) = dimension_numbers
    except (TypeError, ValueError):
        raise ValueError(f"dot_general: dimension_numbers must be ((lhs_contracting, "
                         f"rhs_contracting), (lhs_batch, rhs_batch)), got {dimension_numbers!r}"
                         ) from None

    def norm(ds, n):
        return tuple(canonicalize_axis(d, n, "dot_general") for d in ds)

    dn = ((norm(lc, ln), norm(rc, rn)), (norm(lb, ln), norm(rb, rn)))
    pet = None if preferred_element_type is None else np.dtype(preferred_element_type)
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, preferred_element_type=pet)


def dot(lhs, rhs, precision=None, preferred_element_type=None, out_sharding=None):
    """Contract the last axis of ``lhs`` with the first axis of ``rhs`` (vector-vector,
    matrix-vector and matrix-matrix products; ``numpy.tensordot(lhs, rhs, 1)``).

    >>> import numpy as np
    >>> dot(np.array([[1., 2.], [3., 4.]]), np.array([1., 1.]))
    array([3., 7.])
    """
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    if ln == 0 or rn == 0:
        raise ValueError(f"dot: operands must have rank >= 1, got ranks {ln} and {rn}")
    return dot_general(lhs, rhs, (((ln - 1,), (0,)), ((), ())),
                       preferred_element_type=preferred_element_type)


def batch_matmul(lhs, rhs, precision=None, preferred_element_type=None):
    """Batched matrix product: leading dims are batch dims, the last two are multiplied.

    >>> import numpy as np
    >>> batch_matmul(np.ones((4, 2, 3)), np.ones((4, 3, 5))).shape
    (4, 2, 5)
    """
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    if ln != rn or ln < 2:
        raise ValueError(f"batch_matmul: operands must have the same rank >= 2, got "
                         f"{shape_of(lhs)} and {shape_of(rhs)}")
    batch = tuple(range(ln - 2))
    return dot_general(lhs, rhs, (((ln - 1,), (rn - 2,)), (batch, batch)),
                       preferred_element_type=preferred_element_type)

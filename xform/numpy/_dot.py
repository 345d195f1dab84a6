"""Products: dot, matmul, vdot, inner, outer, tensordot, einsum, kron — on lax.dot_general.

``lax.dot_general(lhs, rhs, ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch)))``
returns batch dims, then the free dims of lhs, then those of rhs (each in order).
Operands are promoted to their NEP 50 common dtype first (like numpy).
"""
from __future__ import annotations

import numpy as np

from .. import lax
from ._promote import array_arg as _a
from ._promote import astype, aval, out, result_type_of

__all__ = ["dot", "matmul", "vdot", "vecdot", "inner", "outer", "tensordot", "einsum", "kron",
           "matvec", "vecmat"]


def _promote2(a, b, name):
    a, b = _a(a, name), _a(b, name)
    dt, _ = result_type_of(a, b)
    return astype(a, dt), astype(b, dt), dt


def _dg(a, b, contract, batch=((), ()), pet=None):
    return lax.dot_general(a, b, (tuple(map(tuple, contract)), tuple(map(tuple, batch))),
                           preferred_element_type=pet)


def _pet(preferred_element_type):
    """JAX's ``preferred_element_type`` (the accumulation and result dtype) as a dtype.
    The ``precision=`` JAX's products take is accepted and changes nothing: xform computes
    in the full precision of the dtype."""
    return None if preferred_element_type is None else np.dtype(preferred_element_type)


def _scalar_product(a, b, pet):
    from ._ufuncs import multiply

    r = multiply(a, b)
    return r if pet is None else astype(r, pet)


def dot(a, b, out=None, *, precision=None, preferred_element_type=None):
    """numpy.dot: scalar product for 0-d, inner product of vectors, matrix product, and
    sum over the last axis of ``a`` and the second-to-last of ``b`` in general.
    ``preferred_element_type`` sets the accumulation and result dtype; ``precision`` is
    accepted (JAX's signature) and changes nothing.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.dot(np.array([[1, 2], [3, 4]]), np.array([1, 1]))
    array([3, 7])
    """
    if out is not None:
        raise TypeError("dot: out= is not supported; use the returned value")
    pet = _pet(preferred_element_type)
    a, b = _a(a, "dot"), _a(b, "dot")
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        return _scalar_product(a, b, pet)
    a, b, _ = _promote2(a, b, "dot")
    sa, sb = aval(a).shape, aval(b).shape
    kb = 0 if nb == 1 else nb - 2
    if sa[-1] != sb[kb]:
        raise ValueError(f"dot: shapes {sa} and {sb} not aligned: {sa[-1]} (dim {na - 1}) != "
                         f"{sb[kb]} (dim {kb})")
    return _out(_dg(a, b, ((na - 1,), (kb,)), pet=pet))


def _out(x):
    return out(x)


def matmul(x1, x2, /, out=None, *, precision=None, preferred_element_type=None, **kwargs):
    """Matrix product with numpy's rules: 1-d operands are promoted to matrices and the
    added dimension removed; leading (batch) dimensions broadcast.
    ``preferred_element_type`` sets the accumulation and result dtype; ``precision`` is
    accepted (JAX's signature) and changes nothing.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.matmul(np.ones((5, 2, 3)), np.ones((3, 4))).shape
    (5, 2, 4)
    """
    if out is not None:
        raise TypeError("matmul: out= is not supported; use the returned value")
    pet = _pet(preferred_element_type)
    a, b = _a(x1, "matmul"), _a(x2, "matmul")
    for i, v in enumerate((a, b)):
        if aval(v).ndim == 0:
            raise ValueError(f"matmul: Input operand {i} does not have enough dimensions "
                             f"(has 0, matmul requires at least 1); use multiply or * for "
                             f"scalars")
    a, b, _ = _promote2(a, b, "matmul")
    sa, sb = tuple(aval(a).shape), tuple(aval(b).shape)
    a1, b1 = len(sa) == 1, len(sb) == 1
    if (a1 or b1) and sa[-1] == sb[0 if b1 else -2]:
        # vector cases contract directly (no reshapes): batch dims of the other operand stay
        if b1:
            return _out(_dg(a, b, ((len(sa) - 1,), (0,)), pet=pet))
        return _out(_dg(a, b, ((0,), (len(sb) - 2,)), pet=pet))
    if a1:
        a = lax.reshape(a, (1,) + sa)
    if b1:
        b = lax.reshape(b, sb + (1,))
    A, B = tuple(aval(a).shape), tuple(aval(b).shape)
    if A[-1] != B[-2]:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: size {A[-1]} (last "
                         f"dimension of x1) != {B[-2]} ({'first' if b1 else 'second-to-last'} "
                         f"dimension of x2)")
    ba, bb = A[:-2], B[:-2]
    if not bb:
        r = _dg(a, b, ((len(A) - 1,), (0,)), pet=pet)             # ba + (n, m)
    elif not ba:
        r = _dg(a, b, ((1,), (len(B) - 2,)), pet=pet)             # (n,) + bb + (m,)
        r = lax.moveaxis(r, 0, -2)
    else:
        try:
            bs = np.broadcast_shapes(ba, bb)
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be "
                             f"broadcast together ({ba} vs {bb})") from None
        if ba != bs:
            a = lax.broadcast_to_shape(a, bs + A[-2:])
        if bb != bs:
            b = lax.broadcast_to_shape(b, bs + B[-2:])
        nbd = len(bs)
        r = _dg(a, b, ((nbd + 1,), (nbd,)), (tuple(range(nbd)), tuple(range(nbd))), pet=pet)
    rs = tuple(aval(r).shape)
    if a1 and b1:
        r = lax.reshape(r, rs[:-2])
    elif a1:
        r = lax.reshape(r, rs[:-2] + rs[-1:])
    elif b1:
        r = lax.reshape(r, rs[:-1])
    return _out(r)


def matvec(x1, x2, /):
    """Matrix-vector product over the last axes (numpy 2.2 ``matvec``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.matvec(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    b = _a(x2, "matvec")
    r = matmul(x1, lax.expand_dims(b, (aval(b).ndim,)))
    return _out(lax.squeeze(r, (aval(r).ndim - 1,)))


def vecmat(x1, x2, /):
    """Vector-matrix product over the last axes (numpy 2.2 ``vecmat``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.vecmat(np.array([1.0, 2.0]), np.eye(2))
    array([1., 2.])
    """
    a = _a(x1, "vecmat")
    from ._ufuncs import conjugate

    r = matmul(lax.expand_dims(conjugate(a), (aval(a).ndim - 1,)), x2)
    return _out(lax.squeeze(r, (aval(r).ndim - 2,)))


def vdot(a, b, /, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened arrays (conjugating the first); ``precision`` and
    ``preferred_element_type`` as in ``dot``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.vdot(np.array([[1, 2], [3, 4]]), np.array([[1, 1], [1, 1]]))
    np.int64(10)
    """
    from ._ufuncs import conjugate

    a, b, _ = _promote2(a, b, "vdot")
    if aval(a).size != aval(b).size:
        raise ValueError(f"vdot: cannot take the dot product of arrays of shapes "
                         f"{aval(a).shape} and {aval(b).shape}: sizes differ "
                         f"({aval(a).size} vs {aval(b).size})")
    a = lax.reshape(conjugate(a), (aval(a).size,))
    b = lax.reshape(b, (aval(b).size,))
    return _out(_dg(a, b, ((0,), (0,)), pet=_pet(preferred_element_type)))


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Vector dot product along ``axis`` with broadcasting (conjugating x1); ``precision``
    and ``preferred_element_type`` as in ``dot``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.vecdot(np.ones((2, 3)), np.arange(3.0))
    array([3., 3.])
    """
    from ._reductions import sum as _sum
    from ._ufuncs import conjugate, multiply

    pet = _pet(preferred_element_type)
    if pet is not None:
        x1, x2 = astype(_a(x1, "vecdot"), pet), astype(_a(x2, "vecdot"), pet)
    return _sum(multiply(conjugate(x1), x2), axis=axis)


def inner(a, b, /, *, precision=None, preferred_element_type=None):
    """Sum product over the last axes: result shape a.shape[:-1] + b.shape[:-1];
    ``precision`` and ``preferred_element_type`` as in ``dot``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.inner(np.array([1, 2, 3]), np.array([0, 1, 0]))
    np.int64(2)
    """
    pet = _pet(preferred_element_type)
    a, b = _a(a, "inner"), _a(b, "inner")
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        return _scalar_product(a, b, pet)
    a, b, _ = _promote2(a, b, "inner")
    sa, sb = aval(a).shape, aval(b).shape
    if sa[-1] != sb[-1]:
        raise ValueError(f"inner: shapes {sa} and {sb} not aligned: {sa[-1]} (dim {na - 1}) != "
                         f"{sb[-1]} (dim {nb - 1})")
    return _out(_dg(a, b, ((na - 1,), (nb - 1,)), pet=pet))


def outer(a, b, out=None):
    """Outer product of the flattened inputs.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.outer(np.array([1, 2]), np.array([1, 10, 100]))
    array([[  1,  10, 100],
           [  2,  20, 200]])
    """
    from ._ufuncs import multiply

    if out is not None:
        raise TypeError("outer: out= is not supported; use the returned value")
    a, b = _a(a, "outer"), _a(b, "outer")
    a = lax.reshape(a, (aval(a).size, 1))
    b = lax.reshape(b, (1, aval(b).size))
    return multiply(a, b)


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Sum products over ``axes``: an int N (last N of a with first N of b) or a pair of
    axis sequences; ``precision`` and ``preferred_element_type`` as in ``dot``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5)), axes=2).shape
    (2, 5)
    """
    a, b, _ = _promote2(a, b, "tensordot")
    sa, sb = aval(a).shape, aval(b).shape
    na, nb = len(sa), len(sb)
    try:
        n = int(axes)
        if n < 0:
            raise ValueError("tensordot: axes must be non-negative")
        if n > na or n > nb:
            raise ValueError(f"tensordot: axes={n} exceeds the rank of shapes {sa} and {sb}")
        ca, cb = list(range(na - n, na)), list(range(n))
    except TypeError:
        ca, cb = axes
        ca = [ca] if isinstance(ca, (int, np.integer)) else list(ca)
        cb = [cb] if isinstance(cb, (int, np.integer)) else list(cb)
        if len(ca) != len(cb):
            raise ValueError("tensordot: shape-mismatch for sum (different numbers of axes)") from None
        ca = [c % na if na else c for c in ca]
        cb = [c % nb if nb else c for c in cb]
    for i, j in zip(ca, cb):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: shape-mismatch for sum: shapes {sa} and {sb}, axis "
                             f"{i} of a has size {sa[i]} but axis {j} of b has size {sb[j]}")
    return _out(_dg(a, b, (tuple(ca), tuple(cb)), pet=_pet(preferred_element_type)))


def kron(a, b):
    """Kronecker product.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.kron(np.array([1, 10]), np.array([1, 2]))
    array([ 1,  2, 10, 20])
    """
    from ._ufuncs import multiply

    a, b = _a(a, "kron"), _a(b, "kron")
    nd = max(aval(a).ndim, aval(b).ndim)
    sa = (1,) * (nd - aval(a).ndim) + tuple(aval(a).shape)
    sb = (1,) * (nd - aval(b).ndim) + tuple(aval(b).shape)
    a = lax.reshape(a, tuple(x for s in sa for x in (s, 1)))
    b = lax.reshape(b, tuple(x for s in sb for x in (1, s)))
    r = multiply(a, b)
    return _out(lax.reshape(r, tuple(x * y for x, y in zip(sa, sb))))


# -- einsum ---------------------------------------------------------------------------------

_ELL = [chr(0x3000 + i) for i in range(64)]  # private labels for '...' dims


def _parse(subscripts, operands):
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, outs = s.split("->")
        explicit = True
    else:
        ins, outs, explicit = s, None, False
    specs = ins.split(",")
    if len(specs) != len(operands):
        raise ValueError(f"einsum: {len(specs)} operand subscripts for {len(operands)} operands "
                         f"in {subscripts!r}")
    for sp in specs + ([outs] if outs else []):
        body = sp.replace("...", "")
        if "." in body or not all(c.isalpha() for c in body):
            raise ValueError(f"einsum: invalid subscript in {subscripts!r}; use letters and '...'")
    ell = 0
    for sp, op in zip(specs, operands):
        nd = aval(op).ndim
        if "..." in sp:
            k = nd - (len(sp) - 3)
            if k < 0:
                raise ValueError(f"einsum: operand has {nd} dims, fewer than subscripts {sp!r}")
            ell = max(ell, k)
        elif len(sp) != nd:
            raise ValueError(f"einsum: operand subscripts {sp!r} do not match its {nd} "
                             f"dimensions (shape {aval(op).shape})")
    # right-align ellipsis labels: operand with k ellipsis dims uses the last k labels
    fixed = []
    for sp, op in zip(specs, operands):
        if "..." in sp:
            k = aval(op).ndim - (len(sp) - 3)
            fixed.append(sp.replace("...", "".join(_ELL[ell - k:ell])))
        else:
            fixed.append(sp)
    ell_labels = "".join(_ELL[:ell])
    if explicit:
        if ell and "..." not in outs:
            raise ValueError(
                f"einsum: output has more dimensions than subscripts given in {subscripts!r}, "
                f"but no '...' ellipsis provided to broadcast the extra dimensions.")
        outs = outs.replace("...", ell_labels)
    else:
        counts = {}
        for sp in fixed:
            for c in sp:
                counts[c] = counts.get(c, 0) + 1
        outs = ell_labels + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in _ELL))
    if len(set(outs)) != len(outs):
        raise ValueError(f"einsum: output subscript {outs!r} has repeated labels")
    all_labels = set("".join(fixed))
    for c in outs:
        if c not in all_labels:
            raise ValueError(f"einsum: output label {c!r} does not appear in the inputs")
    return fixed, outs


def _diag_label(x, spec, c):
    """Take the diagonal over all axes labelled ``c`` (moves it last)."""
    from ._indexing import getitem

    pos = [i for i, ch in enumerate(spec) if ch == c]
    rest = [i for i in range(len(spec)) if i not in pos]
    x = lax.transpose(x, tuple(rest + pos))
    n = aval(x).shape[-1]
    sizes = {aval(x).shape[len(rest) + k] for k in range(len(pos))}
    if len(sizes) != 1:
        raise ValueError(f"einsum: repeated label {c!r} has dimensions of different sizes {sizes}")
    ar = np.arange(n)
    x = getitem(x, (Ellipsis,) + (ar,) * len(pos))
    return x, "".join(spec[i] for i in rest) + c


def _sum_labels(x, spec, labels):
    axes = tuple(i for i, c in enumerate(spec) if c in labels)
    if not axes:
        return x, spec
    return lax.reduce_sum(x, axes), "".join(c for c in spec if c not in labels)


def _contract_pair(x, sx, y, sy, keep):
    """Contract two operands, keeping the labels in ``keep`` (needed later or output)."""
    y, sy = _sum_labels(y, sy, set(sy) - keep - set(sx))
    x, sx = _sum_labels(x, sx, set(sx) - keep - set(sy))
    common = [c for c in sx if c in sy]
    batch = [c for c in common if c in keep]
    contract = [c for c in common if c not in keep]
    x = _dg(x, y, ([sx.index(c) for c in contract], [sy.index(c) for c in contract]),
            ([sx.index(c) for c in batch], [sy.index(c) for c in batch]))
    sx = "".join(batch) + "".join(c for c in sx if c not in common) + "".join(
        c for c in sy if c not in common)
    return x, sx


def _einsum_path(subscripts, operands, optimize):
    """``(path, description)`` of numpy's ``einsum_path`` computed from the operands'
    shapes only (zero-stride stand-ins: traced operands are fine, nothing is allocated);
    the path without numpy's leading 'einsum_path' (JAX's format)."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum_path: only the subscripts-string form is supported")
    avals = [aval(_a(o, "einsum_path")) for o in operands]
    stand_ins = [np.broadcast_to(np.zeros((), a.dtype), a.shape) for a in avals]
    n = len(stand_ins)
    if optimize is False:  # left to right, as JAX's (opt_einsum's) unoptimized path
        explicit = [(0, 1)] * (n - 1) if n > 1 else [(0,)]
        return explicit, np.einsum_path(subscripts, *stand_ins, optimize=["einsum_path"] + explicit)[1]
    if optimize is True or optimize in ("auto", "greedy"):
        optimize = "greedy"
    elif isinstance(optimize, (list, tuple)):
        optimize = list(optimize)
        if not optimize or optimize[0] != "einsum_path":
            optimize = ["einsum_path"] + optimize
    elif optimize != "optimal":
        raise ValueError(f"einsum: optimize must be 'auto', 'greedy', 'optimal', True, False or "
                         f"a contraction path, got {optimize!r}.")
    path, info = np.einsum_path(subscripts, *stand_ins, optimize=optimize)
    return [tuple(int(i) for i in p) for p in path[1:]], info


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize="auto", precision=None, preferred_element_type=None):
    """Einstein summation: implicit and explicit ('->') output, repeated labels within an
    operand (traces/diagonals), '...' broadcasting, any number of operands (contracted
    with dot_general in the order ``optimize`` picks: 'auto'/'greedy'/True/'optimal'
    choose one with numpy's ``einsum_path`` (JAX's default), False contracts left to
    right, and a list (from ``einsum_path``, with or without numpy's leading
    'einsum_path') gives the order). ``preferred_element_type`` (JAX's) is the dtype the
    contractions accumulate in and return; ``precision`` is accepted and changes nothing.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.einsum("ij,jk->ik", np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 2.],
           [3., 4.]])
    >>> xnp.einsum("ii", np.array([[1, 2], [3, 4]]))
    np.int64(5)
    """
    if out is not None:
        raise TypeError("einsum: out= is not supported; use the returned value")
    if not isinstance(subscripts, str):
        raise TypeError("einsum: only the subscripts-string form is supported")
    ops = [_a(o, "einsum") for o in operands]
    if not ops:
        raise ValueError("einsum: at least one operand is required")
    pet = _pet(preferred_element_type)
    if pet is not None and dtype is None:
        dtype = pet  # operands in the accumulation dtype: every contraction accumulates in it
    dt, _ = result_type_of(*ops) if dtype is None else (np.dtype(dtype), False)
    ops = [astype(o, dt) for o in ops]
    specs, outs = _parse(subscripts, ops)
    # label sizes (size-1 broadcasts)
    sizes: dict = {}
    for sp, op in zip(specs, ops):
        for c, n in zip(sp, aval(op).shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(f"einsum: operands could not be broadcast together: label {c!r} "
                                 f"has sizes {sizes[c]} and {n} (subscripts {subscripts!r})")
    # diagonals, broadcasting of size-1 dims
    work = []
    for sp, op in zip(specs, ops):
        for c in dict.fromkeys(sp):
            if sp.count(c) > 1:
                op, sp = _diag_label(op, sp, c)
        shp = tuple(sizes[c] for c in sp)
        if tuple(aval(op).shape) != shp:
            op = lax.broadcast_to_shape(op, shp)
        work.append((op, sp))

    def needed(rest):
        s = set(outs)
        for _, sp in rest:
            s |= set(sp)
        return s

    path = None
    if len(work) > 2 and optimize is not False:
        path, _ = _einsum_path(subscripts, ops, optimize)
    if path is None:
        # left to right: sum out labels that appear in a single operand only and not in
        # the output, then contract each operand into the running result
        x, sx = work[0]
        x, sx = _sum_labels(x, sx, set(sx) - needed(work[1:]))
        for i in range(1, len(work)):
            x, sx = _contract_pair(x, sx, *work[i], needed(work[i + 1:]))
    else:
        for step in path:  # numpy's convention: contracted operands leave, the result is appended
            group = sorted(set(step))
            rest = [w for k, w in enumerate(work) if k not in group]
            keep = needed(rest)
            x, sx = work[group[0]]
            for k in group[1:]:
                others = [work[m] for m in group if m != k and m > k]
                x, sx = _contract_pair(x, sx, *work[k], keep | needed(others))
            x, sx = _sum_labels(x, sx, set(sx) - keep)
            work = rest + [(x, sx)]
        x, sx = work[0]
    x, sx = _sum_labels(x, sx, set(sx) - set(outs))
    perm = tuple(sx.index(c) for c in outs)
    if perm != tuple(range(len(perm))):
        x = lax.transpose(x, perm)
    return _out(x)

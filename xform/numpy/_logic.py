"""Logic functions (numpy's "Logic functions" page): array type testing (isscalar,
iscomplexobj, isrealobj) and comparison (isclose, allclose); with real and imag, which
numpy keeps next to iscomplexobj and isrealobj (its ``type_check`` module). The
elementwise logic ufuncs (isnan, logical_and, ...) are in ``_ufuncs.py``."""
from __future__ import annotations

import numpy as np

from .. import lax
from ._promote import arg, aval, is_tracer, out, out_array, result_type_of
from ._promote import array_arg as _a
from ._promote import astype as _to

__all__ = ["isscalar", "iscomplexobj", "isrealobj", "isclose", "allclose", "real", "imag"]


# -- array type testing ------------------------------------------------------------------


def isscalar(element):
    """numpy.isscalar (traced values are arrays, never scalars).

    >>> import xform.numpy as xnp
    >>> xnp.isscalar(1.0)
    True
    """
    if is_tracer(element):
        return False
    return np.isscalar(element)


def iscomplexobj(x):
    """True if ``x`` has a complex dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.iscomplexobj(np.array([1.0]))
    False
    """
    return aval(arg(x, "iscomplexobj")).dtype.kind == "c"


def isrealobj(x):
    """True if ``x`` does not have a complex dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isrealobj(np.array([1.0]))
    True
    """
    return not iscomplexobj(x)


# -- comparison --------------------------------------------------------------------------


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol * |b| (infinities equal only to themselves).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isclose(np.array([1.0, 2.0]), np.array([1.0 + 1e-9, 2.1]))
    array([ True, False])
    """
    from ._ufuncs import (
        _where,
        absolute,
        add,
        equal,
        isfinite,
        isnan,
        less_equal,
        logical_and,
        logical_or,
        multiply,
        subtract,
    )

    a, b = _a(a, "isclose"), _a(b, "isclose")
    dt, _ = result_type_of(a, b, 1.0)
    a, b = _to(a, dt), _to(b, dt)
    fin = logical_and(isfinite(a), isfinite(b))
    with np.errstate(invalid="ignore"):
        close = less_equal(absolute(subtract(a, b)), add(atol, multiply(rtol, absolute(b))))
    r = _where(fin, close, equal(a, b))
    if equal_nan:
        r = logical_or(r, logical_and(isnan(a), isnan(b)))
    return out(r)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether all elements are close: a Python bool for concrete inputs (numpy's), a
    traced boolean scalar inside transformations (as JAX's ``allclose``, which works
    inside ``jit``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.allclose(np.array([1.0]), np.array([1.0 + 1e-9]))
    True
    """
    from ._reductions import all as _all

    r = _all(isclose(a, b, rtol, atol, equal_nan))
    return r if is_tracer(r) else bool(r)


# -- complex parts -----------------------------------------------------------------------


def real(val):
    """Real part (the array itself for real dtypes).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.real(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    v = _a(val, "real")
    if aval(v).dtype.kind == "c":
        return out_array(lax.real(v))
    return out_array(v)


def imag(val):
    """Imaginary part (zeros for real dtypes).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.imag(np.array([1.0, 2.0]))
    array([0., 0.])
    """
    v = _a(val, "imag")
    if aval(v).dtype.kind == "c":
        return out_array(lax.imag(v))
    return lax.full(aval(v).shape, 0, aval(v).dtype)

"""xform.numpy: numpy's API on xform.lax, usable inside every transformation.

Functions take numpy's argument names and follow numpy's broadcasting and NEP 50
promotion (Python scalars are weak: ``float32_array + 1.0`` stays float32). Outside
transformations they return numpy arrays (numpy scalars for 0-d) with numpy's values
and dtypes. Traced values behave like arrays (operators, indexing, methods; see
``_methods.py``), and plain numpy functions called on them dispatch here.

>>> import numpy as np, xform, xform.numpy as xnp
>>> xform.grad(lambda x: xnp.sum(xnp.sin(x) ** 2))(np.array([0.0, 1.0]))
array([0.        , 0.90929743])
"""
import numpy as _np

from . import linalg  # noqa: F401
from . import fft  # noqa: F401
from . import random  # noqa: F401  (numpy.random, for autograd code: see random.py)
from ._dot import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._creation import *  # noqa: F401,F403
from ._manipulation import *  # noqa: F401,F403
from ._indexing_routines import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._logic import *  # noqa: F401,F403
from ._ufuncs import *  # noqa: F401,F403
from ._ufuncs import abs, divmod, pow, round  # noqa: F401,A004
from ._reductions import all, any, max, min, sum  # noqa: F401,A004
from ._dispatch import _can_cast as can_cast  # noqa: F401
from ._dispatch import _result_type as result_type  # noqa: F401
from ._indexing import _IndexUpdateHelper, _IndexUpdateRef, at  # noqa: F401
from ._math_extra import *  # noqa: F401,F403
from ._statistics import *  # noqa: F401,F403
from ._sets import *  # noqa: F401,F403
from ._selection import *  # noqa: F401,F403
from ._manipulation_extra import *  # noqa: F401,F403
from ._polynomial import *  # noqa: F401,F403
from ._windows import *  # noqa: F401,F403
from ._index_tricks import *  # noqa: F401,F403
from ._functional import *  # noqa: F401,F403
from ._sorting_extra import *  # noqa: F401,F403
from ._bits import *  # noqa: F401,F403
from ._utilities import *  # noqa: F401,F403
from ._ufunc_objects import frompyfunc, ufunc  # noqa: F401
from . import _methods  # noqa: F401,E402  (attaches operators and methods to Tracer)

# dtypes and constants. The scalar types are numpy's (subclasses that also convert traced
# values when called, as JAX's jnp.float32(x); see _scalar_types.py).
from ._scalar_types import ndarray, scalar_types as _scalar_types  # noqa: E402,F401

globals().update(_scalar_types())
object_, character, flexible = _np.object_, _np.character, _np.flexible
generic, number, integer, signedinteger, unsignedinteger = (
    _np.generic, _np.number, _np.integer, _np.signedinteger, _np.unsignedinteger)
inexact, floating, complexfloating = _np.inexact, _np.floating, _np.complexfloating
dtype = _np.dtype
issubdtype = _np.issubdtype
promote_types = _np.promote_types
ComplexWarning = _np.exceptions.ComplexWarning
pi, e, inf, nan, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma
newaxis = None

# Eager results of the public functions are xform.Arrays (``.at``, see docs/arrays.md).
from ._array import wrap_public as _wrap_public  # noqa: E402

_wrap_public(globals())
_wrap_public(vars(linalg))
_wrap_public(vars(fft))

# numpy's binary ufuncs (and negative) as ``ufunc`` objects: ``xnp.add.outer``, ``.reduce``,
# ``.accumulate``, ``.at``, ``.reduceat`` (JAX's ``jnp.ufunc``); built on the wrapped functions.
from ._ufunc_objects import install as _install_ufuncs  # noqa: E402

_install_ufuncs(globals())

"""xform.random: functional, counter-based pseudo-random numbers (JAX's ``jax.random``).

There is no global state: every sampler takes a key, and the same key gives the same
values. Make new keys with ``split`` (or ``fold_in`` an integer) instead of reusing one::

    key = xform.random.key(0)
    key, sub = xform.random.split(key)
    x = xform.random.normal(sub, (3,))

Keys
----
The generator is Threefry-2x32 (JAX's default). A key is two ``uint32`` words:

- ``PRNGKey(seed)`` returns a *raw* key, a ``uint32`` array of shape ``(2,)`` (arrays of
  raw keys have shape ``(..., 2)``);
- ``key(seed)`` returns a *typed* key: a ``PRNGKeyArray`` (a small class holding the raw
  data, ``shape`` excluding the data axis) that is a pytree, so it passes through
  ``jit``, ``vmap`` (over leading axes), ``grad`` and control flow like an array.
  ``key_data`` gives its data, ``wrap_key_data`` makes typed keys from data.

Every function accepts both; ``split`` and ``fold_in`` return the kind they were given.
Seeds are 64-bit integers: ``[seed >> 32, seed & 0xFFFFFFFF]``.

Same bits as JAX
----------------
With JAX's current default configuration (``jax_threefry_partitionable=True``,
checked against jax/jaxlib 0.10.2) the same seed and call give the same values:

- bit for bit: keys, ``split``, ``fold_in``, ``bits``, ``uniform`` (float16/32/64),
  ``randint``, ``bernoulli``, ``permutation``, ``choice``, ``categorical``, and in
  float32 (and float16) ``normal``, ``truncated_normal``, ``exponential``, ``laplace``,
  ``gumbel``: the float32 ``log``, ``log1p`` and ``erf_inv`` are computed as JAX does
  on CPU (``xform/lax/random_math.py``; a fused multiply-add is emulated in float64,
  which can differ from JAX's in the last bit about once in 10**8 values).
- Defaults are 64-bit, as numpy's (float64, int64), which is JAX with
  ``jax_enable_x64``; pass ``dtype=numpy.float32`` (``numpy.int32`` for ``randint``, a
  ``numpy.float32`` probability for ``bernoulli``) for the values of JAX's default
  configuration. ``choice`` with replacement samples int64 indices (JAX with x64).
- Not bitwise: float64 samplers that apply ``log``/``erf_inv`` use xform's accurate
  functions (JAX's float64 ``erf_inv`` is off by up to ~10**4 ulps), and float64
  ``uniform`` with bounds whose width is not a power of two (JAX fuses the
  multiply-add); float16 ``gumbel`` (JAX fuses the two logarithms in float32);
  ``gamma``/``loggamma``/``beta``/``dirichlet`` (JAX's float32 code on CPU uses the
  processor's reciprocal-square-root estimate, so its values depend on the CPU; most
  values agree exactly); ``multivariate_normal`` and ``orthogonal`` (factorizations,
  equal to rounding).

Transformations
---------------
Samplers work under ``jit`` with traced keys (the bits of a key are one fused Numba
loop: counter, hash and conversion per element), under ``vmap`` with a batch of keys
(``vmap(f)(split(key, n))``), and in ``fori_loop``/``scan`` bodies. The
reparameterized samplers are differentiable in their parameters: ``uniform``
(``minval``/``maxval``), ``truncated_normal`` (bounds), ``gamma``/``loggamma``/
``beta``/``dirichlet`` (implicit reparameterization), ``multivariate_normal``
(``mean``/``cov``).

numpy's global random functions (``numpy.random.normal(...)``) cannot be traced: called
on a traced value they raise an error pointing here; called inside ``jit`` without one,
their sample is drawn once, when the function is traced, and frozen into the compiled
function.
"""
from ._keys import (  # noqa: F401
    PRNGKey,
    PRNGKeyArray,
    bits,
    fold_in,
    key,
    key_data,
    key_impl,
    split,
    wrap_key_data,
)
from ._continuous import (  # noqa: F401
    exponential,
    gumbel,
    laplace,
    normal,
    truncated_normal,
    uniform,
)
from ._discrete import bernoulli, categorical, choice, permutation, randint  # noqa: F401
from ._gamma import beta, dirichlet, gamma, loggamma  # noqa: F401
from ._multivariate import multivariate_normal, orthogonal  # noqa: F401
from ._more import (  # noqa: F401
    ball,
    binomial,
    cauchy,
    chisquare,
    clone,
    double_sided_maxwell,
    f,
    generalized_normal,
    geometric,
    logistic,
    lognormal,
    maxwell,
    multinomial,
    pareto,
    poisson,
    rademacher,
    rayleigh,
    t,
    triangular,
    wald,
    weibull_min,
)

__all__ = [
    "PRNGKey", "PRNGKeyArray", "ball", "bernoulli", "beta", "binomial", "bits", "categorical",
    "cauchy", "chisquare", "choice", "clone", "dirichlet", "double_sided_maxwell",
    "exponential", "f", "fold_in", "gamma", "generalized_normal", "geometric", "gumbel", "key",
    "key_data", "key_impl", "laplace", "logistic", "loggamma", "lognormal", "maxwell",
    "multinomial", "multivariate_normal", "normal", "orthogonal", "pareto", "permutation",
    "poisson", "rademacher", "randint", "rayleigh", "split", "t", "triangular",
    "truncated_normal", "uniform", "wald", "weibull_min", "wrap_key_data",
]

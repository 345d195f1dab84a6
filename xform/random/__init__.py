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
checked against jax/jaxlib 0.10.2 on CPU, float64 with ``jax_enable_x64``) the same seed
and call give the same values, eagerly and under ``jit``:

- bit for bit: keys, ``split``, ``fold_in``, ``bits``, ``uniform``, ``randint``,
  ``bernoulli``, ``permutation``, ``choice``, ``categorical``, ``normal`` (also complex),
  ``truncated_normal``, ``exponential``, ``laplace``, ``gumbel`` (modes 'low', 'high',
  'highest'), ``logistic``, ``cauchy``, ``lognormal``, ``pareto``, ``rayleigh``, ``wald``,
  ``weibull_min``, ``triangular``, ``rademacher``, ``geometric``, ``poisson``,
  ``binomial``, ``multinomial`` in float32 and float64 (float16: all but three, below);
  in float64 also ``maxwell``,
  ``double_sided_maxwell``, and the gamma family (``gamma``, ``loggamma``, ``beta``,
  ``dirichlet``, ``chisquare``, ``f``, ``t``, ``generalized_normal``, ``ball``) with the
  caveat below; ``multivariate_normal`` and ``orthogonal`` in float64 were equal in
  the measurements (their factorizations are LAPACK's in both).
- How: the samplers apply the functions as XLA computes them on CPU: its own float32
  polynomials for ``log``, ``log1p``, ``exp``, ``erf``, ``erf_inv``
  (``xform/lax/random_math.py``), its float64 polynomials for ``log1p``, ``exp``,
  ``erf_inv`` (``random_math64.py``), the C library's ``log``, ``erf``, ``tan``, ``pow``
  (``random_libm.py``); every multiply feeding an add is a fused multiply-add, as XLA
  contracts them; and XLA's algebraic rewrites are followed: a division by a broadcast
  parameter is a product with its reciprocal, ``(a / b) / (c / d)`` is
  ``(a d) / (b c)``, ``a / b**c`` is ``a b**-c``, a row sum fused with its operand is
  added in order (``_math.py``).
- Defaults are 64-bit, as numpy's (float64, int64), which is JAX with
  ``jax_enable_x64``; pass ``dtype=numpy.float32`` (``numpy.int32`` for ``randint``, a
  ``numpy.float32`` probability for ``bernoulli``) for the values of JAX's default
  configuration. ``choice`` with replacement samples int64 indices (JAX with x64).
- Not bitwise, and why: the gamma family computes ``1/3 / sqrt(alpha - 1/3)``, which XLA
  turns into a reciprocal square root that it computes from the processor's estimate
  refined by Newton steps (bits that depend on the CPU); xform uses ``1 / sqrt``, equal
  to XLA's for many ``alpha`` (e.g. 0.5, 1.5, 2.5, 3 in float64) but not all (measured
  on an AVX-512 CPU for ``alpha`` uniform in (0.1, 10): 96% of the gamma values equal,
  the others at most 4 ulps apart in float64, 15 in float32).
  ``dirichlet`` with more than 20 categories and ``ball`` with ``d > 20`` (XLA sums
  longer rows in a vectorized order); float32 ``maxwell`` (1 ulp in ~8% of values: the
  order of XLA's fused float32 reduction is not known); in float16, ``gumbel`` with mode
  'low', ``logistic`` and ``maxwell`` (a few ulps in 6-10% of the values: XLA's float16
  ``log`` is not its float32 one rounded); float32 ``multivariate_normal`` (factorization
  rounding). Inside ``jax.jit`` with constant parameters XLA folds
  constants (e.g. the gamma family's ``1/3 / sqrt(alpha - 1/3)`` exactly), so JAX's own
  values can differ from its eager ones; xform follows JAX's eager calls.

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

"""xform.nn: neural-network functions with JAX's ``jax.nn`` names and signatures, and
``xform.nn.initializers``.

Activations (elementwise): ``relu``, ``relu6``, ``gelu``, ``silu``/``swish``,
``softplus``, ``sigmoid``, ``log_sigmoid``, ``elu``, ``celu``, ``selu``, ``leaky_relu``,
``hard_tanh``, ``glu``. Normalizing functions: ``softmax``, ``log_softmax``,
``logsumexp``, ``logmeanexp``, ``standardize``, ``one_hot``. More activations (``mish``,
``squareplus``, ``hard_sigmoid``, ``hard_silu``, ``soft_sign``, ``sparse_plus``,
``sparse_sigmoid``, ``log1mexp``, ``identity``, ``tanh``) and ``dot_product_attention``
are in ``_more.py``. Everything is built on ``xform.numpy``, so
it differentiates (to any order), vmaps and jits; integer inputs promote to float64.

Numerics: the exponentials of ``softmax``/``log_softmax``/``logsumexp`` are of
``x - max(x)``, so large logits are safe; ``softplus``, ``sigmoid``, ``log_sigmoid`` are
stable for large ``|x|``; exact ``gelu`` keeps its relative accuracy in the left tail.
Derivatives at kinks are listed in ``docs/autodiff.md`` ("Activation functions"):
``relu'(0) = 0`` as in JAX.
"""
from ._activations import (  # noqa: F401
    celu,
    elu,
    gelu,
    glu,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softplus,
    swish,
)
from ._normalization import log_softmax, logsumexp, one_hot, softmax, standardize  # noqa: F401
from ._more import (  # noqa: F401
    dot_product_attention,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    identity,
    log1mexp,
    logmeanexp,
    mish,
    soft_sign,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    tanh,
)
from . import initializers  # noqa: F401,E402

__all__ = ["celu", "dot_product_attention", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "identity", "initializers", "leaky_relu", "log1mexp",
           "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp", "mish", "one_hot", "relu",
           "relu6", "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus",
           "sparse_plus", "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh"]

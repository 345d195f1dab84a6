"""xform.lax: the primitives and the user-facing operations that bind them."""
from .elementwise import *  # noqa: F401,F403
from .elementwise import add, add_any, convert_element_type, cos, exp, mul, neg, sin, sub  # noqa: F401
from .structural import (  # noqa: F401
    broadcast_in_dim,
    broadcast_to_shape,
    expand_dims,
    full,
    moveaxis,
    reduce_sum,
    reshape,
    squeeze,
    transpose,
)

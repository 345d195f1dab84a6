"""``xform.checkpoint_policies``: JAX's rematerialization policies for
``xform.checkpoint(fun, policy=...)``.

A policy is a predicate ``policy(primitive, *avals, **params) -> bool`` saying whether
the result of an equation may be saved for the backward pass instead of recomputed.
xform's ``checkpoint`` currently recomputes every intermediate whatever the policy
(JAX's default, ``nothing_saveable``): results and derivatives are the same with any
policy, only memory and time differ from JAX's.
"""
from __future__ import annotations

from typing import Any, Callable

from .lax.dot import dot_general_p

__all__ = ["everything_saveable", "nothing_saveable", "dots_saveable", "checkpoint_dots",
           "dots_with_no_batch_dims_saveable", "checkpoint_dots_with_no_batch_dims",
           "save_from_both_policies"]


def everything_saveable(prim: Any, *avals, **params) -> bool:
    """Save every intermediate (no recomputation).

    >>> from xform import checkpoint_policies as cp
    >>> from xform.lax.dot import dot_general_p
    >>> cp.everything_saveable(dot_general_p)
    True
    """
    return True


def nothing_saveable(prim: Any, *avals, **params) -> bool:
    """Recompute every intermediate (the default).

    >>> from xform import checkpoint_policies as cp
    >>> from xform.lax.dot import dot_general_p
    >>> cp.nothing_saveable(dot_general_p)
    False
    """
    return False


def dots_saveable(prim: Any, *avals, **params) -> bool:
    """Save the results of matrix products (``dot_general``), recompute the rest.

    >>> from xform import checkpoint_policies as cp
    >>> from xform.lax.dot import dot_general_p
    >>> cp.dots_saveable(dot_general_p), cp.dots_saveable(None)
    (True, False)
    """
    return prim is dot_general_p


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim: Any, *avals, **params) -> bool:
    """Save the results of matrix products without batch dimensions.

    >>> from xform import checkpoint_policies as cp
    >>> from xform.lax.dot import dot_general_p
    >>> cp.dots_with_no_batch_dims_saveable(
    ...     dot_general_p, dimension_numbers=(((1,), (0,)), ((), ())))
    True
    """
    if prim is not dot_general_p:
        return False
    dims = params.get("dimension_numbers")
    return dims is None or not (dims[1][0] or dims[1][1])


checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def save_from_both_policies(policy_1: Callable, policy_2: Callable) -> Callable:
    """A policy saving what either policy saves.

    >>> from xform import checkpoint_policies as cp
    >>> from xform.lax.dot import dot_general_p
    >>> p = cp.save_from_both_policies(cp.nothing_saveable, cp.dots_saveable)
    >>> p(dot_general_p)
    True
    """
    def policy(prim, *avals, **params):
        return policy_1(prim, *avals, **params) or policy_2(prim, *avals, **params)

    return policy

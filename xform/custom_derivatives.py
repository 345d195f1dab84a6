"""Custom derivative rules (``jax.custom_derivatives``'s place): ``custom_jvp`` and
``custom_vjp``. They live in ``xform.lax.custom_derivatives`` (``xform.numpy`` uses them)."""
from .lax.custom_derivatives import custom_jvp, custom_vjp  # noqa: F401

__all__ = ["custom_jvp", "custom_vjp"]

"""Backends: compilers from jaxprs to machine code. Each sits above ``xform.lax`` (its
lowering rules are keyed by lax's primitive objects) and below the public API."""

"""Interpreters: one module per interpretation of the IR / tracer stack."""

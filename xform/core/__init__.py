"""The core: abstract values, tracers and traces, primitives, the IR, pytrees."""

"""Reference helpers shared by the convolution and windowed-reduction tests, written
independently of xform.lax (numpy's and JAX's documented padding rules)."""
from __future__ import annotations


def explicit_pads(padding, in_sp, k_sp, strides) -> list:
    """Explicit (lo, hi) pairs for ``padding`` ("VALID", "SAME", "SAME_LOWER" or pairs)
    of spatial sizes ``in_sp``, window sizes ``k_sp`` and ``strides``: SAME pads so the
    output has ceil(n / s) positions, the odd element going high (low for SAME_LOWER)."""
    if not isinstance(padding, str):
        return [tuple(p) for p in padding]
    out = []
    for n, k, s in zip(in_sp, k_sp, strides):
        if padding == "VALID":
            out.append((0, 0))
            continue
        total = max((-(-n // s) - 1) * s + k - n, 0)
        lo = total // 2 if padding == "SAME" else total - total // 2
        out.append((lo, total - lo))
    return out

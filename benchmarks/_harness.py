"""Tiny timing harness shared by the benchmark scripts: medians of repeated runs."""
from __future__ import annotations

import statistics
import sys
import time

#: ``--quick`` on the command line: fewer repetitions and shorter samples.
QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 7
#: ``--cpu``: process CPU time instead of wall time (all threads of the process summed;
#: less disturbed by other load on a shared machine). Compare single-threaded runs:
#: OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 and, for JAX,
#: XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".
CPU = "--cpu" in sys.argv
_clock = time.process_time if CPU else time.perf_counter


def median_time(fn, *, repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call of ``fn()`` (wall time, or CPU time with ``--cpu``); each
    sample loops until ``min_time`` passes."""
    fn()  # warm-up (compilation, caches)
    n = 1
    while True:
        t0 = _clock()
        for _ in range(n):
            fn()
        dt = _clock() - t0
        if dt >= min_time or n >= 1 << 20:
            break
        n *= 2
    samples = []
    for _ in range(repeat):
        t0 = _clock()
        for _ in range(n):
            fn()
        samples.append((_clock() - t0) / n)
    return statistics.median(samples)


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def print_table(title: str, rows: list[tuple], ref: str = "xform") -> None:
    """rows: (workload, {impl: seconds or None}); prints times and ratios xform/other."""
    impls = []
    for _, times in rows:
        for k in times:
            if k not in impls:
                impls.append(k)
    print(f"\n{title}")
    head = f"{'workload':<44}" + "".join(f"{k:>14}" for k in impls)
    others = [k for k in impls if k != ref]
    head += "".join(f"{ref + '/' + k:>18}" for k in others)
    print(head)
    print("-" * len(head))
    for name, times in rows:
        line = f"{name:<44}" + "".join(f"{fmt_time(times.get(k)):>14}" for k in impls)
        for k in others:
            a, b = times.get(ref), times.get(k)
            line += f"{(a / b):>18.2f}" if a and b else f"{'-':>18}"
        print(line)


def t(fn) -> float:
    """``median_time`` with the repetitions chosen by ``--quick``."""
    return median_time(fn, repeat=REPEAT, min_time=0.05 if QUICK else 0.2)


def jax_t(fn) -> float:
    """``t`` of a JAX computation, waiting for its result."""
    import jax

    return t(lambda: jax.block_until_ready(fn()))


def load_jax():
    """``(jax, jax.numpy)`` set to x64 on the CPU, or ``(None, None)`` without JAX."""
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platform_name", "cpu")
    except Exception:  # pragma: no cover
        return None, None
    return jax, jnp

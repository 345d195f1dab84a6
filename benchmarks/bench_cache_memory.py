"""Memory of jit's in-memory caches (issue 15, section 4): what one compiled signature
keeps resident, whether ``xform.clear_caches()`` gives it back, and whether identical
programs share one compiled kernel.

Each scenario runs in a fresh process (``--child``), after ``import xform`` and one
compile of the function at another shape (so Numba's registries are loaded before the
starting level is taken). Resident memory is the process's RSS (``/proc/self/statm``),
read after ``gc.collect()`` and glibc's ``malloc_trim`` (memory that is free but kept by
the allocator does not count).

- ``sweep``: one small function (``sum(tanh(x) * x) + max(x)``) at N shapes (N distinct
  signatures), with an empty disk cache (``cold``: Numba compiles each kernel) and then
  with the cache it filled (``warm``: each kernel loaded from disk); RSS before, after,
  per signature, and after ``clear_caches()`` (target: back within 10% of the start).
- ``bounded``: the cold sweep again with ``xform_compile_cache_size`` = N/8.
- ``baseline``: the cold sweep with this work undone in the child (llvmlite's pass
  managers leak again, compiled kernels keep their LLVM IR, evicted modules are not
  released): what a signature kept before.
- ``lambdas``: L identical lambdas, each a new ``jit`` object called once: how many
  kernel modules they leave (target: 1) and the RSS per lambda.

Usage: ``python benchmarks/bench_cache_memory.py [--n 2000] [--lambdas 1000] [--quick]``
(``--quick``: N=200, L=200). Prints a table and the load average (``uptime``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_mb() -> float:
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _undo_this_work() -> None:
    """Baseline: what a compiled signature kept before (see the module docstring)."""
    from xform.backend import platform

    platform._PASS_MANAGERS_FIXED = True  # dispose_pass_managers() then does nothing
    from xform.backend.numba import resident

    resident.slim = lambda dispatcher: None
    resident._release = lambda module: None


def _child_sweep(n: int, cache_size, baseline: bool) -> dict:
    import numpy as np

    if baseline:
        _undo_this_work()
    import xform
    import xform.numpy as xnp
    from xform.backend.numba import resident

    xform.config.update("xform_compile_cache_size", cache_size)
    f = xform.jit(lambda x: xnp.sum(xnp.tanh(x) * x) + xnp.max(x))
    x0 = np.linspace(-1.0, 1.0, 1)
    assert np.isclose(f(x0), np.sum(np.tanh(x0) * x0) + np.max(x0))
    rss0 = _rss_mb()
    cpu0 = time.process_time()
    for k in range(n):
        x = np.linspace(-1.0, 1.0, k + 2)
        r = f(x)
        if k % 97 == 0:  # spot checks against numpy
            assert np.isclose(r, np.sum(np.tanh(x) * x) + np.max(x)), k
    cpu = time.process_time() - cpu0
    rss1 = _rss_mb()
    kept = resident.resident()
    xform.clear_caches()
    rss2 = _rss_mb()
    x = np.linspace(-1.0, 1.0, 5)  # still computes after clearing
    assert np.isclose(f(x), np.sum(np.tanh(x) * x) + np.max(x))
    return {"rss0": rss0, "rss1": rss1, "rss2": rss2, "cpu": cpu, "n": n, "resident": kept}


def _child_lambdas(count: int) -> dict:
    import numpy as np

    import xform
    from xform.backend.numba import resident

    x = np.linspace(0.0, 1.0, 64)
    assert np.allclose(xform.jit(lambda x: x * 2.0)(x), x * 2.0)  # registries loaded
    rss0 = _rss_mb()
    before = resident.resident()
    t0 = time.perf_counter()
    for _ in range(count):
        r = xform.jit(lambda x: x * 3.0 + 1.0)(x)
    dt = time.perf_counter() - t0
    assert np.allclose(r, x * 3.0 + 1.0)
    return {"rss0": rss0, "rss1": _rss_mb(), "modules": resident.resident() - before,
            "time": dt, "count": count}


def _run_child(args: list, cache_dir: str) -> dict:
    env = dict(os.environ, XFORM_CACHE_DIR=cache_dir)
    env.pop("XFORM_DISABLE_DISK_CACHE", None)
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2000, help="signatures of the sweep")
    p.add_argument("--lambdas", type=int, default=1000, help="identical lambdas")
    p.add_argument("--quick", action="store_true", help="N=200, L=200")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "sweep":
            n, size, baseline = int(rest[0]), rest[1], rest[2] == "1"
            out = _child_sweep(n, None if size == "none" else int(size), baseline)
        else:
            out = _child_lambdas(int(rest[0]))
        print(json.dumps(out))
        return
    if a.quick:
        a.n, a.lambdas = 200, 200
    sys.path.insert(0, ROOT)
    rows = []
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2, \
            tempfile.TemporaryDirectory() as d3, tempfile.TemporaryDirectory() as d4:
        rows.append(("cold: compile each signature", _run_child(["sweep", str(a.n), "none", "0"], d1)))
        rows.append(("warm: load each from the disk cache", _run_child(["sweep", str(a.n), "none", "0"], d1)))
        bound = max(1, a.n // 8)
        rows.append((f"cold, xform_compile_cache_size={bound}",
                     _run_child(["sweep", str(a.n), str(bound), "0"], d2)))
        if not a.skip_baseline:
            rows.append(("cold, before this work (baseline)",
                         _run_child(["sweep", str(a.n), "none", "1"], d3)))
        lam = _run_child(["lambdas", str(a.lambdas)], d4)
    print(f"\njit cache memory: {a.n} signatures of one small function "
          f"(RSS in MB, after gc + malloc_trim)")
    head = (f"{'scenario':<38}{'start':>8}{'after':>8}{'KB/sig':>8}{'resident':>9}"
            f"{'cleared':>9}{'vs start':>9}{'CPU ms/sig':>11}")
    print(head)
    print("-" * len(head))
    for name, r in rows:
        per = (r["rss1"] - r["rss0"]) * 1024 / r["n"]
        back = (r["rss2"] - r["rss0"]) / r["rss0"] * 100
        print(f"{name:<38}{r['rss0']:>8.0f}{r['rss1']:>8.0f}{per:>8.0f}{r['resident']:>9d}"
              f"{r['rss2']:>9.0f}{back:>+8.1f}%{r['cpu'] / r['n'] * 1e3:>11.1f}")
    print(f"\n{lam['count']} identical lambdas (a new jit object each, called once): "
          f"{lam['modules']} kernel module(s) compiled or loaded, "
          f"{(lam['rss1'] - lam['rss0']) * 1024 / lam['count']:.1f} KB RSS per lambda, "
          f"{lam['time'] / lam['count'] * 1e3:.2f} ms per lambda")
    targets = [("per signature <= 0.3 MB (cold)", (rows[0][1]["rss1"] - rows[0][1]["rss0"])
                / rows[0][1]["n"] <= 0.3),
               ("RSS within 10% of the start after clear_caches (cold)",
                rows[0][1]["rss2"] <= 1.1 * rows[0][1]["rss0"]),
               ("identical lambdas share one kernel module", lam["modules"] == 1)]
    for what, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, ROOT)
    main()

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
  The cold sweep then compiles N/4 new signatures: what they add shows how much of the
  memory ``clear_caches()`` freed is reused (rather than returned to the OS).
- ``bounded``: the cold sweep again with ``xform_compile_cache_size`` = N/8.
- ``baseline``: the cold sweep with this work undone in the child (llvmlite's pass
  managers leak again, compiled kernels keep their LLVM IR, evicted modules are not
  released): what a signature kept before.
- ``mlp``: a larger program, the gradient of a two-layer MLP's softmax cross-entropy
  (BLAS products, reductions; ~1 s to compile), at N/40 batch sizes, cold, and its
  baseline.
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


def _small():
    import numpy as np

    import xform
    import xform.numpy as xnp

    f = xform.jit(lambda x: xnp.sum(xnp.tanh(x) * x) + xnp.max(x))

    def run(k):  # signature k, checked against numpy
        x = np.linspace(-1.0, 1.0, k + 2)
        assert np.isclose(f(x), np.sum(np.tanh(x) * x) + np.max(x)), k

    return run


def _mlp():
    import numpy as np

    import xform
    import xform.numpy as xnp

    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((64, 128)) * 0.1, rng.standard_normal((128, 10)) * 0.1

    def loss(params, x, labels):
        a, b = params
        logits = xnp.tanh(x @ a) @ b
        m = logits.max(axis=1, keepdims=True)
        lse = xnp.log(xnp.sum(xnp.exp(logits - m), axis=1)) + m[:, 0]
        return xnp.mean(lse - xnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0])

    g = xform.jit(xform.grad(loss))

    def run(k):  # batch size k + 2, checked against the eager gradient
        x = rng.standard_normal((k + 2, 64))
        labels = rng.integers(0, 10, k + 2)
        if k % 7 == 0:
            for u, v in zip(g((w1, w2), x, labels), xform.grad(loss)((w1, w2), x, labels)):
                assert np.allclose(u, v, rtol=1e-9, atol=1e-12), k
        else:
            g((w1, w2), x, labels)

    return run


def _child_sweep(program: str, n: int, cache_size, baseline: bool, reuse: bool) -> dict:
    if baseline:
        _undo_this_work()
    import xform
    from xform.backend.numba import resident

    xform.config.update("xform_compile_cache_size", cache_size)
    run = _small() if program == "small" else _mlp()
    run(n + n // 4 + 10)  # another signature first: Numba's registries get loaded
    rss0 = _rss_mb()
    cpu0 = time.process_time()
    for k in range(n):
        run(k)
    cpu = time.process_time() - cpu0
    rss1 = _rss_mb()
    kept = resident.resident()
    xform.clear_caches()
    rss2 = _rss_mb()
    out = {"rss0": rss0, "rss1": rss1, "rss2": rss2, "cpu": cpu, "n": n, "resident": kept}
    if reuse:  # new signatures after clearing
        for k in range(n, n + n // 4):
            run(k)
        out["rss3"], out["n3"] = _rss_mb(), n // 4
    else:
        run(3)  # still computes after clearing
    return out


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
            program, n, size, baseline, reuse = rest[0], int(rest[1]), rest[2], rest[3] == "1", \
                rest[4] == "1"
            out = _child_sweep(program, n, None if size == "none" else int(size), baseline, reuse)
        else:
            out = _child_lambdas(int(rest[0]))
        print(json.dumps(out))
        return
    if a.quick:
        a.n, a.lambdas = 200, 200
    sys.path.insert(0, ROOT)
    rows = []
    n, m = a.n, max(5, a.n // 40)
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2, \
            tempfile.TemporaryDirectory() as d3, tempfile.TemporaryDirectory() as d4, \
            tempfile.TemporaryDirectory() as d5, tempfile.TemporaryDirectory() as d6:
        rows.append((f"small x{n}, cold: compile each", _run_child(
            ["sweep", "small", str(n), "none", "0", "1"], d1)))
        rows.append((f"small x{n}, warm: load each from disk", _run_child(
            ["sweep", "small", str(n), "none", "0", "0"], d1)))
        bound = max(1, n // 8)
        rows.append((f"small x{n}, cold, cache size {bound}", _run_child(
            ["sweep", "small", str(n), str(bound), "0", "0"], d2)))
        if not a.skip_baseline:
            rows.append((f"small x{n}, cold, before (baseline)", _run_child(
                ["sweep", "small", str(n), "none", "1", "0"], d3)))
        rows.append((f"MLP grad x{m}, cold", _run_child(
            ["sweep", "mlp", str(m), "none", "0", "0"], d5)))
        if not a.skip_baseline:
            rows.append((f"MLP grad x{m}, cold, before (baseline)", _run_child(
                ["sweep", "mlp", str(m), "none", "1", "0"], d6)))
        lam = _run_child(["lambdas", str(a.lambdas)], d4)
    print("\njit cache memory: compiled signatures of one function (RSS in MB, after gc + "
          "malloc_trim; 'cleared': after xform.clear_caches())")
    head = (f"{'scenario':<40}{'start':>7}{'after':>7}{'KB/sig':>8}{'resident':>9}"
            f"{'cleared':>8}{'vs start':>9}{'CPU ms/sig':>11}")
    print(head)
    print("-" * len(head))
    for name, r in rows:
        per = (r["rss1"] - r["rss0"]) * 1024 / r["n"]
        back = (r["rss2"] - r["rss0"]) / r["rss0"] * 100
        print(f"{name:<40}{r['rss0']:>7.0f}{r['rss1']:>7.0f}{per:>8.0f}{r['resident']:>9d}"
              f"{r['rss2']:>8.0f}{back:>+8.1f}%{r['cpu'] / r['n'] * 1e3:>11.1f}")
    cold = rows[0][1]
    print(f"\nafter clear_caches(), {cold['n3']} new signatures of the small function add "
          f"{(cold['rss3'] - cold['rss2']) * 1024 / cold['n3']:.0f} KB/sig (against "
          f"{(cold['rss1'] - cold['rss0']) * 1024 / cold['n']:.0f} before clearing): the "
          f"freed memory is reused")
    print(f"{lam['count']} identical lambdas (a new jit object each, called once): "
          f"{lam['modules']} kernel module(s) compiled or loaded, "
          f"{(lam['rss1'] - lam['rss0']) * 1024 / lam['count']:.1f} KB RSS per lambda, "
          f"{lam['time'] / lam['count'] * 1e3:.2f} ms per lambda")
    mlp = [r for name, r in rows if name.startswith("MLP") and "baseline" not in name][0]
    targets = [("<= 0.3 MB per signature (small, cold)",
                (cold["rss1"] - cold["rss0"]) / cold["n"] <= 0.3),
               ("<= 0.3 MB per signature (MLP grad, cold)",
                (mlp["rss1"] - mlp["rss0"]) / mlp["n"] <= 0.3),
               ("RSS within 10% of the start after clear_caches (small, cold)",
                cold["rss2"] <= 1.1 * cold["rss0"]),
               ("identical lambdas share one kernel module", lam["modules"] == 1)]
    for what, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, ROOT)
    main()

"""Long-running stress test of jit: threads and processes, random programs, random shapes.

    python benchmarks/stress.py --minutes 2            # 4 processes x 8 threads
    python benchmarks/stress.py --minutes 10 --processes 2 --threads 4 --tiered

Every worker thread draws random straight-line programs over ``xform.numpy`` (from a
shared pool of program seeds, so that threads and processes race for the same
compilations and share one disk cache) and random input shapes, runs one of
``jit(f)``, ``jit(grad)``, ``jit(vmap(f))`` (optionally tiered) and checks every result
against eager evaluation of the same transformation. The processes share a fresh
``XFORM_CACHE_DIR`` (or ``--cache-dir``); half of them start after the first ones have
warmed it, so cache hits, concurrent writes and loads all happen.

Reports per process: programs and calls checked, mismatches, errors, resident memory at
start and end and its peak (``ru_maxrss``), so that leaks show as growth. The exit
status is 1 if any result disagreed or any call failed.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SHAPES = [(3,), (5,), (4, 3), (2, 5), (3, 3), (1, 4)]


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:  # not Linux
        return float("nan")


def make_program(seed: int):
    """A random program f(x, y) -> array of x's shape (y broadcasts against x), smooth
    everywhere (no kinks at random points): a list of steps over xform.numpy."""
    import xform.numpy as xnp

    rng = np.random.default_rng(seed)
    unary = [xnp.sin, xnp.tanh, lambda a: xnp.exp(xnp.tanh(a)), lambda a: xnp.log1p(a * a),
             lambda a: xnp.sqrt(1.0 + a * a), lambda a: a * a]
    binary = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - 0.5 * b,
              lambda a, b: xnp.hypot(a, b + 1.5), lambda a, b: a / (1.0 + b * b),
              lambda a, b: xnp.where(b > 10.0, a, a * b)]
    steps = []
    for _ in range(int(rng.integers(3, 9))):
        kind = rng.integers(0, 4)
        if kind == 0:
            steps.append(("u", unary[rng.integers(len(unary))]))
        elif kind == 1:
            steps.append(("b", binary[rng.integers(len(binary))]))
        elif kind == 2:
            steps.append(("r", int(rng.integers(0, 2))))  # reduce over an axis, keepdims
        else:
            steps.append(("t", None))  # transpose (2-d) and back

    def f(x, y):
        v = x
        for kind, op in steps:
            if kind == "u":
                v = op(v)
            elif kind == "b":
                v = op(v, y)
            elif kind == "r":
                ax = min(op, v.ndim - 1)
                v = v - xnp.mean(v, axis=ax, keepdims=True) * 0.5
            else:
                v = xnp.transpose(xnp.transpose(v) * 1.25) if v.ndim == 2 else v * 1.25
        return v

    return f


def _close(got, want) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-9, atol=1e-12 * scale))


def worker(pid: int, tid: int, deadline: float, n_programs: int, tiered: bool, stats: dict,
           lock: threading.Lock) -> None:
    import xform
    import xform.numpy as xnp

    rng = np.random.default_rng(1000 * pid + tid)
    local = {"calls": 0, "programs": 0, "mismatches": 0, "errors": 0}
    while time.monotonic() < deadline:
        seed = int(rng.integers(n_programs))
        f = make_program(seed)
        mode = ("jit", "grad", "vmap")[seed % 3]
        if mode == "jit":
            eager, jitted = f, xform.jit(f, tiered=tiered)
        elif mode == "grad":
            def eager(x, y, f=f):
                return xform.grad(lambda a: xnp.sum(f(a, y)))(x)
            jitted = xform.jit(eager, tiered=tiered)
        else:
            eager = xform.vmap(f, in_axes=(0, None))
            jitted = xform.jit(eager, tiered=tiered)
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        local["programs"] += 1
        for _ in range(int(rng.integers(1, 4))):  # the first call compiles, later ones run
            xs = (3,) + shape if mode == "vmap" else shape
            x = rng.standard_normal(xs)
            y = rng.standard_normal(shape[-1:])
            try:
                ok = _close(jitted(x, y), eager(x, y))
            except Exception:
                local["errors"] += 1
                with lock:
                    print(f"[process {pid} thread {tid}] program {seed} ({mode}, {shape}):\n"
                          + traceback.format_exc(), file=sys.stderr, flush=True)
                continue
            local["calls"] += 1
            if not ok:
                local["mismatches"] += 1
                with lock:
                    print(f"[process {pid} thread {tid}] MISMATCH program {seed} ({mode}, "
                          f"{shape})", file=sys.stderr, flush=True)
    with lock:
        for k, v in local.items():
            stats[k] = stats.get(k, 0) + v


def process_main(pid: int, minutes: float, threads: int, n_programs: int, tiered: bool,
                 cache_dir: str, queue) -> None:
    os.environ["XFORM_CACHE_DIR"] = cache_dir
    start_rss = _rss_mb()
    import xform

    deadline = time.monotonic() + minutes * 60.0
    stats: dict = {}
    lock = threading.Lock()
    ts = [threading.Thread(target=worker, args=(pid, t, deadline, n_programs, tiered, stats, lock))
          for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    xform.wait_for_compilations(120)
    stats.update(pid=pid, rss_start_mb=start_rss, rss_end_mb=_rss_mb(),
                 peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put(stats)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--programs", type=int, default=60, help="size of the program pool")
    ap.add_argument("--tiered", action="store_true", help="jit(..., tiered=True)")
    ap.add_argument("--cache-dir", default=None, help="default: a fresh temporary directory")
    args = ap.parse_args()
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="xform-stress-")
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    t0 = time.monotonic()
    procs = []
    for p in range(args.processes):
        if p == (args.processes + 1) // 2:
            time.sleep(min(30.0, args.minutes * 60.0 / 4))  # the rest start on a warmer cache
        left = args.minutes - (time.monotonic() - t0) / 60.0
        procs.append(ctx.Process(target=process_main, args=(
            p, max(left, 0.1), args.threads, args.programs, args.tiered, cache_dir, queue)))
        procs[-1].start()
    results = [queue.get() for _ in procs]
    for pr in procs:
        pr.join()
    results.sort(key=lambda r: r["pid"])
    print(f"stress: {args.processes} processes x {args.threads} threads, {args.minutes:g} min, "
          f"pool of {args.programs} programs, tiered={args.tiered}, cache {cache_dir}")
    print(f"{'process':>7} {'programs':>9} {'calls':>7} {'mismatch':>8} {'errors':>6} "
          f"{'RSS start':>10} {'RSS end':>8} {'peak RSS':>9}")
    for r in results:
        print(f"{r['pid']:>7} {r.get('programs', 0):>9} {r.get('calls', 0):>7} "
              f"{r.get('mismatches', 0):>8} {r.get('errors', 0):>6} {r['rss_start_mb']:>8.0f}MB "
              f"{r['rss_end_mb']:>6.0f}MB {r['peak_rss_mb']:>7.0f}MB")
    bad = sum(r.get("mismatches", 0) + r.get("errors", 0) for r in results)
    exits = [pr.exitcode for pr in procs]
    print(f"total: {sum(r.get('calls', 0) for r in results)} calls checked against eager, "
          f"{bad} failures, process exit codes {exits}, peak RSS "
          f"{max(r['peak_rss_mb'] for r in results):.0f} MB per process")
    return 1 if bad or any(exits) else 0


if __name__ == "__main__":
    sys.exit(main())

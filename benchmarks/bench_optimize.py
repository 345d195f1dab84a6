"""xform.optimize against scipy.optimize.minimize driven by JAX's jitted gradients and
Hessian-vector products (x64, CPU), all in one run; ratios are xform / other.

    python benchmarks/bench_optimize.py            # all workloads
    python benchmarks/bench_optimize.py --quick    # fewer repetitions, smaller logistic data
    python benchmarks/bench_optimize.py --compile-only   # workload 4 only

Workloads:
 1. L2-regularised logistic regression, 20,000 x 500 (lam = 1e-3), from zeros:
    Newton-CG, trust-ncg and L-BFGS, each against scipy's method of the same family
    (``Newton-CG``, ``trust-ncg``, ``L-BFGS-B``) with ``jac``/``hessp`` from
    ``jax.jit(jax.value_and_grad)`` / ``jax.jit(forward-over-reverse hvp)``.
 2. Rosenbrock, n = 1,000 from zeros: the same three methods.
 3. Rosenbrock, n = 10,000 from zeros: the final objective of each.
 4. Compile time: the first call of each jitted optimizer in a warm process (xform:
    tracing, code generation and the Numba compile, with a fresh kernel cache; JAX:
    ``jax.jit(...).lower(...).compile()`` of *the same algorithm*: xform.optimize's method
    modules are written to JAX's API and are executed here against ``jax.numpy`` and
    ``jax.lax``), on Rosenbrock with n = 2 (a negligible run), in CPU seconds of the
    process (``time.process_time``: less disturbed than wall time by other jobs on a
    shared machine). The run time of that JAX program on Rosenbrock n = 1,000 (n = 100
    for bfgs and trust-exact) is printed too.

The load average is printed at the start and at the end.

Default tolerances everywhere (scipy's and xform's: ``gtol`` 1e-5 on the gradient);
"same solution" is the largest difference between the solutions found.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import types

COMPILE_ONLY = "--compile-only" in sys.argv  # only workload 4
# compile times are measured with empty kernel caches (a warm process, a cold disk cache)
os.environ.setdefault("XFORM_CACHE_DIR", tempfile.mkdtemp(prefix="xform-bench-opt-"))

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import QUICK, fmt_time, load_jax, median_time, print_table  # noqa: E402

import xform.numpy as xnp  # noqa: E402
from xform.optimize import minimize  # noqa: E402

jax, jnp = load_jax()
REPEAT = 3 if QUICK else 5
LOAD0 = os.getloadavg()

SCIPY_METHOD = {"newton-cg": "Newton-CG", "trust-ncg": "trust-ncg", "lbfgs": "L-BFGS-B",
                "bfgs": "BFGS", "trust-exact": "trust-exact"}


def timed(fn, repeat=REPEAT):
    """Median seconds of ``fn()`` (already warm), and its last result."""
    box = {}

    def run():
        box["r"] = fn()

    return median_time(run, repeat=repeat, min_time=0.0), box["r"]


# -- problems (xform and JAX versions) -------------------------------------------------------


def logistic(np_):
    def f(w, x, y, lam):
        return np_.mean(np_.logaddexp(0.0, -y * (x @ w))) + 0.5 * lam * np_.sum(w * w)
    return f


def rosen(np_):
    def f(x):
        return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return f


def scipy_jax(f, x0, args, method, options=None):
    """scipy.optimize.minimize with JAX's jitted value_and_grad and hvp."""
    vg = jax.jit(jax.value_and_grad(f))
    hvp = jax.jit(lambda x, v, *a: jax.jvp(lambda y: jax.grad(f)(y, *a), (x,), (v,))[1])

    def fun(x):
        v, g = vg(x, *args)
        return float(v), np.asarray(g)

    kw = {"jac": True}
    if method in ("newton-cg", "trust-ncg"):
        kw["hessp"] = lambda x, v: np.asarray(hvp(x, v, *args))
    fun(x0)  # compile outside the timing
    if "hessp" in kw:
        kw["hessp"](x0, x0)
    return lambda: so.minimize(fun, x0, method=SCIPY_METHOD[method], options=options, **kw)


# -- the same algorithms under jax.jit (for compile times and jitted runtimes) ----------------


def jax_twin():
    """xform.optimize's method modules executed against jax.numpy/jax.lax."""
    import importlib.util

    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "xform",
                        "optimize")
    pkg = types.ModuleType("_jax_twin")
    pkg.__path__ = []
    pkg.lax, pkg.numpy = jax.lax, jnp
    vmap_mod = types.ModuleType("_jax_twin.vmap")
    vmap_mod.vmap = jax.vmap
    sys.modules.update({"_jax_twin": pkg, "_jax_twin.lax": jax.lax, "_jax_twin.numpy": jnp,
                        "_jax_twin.vmap": vmap_mod})
    sub = types.ModuleType("_jax_twin.optimize")
    sub.__path__ = []
    common = types.ModuleType("_jax_twin.optimize._common")
    common.norm_inf = lambda v: jnp.max(jnp.abs(v))
    common.vdot = lambda a, b: jnp.sum(a * b)
    common.vnorm = lambda v: jnp.sqrt(jnp.sum(v * v))
    sys.modules.update({"_jax_twin.optimize": sub, "_jax_twin.optimize._common": common})
    mods = {}
    for name in ("_line_search", "_newton", "_trust", "_quasi_newton"):
        spec = importlib.util.spec_from_file_location(f"_jax_twin.optimize.{name}",
                                                      os.path.join(here, name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    from xform.optimize import _minimize

    table = {"newton-cg": mods["_newton"], "trust-ncg": mods["_trust"].NCG,
             "trust-exact": mods["_trust"].EXACT, "bfgs": mods["_quasi_newton"].BFGS,
             "lbfgs": mods["_quasi_newton"].LBFGS}
    defaults = {m: _minimize.METHODS[m].DEFAULTS for m in table}

    class Objective:
        def __init__(self, f, args):
            self.f, self.args = f, args
            self.vg = jax.value_and_grad(f)

        def value_and_grad(self, x):
            return self.vg(x, *self.args)

        def linearize(self, x):
            (fx, gx), lin = jax.linearize(lambda y: self.vg(y, *self.args), x)
            return fx, gx, lambda v: lin(v)[1]

    def program(f, method):
        def run(x0, *args):
            core = table[method].make(Objective(f, args), dict(defaults[method]))
            x, (fx, gx), stats = core(x0)
            return x, fx, stats["nit"]
        return jax.jit(run)

    return program


# -- runs ----------------------------------------------------------------------------------------


def report_solution(name, r, rs):
    dx = float(np.max(np.abs(np.asarray(r.x) - rs.x)))
    print(f"  {name:<28} xform: nit {int(r.nit):4d}, f = {float(r.fun):.10g}, "
          f"{r.message}\n  {'':<28} scipy: nit {rs.nit:4d}, f = {rs.fun:.10g}, {rs.message}"
          f"\n  {'':<28} max |x_xform - x_scipy| = {dx:.2e}")


rows = []
twin = jax_twin() if jax is not None else None

METHODS = () if COMPILE_ONLY else ("newton-cg", "trust-ncg", "lbfgs")
if METHODS:
    print("Solutions:")
# 1. logistic regression -----------------------------------------------------------------------
rng = np.random.default_rng(0)
n_samples, n_features = (5_000, 200) if QUICK else (20_000, 500)
LX = rng.normal(size=(n_samples, n_features)) / np.sqrt(n_features)
w_true = rng.normal(size=n_features)
LY = np.where(LX @ w_true + 0.3 * rng.normal(size=n_samples) > 0, 1.0, -1.0)
LARGS = (LX, LY, 1e-3)
log_x, log_j = logistic(xnp), logistic(jnp) if jax is not None else None
for method in METHODS:
    w0 = np.zeros(n_features)
    minimize(log_x, w0, LARGS, method=method)  # compile
    t_x, r = timed(lambda: minimize(log_x, w0, LARGS, method=method))
    times = {"xform": t_x}
    if jax is not None:
        t_s, rs = timed(scipy_jax(log_j, w0, LARGS, method))
        times["scipy+jax"] = t_s
        report_solution(f"logistic {method}", r, rs)
    rows.append((f"logistic {n_samples}x{n_features} {method}", times))

# 2./3. Rosenbrock -------------------------------------------------------------------------------
ros_x, ros_j = rosen(xnp), rosen(jnp) if jax is not None else None
for n in (1_000, 10_000):
    for method in METHODS:
        x0 = np.zeros(n)
        minimize(ros_x, x0, method=method)  # compile
        t_x, r = timed(lambda: minimize(ros_x, x0, method=method), repeat=3)
        times = {"xform": t_x}
        if jax is not None:
            t_s, rs = timed(scipy_jax(ros_j, x0, (), method), repeat=1 if n > 1000 else 3)
            times["scipy+jax"] = t_s
            report_solution(f"rosenbrock n={n} {method}", r, rs)
        rows.append((f"rosenbrock n={n} {method}", times))

if rows:
    print_table("Optimizers (one full run from the starting point; median)", rows)

# 4. compile times --------------------------------------------------------------------------------
# Rosenbrock with n = 2: the run takes microseconds, so the first call is the compile.
# xform's runtime kernels (BLAS/LAPACK wrappers, vector math: compiled once per machine, as
# JAX's runtime is compiled before anyone's program) are compiled first, outside the timing,
# by the same tiny programs as bench_compile.py's template; the optimizers' own kernels are not.
from bench_compile import warm_runtime  # noqa: E402

warm_runtime()
crows = []
for method in ("newton-cg", "trust-ncg", "trust-exact", "bfgs", "lbfgs"):
    f = rosen(xnp)  # a new function: nothing cached
    start = time.process_time()
    minimize(f, np.zeros(2), method=method)
    times = {"xform": time.process_time() - start}
    if twin is not None:
        prog = twin(rosen(jnp), method)
        x0 = jnp.zeros(2)
        start = time.process_time()
        compiled = prog.lower(x0).compile()
        times["jax"] = time.process_time() - start
        compiled(x0)
        # the steady-state run of that JAX program on a larger problem (the dense
        # methods on n = 100)
        n = 100 if method in ("bfgs", "trust-exact") else 1_000
        big = prog.lower(jnp.zeros(n)).compile()
        t_run, out = timed(lambda: jax.block_until_ready(big(jnp.zeros(n))), repeat=3)
        print(f"  jax-jit {method} on rosenbrock n={n}: nit {int(out[2])}, f = "
              f"{float(out[1]):.3g}, run {fmt_time(t_run)}")
    crows.append((f"compile {method}", times))
print_table("Compile time (CPU seconds): first call in a warm process (xform: trace + codegen + "
            "Numba, empty kernel cache; JAX: lower + compile of the same algorithm), Rosenbrock "
            "n=2", crows)
print("\nload average: start {:.2f} {:.2f} {:.2f}, end {:.2f} {:.2f} {:.2f}".format(
    *LOAD0, *os.getloadavg()))

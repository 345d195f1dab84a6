"""Every transformation composes with every other: hypothesis property tests on randomly
generated straight-line programs over ``xform.numpy``.

A program has 1-3 float64 inputs of small shapes and 3-8 operations drawn from
elementwise math (guarded so that every point is smooth: ``b / (1 + b**2)``,
``log(1 + x**2)``, ``exp(tanh(x))``), maximum/minimum with a random offset, ``where``,
keepdims reductions (``max`` over a value plus a strictly increasing ramp, so there are
no ties), broadcasting against a lower-rank operand or a constant, transpose, reshape,
slicing, integer-array indexing, matmul/dot, ``lax.cond`` and ``lax.scan`` (closing over
a traced value). The values nobody consumes are the outputs (``prog.raw``); the scalar
program (``prog``) sums them. ``repr(prog)`` prints the program as Python.

Inputs are standard normal draws from a hypothesis-chosen seed, so kinks (max ties,
``where`` at 0) are hit with probability zero. jit properties compile, so they use few
examples; all tests are derandomized so CI is deterministic.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as xnp
from xform import lax

EAGER = settings(max_examples=200, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
JIT = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- programs ------------------------------------------------------------------------------


def _suffix_of(small, big):
    return len(small) <= len(big) and tuple(big[len(big) - len(small):]) == tuple(small)


class Program:
    """A straight-line program: ``ops`` append values to an environment that starts with
    the inputs; each op is ``(fn(env) -> value, python_source, operand_indices)``."""

    def __init__(self, in_shapes, ops, shapes, consts):
        self.in_shapes, self.ops, self.shapes, self.consts = in_shapes, ops, shapes, consts
        used = {i for _, _, args in ops for i in args}
        self.outs = [i for i in range(len(shapes)) if i not in used]

    def _env(self, args):
        env = list(args)
        for fn, _, _ in self.ops:
            env.append(fn(env))
        return env

    def raw(self, *args):
        env = self._env(args)
        return tuple(env[i] for i in self.outs)

    def __call__(self, *args):
        env = self._env(args)
        total = xnp.sum(env[self.outs[0]])
        for i in self.outs[1:]:
            total = total + xnp.sum(env[i])
        return total

    def __repr__(self):
        names = ", ".join(f"v{i}" for i in range(len(self.in_shapes)))
        shapes = ", ".join(f"v{i}: {s}" for i, s in enumerate(self.in_shapes))
        lines = [f"def f({names}):  # {shapes}"]
        for k, c in enumerate(self.consts):
            lines.append(f"    c{k} = np.array({np.array2string(c, separator=', ', precision=17)})")
        for k, (_, src, _) in enumerate(self.ops):
            i = len(self.in_shapes) + k
            lines.append(f"    v{i} = {src}  # {self.shapes[i]}")
        lines.append("    return " + " + ".join(f"xnp.sum(v{i})" for i in self.outs))
        return "\n".join(lines)


UNARY = {
    "sin": (xnp.sin, "xnp.sin({a})"),
    "cos": (xnp.cos, "xnp.cos({a})"),
    "tanh": (xnp.tanh, "xnp.tanh({a})"),
    "exp_tanh": (lambda a: xnp.exp(xnp.tanh(a)), "xnp.exp(xnp.tanh({a}))"),
    "log1p_sq": (lambda a: xnp.log(1.0 + a ** 2), "xnp.log(1.0 + {a} ** 2)"),
    "sqrt1p_sq": (lambda a: xnp.sqrt(1.0 + a * a), "xnp.sqrt(1.0 + {a} * {a})"),
    "square": (lambda a: a * a, "{a} * {a}"),
}

BINARY = {
    "add": (lambda a, b, o: a + b, "{a} + {b}"),
    "sub": (lambda a, b, o: a - b, "{a} - {b}"),
    "mul": (lambda a, b, o: a * b, "{a} * {b}"),
    "div": (lambda a, b, o: a / (1.0 + b ** 2), "{a} / (1.0 + {b} ** 2)"),
    "rdiv": (lambda a, b, o: b / (1.5 + xnp.sin(a)), "{b} / (1.5 + xnp.sin({a}))"),
    "rsub": (lambda a, b, o: b - a * o, "{b} - {a} * {o}"),
    "maximum": (lambda a, b, o: xnp.maximum(a, b + o), "xnp.maximum({a}, {b} + {o})"),
    "minimum": (lambda a, b, o: xnp.minimum(b - o, a), "xnp.minimum({b} - {o}, {a})"),
    "where": (lambda a, b, o: xnp.where(a > o, a * b, xnp.sin(b) - a),
              "xnp.where({a} > {o}, {a} * {b}, xnp.sin({b}) - {a})"),
}


def _ramp(shape, axis):
    r = np.arange(shape[axis], dtype=np.float64) * 0.01
    return r.reshape([-1 if d == axis else 1 for d in range(len(shape))])


def _cond_fn(p, a, b):
    return lax.cond(xnp.sum(p) > 0.0,
                    lambda u, w: xnp.sin(u) * w,
                    lambda u, w: xnp.cos(u) + w * w,
                    a, b)


def _scan_fn(a, c, reverse=False):
    def body(carry, x):
        new = xnp.tanh(carry * c + x)
        return new, carry * x + c
    carry, ys = lax.scan(body, a[0] * 0.5, a, reverse=reverse)
    return ys + carry


def _inner_jit(a, b):
    return xform.jit(lambda u, w: xnp.sin(u) * w + u)(a, b)


def _inner_grad(a, b):
    # a nested derivative: d/du sum(sin(u) * w + u**3 / 3) = cos(u) * w + u**2
    return xform.grad(lambda u, w: xnp.sum(xnp.sin(u) * w + u ** 3 / 3.0))(a, b)


def _inner_vmap(a, b):
    # rows of a, b broadcast (b is a suffix of a's shape, so b's rank is at most a's)
    if b.ndim == a.ndim:
        return xform.vmap(lambda r, q: xnp.tanh(r) * q)(a, b)
    return xform.vmap(lambda r, q: xnp.tanh(r) * q, in_axes=(0, None))(a, b)


def _cond_closure(p, a, c):
    # branches close over a traced value ``c`` instead of taking it as an operand
    return lax.cond(xnp.sum(p) < 0.0, lambda u: u * c, lambda u: xnp.sin(u + c), a)


NESTED = {
    "jit": (_inner_jit, "xform.jit(lambda u, w: xnp.sin(u) * w + u)({a}, {b})"),
    "grad": (_inner_grad, "xform.grad(lambda u, w: xnp.sum(xnp.sin(u) * w + u ** 3 / 3.0))({a}, {b})"),
    "vmap": (_inner_vmap, "xform.vmap(lambda r, q: xnp.tanh(r) * q, in_axes=(0, 0 or None))({a}, {b})"),
}


@st.composite
def programs(draw, min_ops=3, max_ops=8, nested_jit=False, kinds=None):
    d1 = draw(st.sampled_from([2, 3]))
    d2 = draw(st.sampled_from([3, 4]))
    shape_pool = [(), (d1,), (d2,), (d1, d2), (d2, d1)]
    n_in = draw(st.integers(1, 3))
    in_shapes = [draw(st.sampled_from(shape_pool)) for _ in range(n_in)]
    crng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    shapes = list(in_shapes)
    ops, consts = [], []
    n_ops = draw(st.integers(min_ops, max_ops))

    def name(i):
        return f"v{i}"

    def pick(cands):
        return draw(st.sampled_from(sorted(cands)))

    kinds = list(kinds) if kinds else [
        "unary", "binary", "binary", "reduce", "transpose", "reshape", "slice", "gather",
        "matmul", "cond", "scan", "nested", "index", "concat"]
    while len(ops) < n_ops:
        kind = draw(st.sampled_from(kinds))
        n = len(shapes)
        # prefer recent values so programs are deep rather than wide
        i = draw(st.one_of(st.just(n - 1), st.integers(0, n - 1)))
        sa = shapes[i]
        if kind == "unary":
            u = draw(st.sampled_from(sorted(UNARY)))
            fn, src = UNARY[u]
            ops.append((lambda env, fn=fn, i=i: fn(env[i]), src.format(a=name(i)), (i,)))
            shapes.append(sa)
        elif kind == "binary":
            b_name = draw(st.sampled_from(sorted(BINARY)))
            fn, src = BINARY[b_name]
            off = float(draw(st.sampled_from([0.125, 0.25, 0.375, 0.625])))
            cands = [j for j in range(n) if _suffix_of(shapes[j], sa)]
            if draw(st.integers(0, 4)) == 0:  # a constant operand of a suffix shape
                k = draw(st.integers(0, len(sa)))
                c = crng.standard_normal(sa[len(sa) - k:])
                consts.append(c)
                ci, cname = len(consts) - 1, f"c{len(consts) - 1}"
                ops.append((lambda env, fn=fn, i=i, c=c, o=off: fn(env[i], c, o),
                            src.format(a=name(i), b=cname, o=off), (i,)))
                del ci
            else:
                j = pick(cands)
                ops.append((lambda env, fn=fn, i=i, j=j, o=off: fn(env[i], env[j], o),
                            src.format(a=name(i), b=name(j), o=off), (i, j)))
            shapes.append(sa)
        elif kind == "reduce":
            if not sa:
                continue
            ax = draw(st.integers(0, len(sa) - 1))
            red = draw(st.sampled_from(["sum", "mean", "max"]))
            keep = draw(st.sampled_from([True, True, False]))
            out = tuple(1 if d == ax else s for d, s in enumerate(sa)) if keep else sa[:ax] + sa[ax + 1:]
            axp = ax - len(sa) if draw(st.booleans()) else ax  # negative axes too
            if red == "max":
                r = _ramp(sa, ax)
                ops.append((lambda env, i=i, axp=axp, r=r, keep=keep:
                            xnp.max(env[i] + r, axis=axp, keepdims=keep),
                            f"xnp.max({name(i)} + 0.01 * ramp{sa}[axis {ax}], axis={axp}, keepdims={keep})",
                            (i,)))
            else:
                f_red = getattr(xnp, red)
                ops.append((lambda env, i=i, axp=axp, f_red=f_red, keep=keep:
                            f_red(env[i], axis=axp, keepdims=keep),
                            f"xnp.{red}({name(i)}, axis={axp}, keepdims={keep})", (i,)))
            shapes.append(out)
        elif kind == "index":
            if not sa:
                continue
            k = draw(st.integers(-sa[0], sa[0] - 1))
            ops.append((lambda env, i=i, k=k: env[i][k], f"{name(i)}[{k}]", (i,)))
            shapes.append(sa[1:])
        elif kind == "concat":
            cands = [j for j in range(n) if len(shapes[j]) == len(sa) and shapes[j][1:] == sa[1:]]
            if not sa or not cands:
                continue
            j = pick(cands)
            ops.append((lambda env, i=i, j=j: xnp.concatenate([env[i], xnp.cos(env[j])]),
                        f"xnp.concatenate([{name(i)}, xnp.cos({name(j)})])", (i, j)))
            shapes.append((sa[0] + shapes[j][0],) + sa[1:])
        elif kind == "transpose":
            if len(sa) != 2:
                continue
            if draw(st.booleans()):
                ops.append((lambda env, i=i: xnp.transpose(env[i]), f"xnp.transpose({name(i)})", (i,)))
            else:
                ops.append((lambda env, i=i: env[i].T, f"{name(i)}.T", (i,)))
            shapes.append(sa[::-1])
        elif kind == "reshape":
            if not sa:
                continue
            if len(sa) == 2:
                out = draw(st.sampled_from([(sa[0] * sa[1],), (sa[1], sa[0])]))
            else:
                out = draw(st.sampled_from([(sa[0], 1), (1, sa[0])]))
            ops.append((lambda env, i=i, out=out: xnp.reshape(env[i], out),
                        f"xnp.reshape({name(i)}, {out})", (i,)))
            shapes.append(out)
        elif kind == "slice":
            if not sa or sa[0] < 2:
                continue
            ops.append((lambda env, i=i: env[i][1:], f"{name(i)}[1:]", (i,)))
            shapes.append((sa[0] - 1,) + sa[1:])
        elif kind == "gather":
            if not sa:
                continue
            k = draw(st.integers(1, 4))
            idx = np.array(draw(st.lists(st.integers(0, sa[0] - 1), min_size=k, max_size=k)),
                           dtype=np.int64)
            ops.append((lambda env, i=i, idx=idx: env[i][idx], f"{name(i)}[np.array({idx.tolist()})]",
                        (i,)))
            shapes.append((k,) + sa[1:])
        elif kind == "matmul":
            if len(sa) not in (1, 2):
                continue
            cands = [j for j in range(n) if len(shapes[j]) in (1, 2) and shapes[j][0] == sa[-1]]
            if not cands:
                continue
            j = pick(cands)
            out = np.zeros(sa) @ np.zeros(shapes[j])
            out = np.shape(out)
            if draw(st.booleans()):
                ops.append((lambda env, i=i, j=j: env[i] @ env[j], f"{name(i)} @ {name(j)}", (i, j)))
            else:
                ops.append((lambda env, i=i, j=j: xnp.dot(env[i], env[j]),
                            f"xnp.dot({name(i)}, {name(j)})", (i, j)))
            shapes.append(out)
        elif kind == "cond":
            j = pick([j for j in range(n) if _suffix_of(shapes[j], sa)])
            p = draw(st.integers(0, n - 1))
            if draw(st.booleans()):
                ops.append((lambda env, i=i, j=j, p=p: _cond_closure(env[p], env[i], env[j]),
                            f"lax.cond(xnp.sum({name(p)}) < 0, lambda u: u * {name(j)}, "
                            f"lambda u: xnp.sin(u + {name(j)}), {name(i)})", (p, i, j)))
                shapes.append(sa)
                continue
            ops.append((lambda env, i=i, j=j, p=p: _cond_fn(env[p], env[i], env[j]),
                        f"lax.cond(xnp.sum({name(p)}) > 0, lambda u, w: xnp.sin(u) * w, "
                        f"lambda u, w: xnp.cos(u) + w * w, {name(i)}, {name(j)})", (p, i, j)))
            shapes.append(sa)
        elif kind == "scan":
            if not sa:
                continue
            cands = [j for j in range(n) if _suffix_of(shapes[j], sa[1:])]
            j = pick(cands) if cands else None
            if j is None:
                continue
            rev = draw(st.booleans())
            ops.append((lambda env, i=i, j=j, rev=rev: _scan_fn(env[i], env[j], rev),
                        f"scan_op({name(i)}, {name(j)})  # carry, ys = lax.scan(lambda k, x: "
                        f"(tanh(k * {name(j)} + x), k * x + {name(j)}), {name(i)}[0] * 0.5, {name(i)}, "
                        f"reverse={rev}); ys + carry", (i, j)))
            shapes.append(sa)
        elif kind == "nested":
            which = draw(st.sampled_from(sorted(NESTED) if nested_jit else ["grad", "vmap"]))
            if which == "vmap" and not sa:
                continue
            j = pick([j for j in range(n) if _suffix_of(shapes[j], sa)])
            fn, src = NESTED[which]
            ops.append((lambda env, fn=fn, i=i, j=j: fn(env[i], env[j]),
                        src.format(a=name(i), b=name(j)), (i, j)))
            shapes.append(sa)
    return Program(in_shapes, ops, shapes, consts)


@st.composite
def programs_and_inputs(draw, min_ops=3, max_ops=8, nested_jit=False):
    """A program and inputs; ``nested_jit`` allows a jitted call inside the program
    (each such call compiles, so only the jit tests, which compile anyway, use it)."""
    prog = draw(programs(min_ops, max_ops, nested_jit))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    args = tuple(np.asarray(rng.standard_normal(s)) for s in prog.in_shapes)
    return prog, args, rng


# -- helpers -------------------------------------------------------------------------------


def assert_close(got, want, rtol=1e-9, what=""):
    got_l, want_l = xform.tree_util.tree_flatten(got)[0], xform.tree_util.tree_flatten(want)[0]
    assert len(got_l) == len(want_l), what
    for g, w in zip(got_l, want_l):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=what)


def all_argnums(args):
    return tuple(range(len(args)))


def flat_version(prog, args):
    """A function of one flat vector equivalent to ``prog(*args)`` (slices + reshapes)."""
    sizes = [int(np.size(a)) for a in args]
    offs = np.cumsum([0] + sizes)
    shapes = [np.shape(a) for a in args]

    def g(v):
        parts = [xnp.reshape(v[offs[k]:offs[k + 1]], shapes[k]) for k in range(len(args))]
        return prog(*parts)

    flat = np.concatenate([np.ravel(a) for a in args])
    return g, flat


# -- properties ----------------------------------------------------------------------------


@EAGER
@given(programs_and_inputs())
def test_make_jaxpr_avals_match_eager(case):
    prog, args, _ = case
    eager = prog.raw(*args)
    closed = xform.make_jaxpr(prog.raw)(*args)
    assert len(closed.out_avals) == len(eager), repr(prog)
    for aval, val in zip(closed.out_avals, eager):
        assert tuple(aval.shape) == np.shape(val), repr(prog)
        assert aval.dtype == np.asarray(val).dtype == np.float64, repr(prog)
    out = xform.make_jaxpr(prog)(*args).out_avals
    assert len(out) == 1 and tuple(out[0].shape) == () and out[0].dtype == np.float64


@EAGER
@given(programs_and_inputs())
def test_grad_matches_finite_differences(case):
    prog, args, _ = case
    xform.check_grads(prog, args, order=1, modes=("fwd", "rev"))


@EAGER
@given(programs_and_inputs())
def test_vmap_matches_loop(case):
    """vmap over a batch axis at a random position of each input (or None), with the
    batch put at a random position of each output, against a Python loop."""
    prog, args, rng = case
    batch = 3
    # the last input is always batched, the others are batched or broadcast (None)
    axes = tuple(None if k < len(args) - 1 and rng.integers(0, 3) == 0
                 else int(rng.integers(0, np.ndim(a) + 1)) for k, a in enumerate(args))
    bargs = tuple(
        a if ax is None else np.moveaxis(
            np.stack([rng.standard_normal(np.shape(a)) for _ in range(batch)]), 0, ax)
        for a, ax in zip(args, axes))
    n_out = len(prog.outs)
    out_shapes = [prog.shapes[i] for i in prog.outs]
    out_axes = tuple(int(rng.integers(0, len(s) + 1)) for s in out_shapes)

    def loop(f):
        outs = [f(*[a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(bargs, axes)])
                for b in range(batch)]
        return xform.tree_util.tree_map(lambda *xs: np.stack(xs), *outs)

    what = f"vmap(in_axes={axes}, out_axes={out_axes})\n{prog!r}"
    want = tuple(np.moveaxis(w, 0, ax) for w, ax in zip(loop(prog.raw), out_axes))
    got = xform.vmap(prog.raw, in_axes=axes, out_axes=out_axes)(*bargs)
    assert len(got) == n_out
    assert_close(got, want, what=what)
    g = xform.grad(prog, argnums=all_argnums(args))
    assert_close(xform.vmap(g, in_axes=axes)(*bargs), loop(g), what="vmap(grad) " + what)


@EAGER
@given(programs_and_inputs(max_ops=6))
def test_hvp_matches_hessian(case):
    prog, args, rng = case
    g, flat = flat_version(prog, args)
    v = rng.standard_normal(flat.shape)
    what = repr(prog)
    hvp = xform.jvp(xform.grad(g), (flat,), (v,))[1]
    hess = xform.hessian(g)(flat)
    assert hess.shape == (flat.size, flat.size)
    assert_close(hvp, hess @ v, what="jvp(grad) vs hessian @ v\n" + what)
    assert_close(xform.hvp(g, (flat,), (v,)), hess @ v, what="hvp vs hessian @ v\n" + what)
    assert_close(xform.jacfwd(xform.jacrev(g))(flat) @ v, hess @ v, what="jacfwd(jacrev)\n" + what)
    assert_close(xform.jacrev(xform.jacfwd(g))(flat), hess, what="jacrev(jacfwd)\n" + what)
    assert_close(hess, hess.T, what="hessian symmetric\n" + what)


def _dot(xs, ys):
    xs, ys = xform.tree_util.tree_flatten(xs)[0], xform.tree_util.tree_flatten(ys)[0]
    return sum(float(np.sum(np.asarray(x) * np.asarray(y))) for x, y in zip(xs, ys))


@EAGER
@given(programs_and_inputs())
def test_jvp_linearize_vjp_agree(case):
    """On the non-scalar outputs: jvp == linearize, and vjp is their transpose,
    <ct, J t> == <J^T ct, t>; grad(checkpoint(f)) == grad(f)."""
    prog, args, rng = case
    what = repr(prog)
    ts = tuple(rng.standard_normal(np.shape(a)) for a in args)
    out, jt = xform.jvp(prog.raw, args, ts)
    assert_close(out, prog.raw(*args), what="jvp primal\n" + what)
    out_l, f_jvp = xform.linearize(prog.raw, *args)
    assert_close(f_jvp(*ts), jt, what="linearize vs jvp\n" + what)
    out_v, f_vjp = xform.vjp(prog.raw, *args)
    cts = tuple(rng.standard_normal(np.shape(o)) for o in out_v)
    jct = f_vjp(cts)
    lhs, rhs = _dot(cts, jt), _dot(jct, ts)
    scale = 1.0 + sum(np.sum(np.abs(np.asarray(c))) for c in jct)
    assert abs(lhs - rhs) <= 1e-9 * scale, f"<ct, J t> = {lhs} != <J^T ct, t> = {rhs}\n{what}"
    argnums = all_argnums(args)
    assert_close(xform.grad(xform.checkpoint(prog), argnums=argnums)(*args),
                 xform.grad(prog, argnums=argnums)(*args), what="grad(checkpoint)\n" + what)


@settings(JIT, max_examples=6)
@given(programs_and_inputs(max_ops=6, nested_jit=True))
def test_jit_hvp_matches_eager(case):
    """Second order under jit: jit(jvp(grad)) and grad(jit(grad)) (a different
    route to a second derivative) against eager hvp."""
    prog, args, rng = case
    g, flat = flat_version(prog, args)
    v = rng.standard_normal(flat.shape)
    want = xform.hvp(g, (flat,), (v,))
    what = repr(prog)
    got = xform.jit(lambda x, t: xform.jvp(xform.grad(g), (x,), (t,))[1])(flat, v)
    assert_close(got, want, what="jit(jvp(grad))\n" + what)
    got = xform.grad(lambda x: xnp.sum(xform.jit(xform.grad(g))(x) * v))(flat)
    assert_close(got, want, what="grad(jit(grad) . v)\n" + what)


@JIT
@given(programs_and_inputs(nested_jit=True))
def test_jit_matches_eager(case):
    prog, args, _ = case
    what = repr(prog)
    assert_close(xform.jit(prog.raw)(*args), prog.raw(*args), what="jit(raw)\n" + what)
    assert_close(xform.jit(prog)(*args), prog(*args), what="jit\n" + what)


@JIT
@given(programs_and_inputs(nested_jit=True))
def test_grad_jit_commute(case):
    prog, args, _ = case
    what = repr(prog)
    argnums = all_argnums(args)
    want = xform.grad(prog, argnums=argnums)(*args)
    assert_close(xform.grad(xform.jit(prog), argnums=argnums)(*args), want, what="grad(jit)\n" + what)
    assert_close(xform.jit(xform.grad(prog, argnums=argnums))(*args), want, what="jit(grad)\n" + what)


@JIT
@given(programs_and_inputs(nested_jit=True))
def test_jit_vmap_grad_matches_loop(case):
    prog, args, rng = case
    batch = 3
    bargs = tuple(np.stack([rng.standard_normal(np.shape(a)) for _ in range(batch)]) for a in args)
    g = xform.grad(prog, argnums=all_argnums(args))
    want = [g(*[a[b] for a in bargs]) for b in range(batch)]
    want = xform.tree_util.tree_map(lambda *xs: np.stack(xs), *want)
    assert_close(xform.jit(xform.vmap(g))(*bargs), want, what="jit(vmap(grad))\n" + repr(prog))


# -- extreme magnitudes --------------------------------------------------------------------

# Inputs mixing normal draws with subnormals, the edges of the range, magnitudes whose
# squares leave it, +-0, +-inf and nan; programs of elementwise and structural operations
# only, for which numpy defines each result (reductions and products would depend on the
# summation order). Eager evaluation must give numpy's result bit for bit; jit too when
# every operation is a correctly rounded IEEE one (no transcendental function: jit has
# its own vectorizable ones), otherwise within 1e-12 with the same zeros (sign included),
# infinities and nans; jit(grad) agrees with eager grad the same way.
EXTREMES = np.array([0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-154,
                     1.5e154, 1e200, 1e300, 1.7976931348623157e308, np.inf, np.nan])
ELEMENTWISE_KINDS = ["unary", "binary", "binary", "transpose", "reshape", "slice", "gather",
                     "index", "concat"]
_TRANSCENDENTAL = ("sin(", "cos(", "tanh(", "exp(", "log(")


@st.composite
def programs_and_extremes(draw):
    prog = draw(programs(2, 6, kinds=ELEMENTWISE_KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    p_extreme = draw(st.sampled_from([0.3, 0.6, 1.0]))

    def draw_array(shape):
        ext = rng.choice(EXTREMES, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        return np.asarray(np.where(rng.random(shape) < p_extreme, ext, rng.standard_normal(shape)))

    exact = not any(t in src for _, src, _ in prog.ops for t in _TRANSCENDENTAL)
    return prog, tuple(draw_array(s) for s in prog.in_shapes), exact


def numpy_reference(prog, args):
    """The program evaluated by numpy: its printed source with ``xnp`` bound to numpy."""
    env = {"np": np, "xnp": np, **{f"c{k}": c for k, c in enumerate(prog.consts)},
           **{f"v{k}": a for k, a in enumerate(args)}}
    for k, (_, src, _) in enumerate(prog.ops):
        exec(f"v{len(args) + k} = {src}", env)
    return tuple(np.asarray(env[f"v{i}"]) for i in prog.outs)


def assert_agree(got, want, exact, what):
    for g, w in zip(xform.tree_util.tree_flatten(got)[0], xform.tree_util.tree_flatten(want)[0]):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, what
        same = ((g == w) & (np.signbit(g) == np.signbit(w))) | (np.isnan(g) & np.isnan(w))
        if not exact:
            special = ~np.isfinite(w) | (w == 0)
            with np.errstate(all="ignore"):
                near = np.abs(g - w) <= 1e-12 * np.abs(w)
            same |= ~special & np.isfinite(g) & near
        if not same.all():
            k = np.flatnonzero(~same.ravel())[:5]
            raise AssertionError(f"{what}: got {g.ravel()[k].tolist()}, want "
                                 f"{w.ravel()[k].tolist()} (exact={exact})")


@settings(JIT, max_examples=6)
@given(programs_and_extremes())
def test_extreme_magnitudes_eager_jit_grad_numpy_agree(case):
    prog, args, exact = case
    what = f"{repr(prog)}\ninputs: {[a.tolist() for a in args]}"
    argnums = all_argnums(args)
    with np.errstate(all="ignore"):
        want = numpy_reference(prog, args)
        eager = prog.raw(*args)
        g_eager = xform.grad(prog, argnums=argnums)(*args)
        got, g_jit = xform.jit(lambda *a: (prog.raw(*a), xform.grad(prog, argnums=argnums)(*a)))(*args)
    assert_agree(eager, want, True, "eager vs numpy\n" + what)
    assert_agree(got, want, exact, "jit vs numpy\n" + what)
    assert_agree(g_jit, g_eager, exact, "jit(grad) vs grad\n" + what)

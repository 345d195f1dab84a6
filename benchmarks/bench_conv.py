"""Convolution and pooling under jit: xform vs JAX (jit, CPU) and a numpy floor.

Run: ``python benchmarks/bench_conv.py`` (``--quick`` for fewer repetitions). float32,
VGG-like shapes (3x3 kernels, stride 1 and 2), both common layouts; forward, input and
kernel gradients (each a jitted vjp), max and average pooling forward and backward, and
the compile time of a jitted three-layer conv + pool loss and of its gradient (a new
kernel each: only the small generated code is compiled, the convolution kernels come
from the disk cache), at two image sizes.

The numpy floor is an im2col (``sliding_window_view``) contracted by ``tensordot``
(BLAS), and pooling by a reduction over a window view.

The style-transfer rows time the loss of ``examples/style_transfer.py`` (its default
network: 4 conv 3x3 + relu layers, 64-128-128-256 channels, 2x2 average pooling; Gram
matrices of every layer, content features of the third, total variation) and its value
and gradient with respect to the image, at 128x128 and 256x256, against the same network
and loss written with ``jax.numpy``/``jax.lax`` (the two are checked to agree first); and
the compile time of the example's whole jitted Adam step (loss, gradient, update) against
the same step under ``jax.jit``, wall and CPU seconds (CPU: ``time.process_time``, all
threads; less sensitive to other jobs on the machine). ``--style`` runs only those rows.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import print_table, t  # noqa: E402

import xform  # noqa: E402
from xform import lax  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)

# (N, C, H=W, O, stride)
CONV_SHAPES = [(1, 3, 128, 64, 1), (8, 64, 32, 64, 1), (8, 128, 32, 128, 1), (4, 64, 64, 128, 2),
               (1, 256, 32, 256, 1), (8, 256, 16, 256, 1)]
LAYOUTS = {"NHWC": ("NHWC", "HWIO", "NHWC"), "NCHW": ("NCHW", "OIHW", "NCHW")}


def _load_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_platforms", "cpu")
    return jax, jnp


def _arrays(N, C, H, n_out, layout):
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((n_out, C, 3, 3)) / np.sqrt(9 * C)).astype(np.float32)
    if layout == "NHWC":
        x, w = np.ascontiguousarray(x.transpose(0, 2, 3, 1)), np.ascontiguousarray(w.transpose(2, 3, 1, 0))
    return x, w


def numpy_conv_nhwc(x, w, s):
    """im2col by a window view of the padded input, then one tensordot (BLAS)."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    v = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))[:, ::s, ::s]
    return np.tensordot(v, w, axes=([3, 4, 5], [2, 0, 1]))


def conv_rows(jax):
    rows = []
    for (N, C, H, n_out, s) in CONV_SHAPES:
        for lay, dn in LAYOUTS.items():
            x, w = _arrays(N, C, H, n_out, lay)

            def fwd(x, w, dn=dn, s=s):
                return lax.conv_general_dilated(x, w, (s, s), "SAME", dimension_numbers=dn)

            y = fwd(x, w)
            g = rng.standard_normal(y.shape).astype(np.float32)
            xf = xform.jit(fwd)
            xdx = xform.jit(lambda x, w, g, f=fwd: xform.vjp(lambda x: f(x, w), x)[1](g)[0])
            xdw = xform.jit(lambda x, w, g, f=fwd: xform.vjp(lambda w: f(x, w), w)[1](g)[0])
            times = {"fwd": {"xform": t(lambda: xf(x, w))},
                     "d input": {"xform": t(lambda: xdx(x, w, g))},
                     "d kernel": {"xform": t(lambda: xdw(x, w, g))}}
            if jax is not None:
                def jfwd(x, w, dn=dn, s=s):
                    return jax.lax.conv_general_dilated(x, w, (s, s), "SAME", dimension_numbers=dn)

                jf = jax.jit(jfwd)
                jdx = jax.jit(lambda x, w, g, f=jfwd: jax.vjp(lambda x: f(x, w), x)[1](g)[0])
                jdw = jax.jit(lambda x, w, g, f=jfwd: jax.vjp(lambda w: f(x, w), w)[1](g)[0])
                times["fwd"]["jax"] = t(lambda: jax.block_until_ready(jf(x, w)))
                times["d input"]["jax"] = t(lambda: jax.block_until_ready(jdx(x, w, g)))
                times["d kernel"]["jax"] = t(lambda: jax.block_until_ready(jdw(x, w, g)))
            if lay == "NHWC":
                times["fwd"]["numpy"] = t(lambda: numpy_conv_nhwc(x, w, s))
            for what, tt in times.items():
                rows.append((f"{what} {lay} N{N} C{C} {H}x{H} O{n_out} s{s}", tt))
    return rows


def pool_rows(jax):
    rows = []
    x = rng.standard_normal((8, 64, 64, 64)).astype(np.float32)  # NHWC
    cases = [("max 2x2/2", -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
             ("max 3x3/2 SAME", -np.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
             ("avg 3x3/2 SAME", 0.0, lax.add, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")]
    for name, init, op, wd, ws, pad in cases:
        scale = 1.0 if op is lax.max else 1.0 / 9

        def fwd(x, init=init, op=op, wd=wd, ws=ws, pad=pad, scale=scale):
            return lax.reduce_window(x, init, op, wd, ws, pad) * scale

        y = fwd(x)
        g = rng.standard_normal(y.shape).astype(np.float32)
        xf = xform.jit(fwd)
        xb = xform.jit(lambda x, g, f=fwd: xform.vjp(f, x)[1](g)[0])
        tf = {"xform": t(lambda: xf(x))}
        tb = {"xform": t(lambda: xb(x, g))}
        if jax is not None:
            jop = jax.lax.max if op is lax.max else jax.lax.add

            def jfwd(x, init=init, jop=jop, wd=wd, ws=ws, pad=pad, scale=scale):
                return jax.lax.reduce_window(x, np.float32(init), jop, wd, ws, pad) * scale

            jf = jax.jit(jfwd)
            jb = jax.jit(lambda x, g, f=jfwd: jax.vjp(f, x)[1](g)[0])
            tf["jax"] = t(lambda: jax.block_until_ready(jf(x)))
            tb["jax"] = t(lambda: jax.block_until_ready(jb(x, g)))
        if op is lax.max and pad == "VALID":
            tf["numpy"] = t(lambda: x.reshape(8, 32, 2, 32, 2, 64).max(axis=(2, 4)))
        rows.append((f"pool fwd {name} NHWC 8x64x64x64", tf))
        rows.append((f"pool bwd {name} NHWC 8x64x64x64", tb))
    return rows


def three_layer_loss(params, x):
    """conv-relu-maxpool three times, then a squared-sum loss (NHWC)."""
    dn = ("NHWC", "HWIO", "NHWC")
    for w in params:
        x = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn)
        x = lax.max(x, np.float32(0))
        x = lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return (x * x).sum()


def compile_rows(jax):
    rows = []
    chans = [3, 16, 32, 32]
    params = [(rng.standard_normal((3, 3, a, b)) * 0.1).astype(np.float32)
              for a, b in zip(chans[:-1], chans[1:])]
    for size in (128, 256):
        x = rng.standard_normal((1, size, size, 3)).astype(np.float32)
        times = {}
        for name, f in (("loss", three_layer_loss), ("grad", xform.grad(three_layer_loss))):
            # a cold compile of the generated kernel: the disk cache is off while it
            # compiles (the convolution kernels are loaded already: they are compiled once
            # per machine and do not depend on the program)
            os.environ["XFORM_DISABLE_DISK_CACHE"] = "1"
            try:
                t0 = time.perf_counter()
                xform.jit(lambda p, x, f=f: f(p, x))(params, x)
                times[name] = time.perf_counter() - t0
            finally:
                del os.environ["XFORM_DISABLE_DISK_CACHE"]
        row_x = {"xform": times["loss"]}
        row_g = {"xform": times["grad"]}
        if jax is not None:
            def jloss(params, x):
                dn = ("NHWC", "HWIO", "NHWC")
                for w in params:
                    x = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn)
                    x = jax.numpy.maximum(x, 0)
                    x = jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
                return (x * x).sum()

            for row, f in ((row_x, jloss), (row_g, jax.grad(jloss))):
                t0 = time.perf_counter()
                jax.block_until_ready(jax.jit(f)(params, x))
                row["jax"] = time.perf_counter() - t0
        rows.append((f"compile+1st call 3-layer loss {size}x{size}", row_x))
        rows.append((f"compile+1st call 3-layer grad {size}x{size}", row_g))
        # and the steady state
        jl = xform.jit(xform.grad(three_layer_loss))
        steady = {"xform": t(lambda: jl(params, x))}
        if jax is not None:
            jg = jax.jit(jax.grad(jloss))
            steady["jax"] = t(lambda: jax.block_until_ready(jg(params, x)))
        rows.append((f"3-layer grad {size}x{size} (run)", steady))
    return rows


# -- the style-transfer loss (examples/style_transfer.py) -----------------------------------------


def _jax_style(jax, st, spec):
    """The example's loss and Adam step written with jax.numpy / jax.lax (the same
    formulas: examples/style_transfer.py)."""
    jnp, jlax = jax.numpy, jax.lax
    last = max(max(spec.style_layers), spec.content_layer)

    def features(params, img):
        x = (img[None] - params["mean"]) / params["std"]
        out = []
        for i in range(last + 1):
            x = jlax.conv_general_dilated(x, params[f"layer{i}_w"], (1, 1), "SAME",
                                          dimension_numbers=st.DIMENSION_NUMBERS)
            x = jax.nn.relu(x + params[f"layer{i}_b"])
            out.append(x)
            if i in spec.pool_after and i < last:
                x = jlax.reduce_window(x, 0.0, jlax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") * 0.25
        return out

    def gram(f):
        _, h, w, c = f.shape
        f = f.reshape(h * w, c)
        return f.T @ f / (h * w)

    def loss(img, params, targets, weights):
        fs = features(params, img)
        terms = [jnp.sum((gram(fs[i]) - a) ** 2) / a2
                 for i, (a, a2) in zip(spec.style_layers, targets["style"])]
        s = sum(terms) / len(terms)
        p, p2 = targets["content"]
        c = jnp.sum((fs[spec.content_layer] - p) ** 2) / p2
        t = jnp.mean((img[1:] - img[:-1]) ** 2) + jnp.mean((img[:, 1:] - img[:, :-1]) ** 2)
        return weights[0] * s + weights[1] * c + weights[2] * t, (s, c, t)

    def step(img, state, t, lr, params, targets, weights):
        b1, b2, eps = 0.9, 0.999, 1e-8
        (value, parts), g = jax.value_and_grad(loss, has_aux=True)(img, params, targets, weights)
        m, v = state
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        img = img - lr * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps)
        return jnp.clip(img, 0.0, 1.0), (m, v), value, parts

    return loss, step


def _first_call(fn):
    """(wall, cpu) seconds of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def style_rows(jax):
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    import style_transfer as st

    spec, params = st.default_spec(), st.init_params(0)  # float32
    d = st.DEFAULTS
    weights = np.array([d["style_weight"], d["content_weight"], d["tv_weight"]], np.float32)
    run_rows, compile_rows = [], []
    for size in (128, 256):
        content = st.procedural_content(size).astype(np.float32)
        style = st.procedural_style(size).astype(np.float32)
        img = np.clip(content + 0.1 * rng.standard_normal(content.shape), 0, 1).astype(np.float32)
        targets = st.make_targets(spec, params, content, style)
        loss = st.make_loss(spec)
        total = lambda *a, loss=loss: loss(*a)[0]
        xl = xform.jit(total)
        xg = xform.jit(xform.value_and_grad(total))
        args = (img, params, targets, weights)
        fwd = {"xform": t(lambda: xl(*args))}
        vg = {"xform": t(lambda: xg(*args))}
        state = (np.zeros_like(img), np.zeros_like(img))
        step_args = (img, state, np.float32(1), np.float32(d["lr"]), params, targets, weights)
        # a cold compile of the generated kernel (disk cache off while it compiles; the
        # convolution kernels were loaded above: they do not depend on the program)
        os.environ["XFORM_DISABLE_DISK_CACHE"] = "1"
        try:
            cw, cc = _first_call(lambda: st.make_adam_step(st.make_loss(spec))(*step_args))
        finally:
            del os.environ["XFORM_DISABLE_DISK_CACHE"]
        cwall, ccpu = {"xform": cw}, {"xform": cc}
        if jax is not None:
            jloss, jstep = _jax_style(jax, st, spec)
            jtotal = lambda *a: jloss(*a)[0]
            jl, jg = jax.jit(jtotal), jax.jit(jax.value_and_grad(jtotal))
            # the two implementations compute the same numbers (float32)
            (xv, xgr), (jv, jgr) = xg(*args), jg(*args)
            np.testing.assert_allclose(float(xv), float(jv), rtol=2e-3)
            # (in norm: a few pixels differ more where a relu input is within rounding of 0)
            xgr, jgr = np.asarray(xgr, np.float64), np.asarray(jgr, np.float64)
            assert np.linalg.norm(xgr - jgr) <= 1e-3 * np.linalg.norm(jgr), "gradients differ"
            fwd["jax"] = t(lambda: jax.block_until_ready(jl(*args)))
            vg["jax"] = t(lambda: jax.block_until_ready(jg(*args)))
            cwall["jax"], ccpu["jax"] = _first_call(
                lambda: jax.block_until_ready(jax.jit(jstep)(*step_args)))
        run_rows.append((f"style loss {size}x{size}", fwd))
        run_rows.append((f"style loss + grad {size}x{size}", vg))
        compile_rows.append((f"Adam step {size}x{size}: wall", cwall))
        compile_rows.append((f"Adam step {size}x{size}: CPU", ccpu))
    return run_rows, compile_rows


def main() -> None:
    jax, _ = _load_jax()
    print(f"cores: {os.cpu_count()}, threads: numba {__import__('numba').get_num_threads()}, "
          f"JAX {'not installed' if jax is None else jax.__version__}; float32; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # warm the convolution kernels (compiled once per machine, then loaded from the disk cache)
    xform.jit(lambda x, w: lax.conv(x, w, (1, 1), "SAME"))(np.ones((1, 1, 3, 3), np.float32),
                                                           np.ones((1, 1, 3, 3), np.float32))
    if "--style" not in sys.argv:
        print_table("Convolution (3x3 kernels, SAME; jitted forward and vjp)", conv_rows(jax))
        print_table("Pooling (jitted forward and vjp)", pool_rows(jax))
        print_table("Three-layer conv+relu+maxpool loss: compile time and run time", compile_rows(jax))
    run_rows, step_rows = style_rows(jax)
    print_table("Style-transfer loss (examples/style_transfer.py), jitted, and its value and gradient",
                run_rows)
    print_table("Style-transfer Adam step: compile + first call (cold kernel)", step_rows)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

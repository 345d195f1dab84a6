"""examples/style_transfer.py: the loss against a numpy reference, its gradient against
central finite differences (float64), the optimization lowers the style loss, and the
command line writes its pictures (needs the ``examples`` extra: Pillow, matplotlib,
tqdm; skipped without it).

One small network (3 conv layers, 32x32 images, float32) is shared by the optimization
and the command-line tests, so the file compiles one Adam step; the numeric tests run
eagerly (no compilation)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import xform

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import style_transfer as st  # noqa: E402

SMALL = (3, 16, 32, 32)  # channels of the test network: 3 conv layers, 2 poolings
SIZE = 32


# -- an independent numpy implementation of the loss ---------------------------------------------


def np_conv_same(x, w):
    """3x3 "SAME" convolution of an (H, W, C) image with an HWIO kernel: im2col by a window
    view of the zero-padded input, contracted with the kernel (tensordot)."""
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    v = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))  # H, W, C, kh, kw
    return np.tensordot(v, w, axes=([3, 4, 2], [0, 1, 2]))


def np_features(params, spec, img):
    x = (img - params["mean"]) / params["std"]
    out = []
    for i in range(spec.n_layers):
        x = np.maximum(np_conv_same(x, params[f"layer{i}_w"]) + params[f"layer{i}_b"], 0.0)
        out.append(x)
        if i in spec.pool_after:
            h, w, c = x.shape
            x = x.reshape(h // 2, 2, w // 2, 2, c).mean(axis=(1, 3))
    return out


def np_loss_terms(params, spec, img, content, style):
    def gram(f):
        f = f.reshape(-1, f.shape[-1])
        return f.T @ f / f.shape[0]

    fi, fc, fs = (np_features(params, spec, a) for a in (img, content, style))
    s = np.mean([np.sum((gram(fi[i]) - gram(fs[i])) ** 2) / np.sum(gram(fs[i]) ** 2)
                 for i in spec.style_layers])
    k = spec.content_layer
    c = np.sum((fi[k] - fc[k]) ** 2) / np.sum(fc[k] ** 2)
    t = np.mean(np.diff(img, axis=0) ** 2) + np.mean(np.diff(img, axis=1) ** 2)
    return s, c, t


def _problem(size, channels, dtype, seed=0):
    params = st.init_params(seed, channels, dtype)
    spec = st.default_spec(len(channels) - 1)
    content = st.procedural_content(size).astype(dtype)
    style = st.procedural_style(size).astype(dtype)
    return params, spec, content, style


# -- the numbers ------------------------------------------------------------------------------------


def test_loss_matches_numpy_reference():
    params, spec, content, style = _problem(16, (3, 4, 8, 8), np.float64)
    img = np.random.default_rng(1).uniform(size=content.shape)
    targets = st.make_targets(spec, params, content, style)
    weights = np.array([1.0, 0.3, 0.7])
    total, parts = st.make_loss(spec)(img, params, targets, weights)
    ref = np_loss_terms(params, spec, img, content, style)
    np.testing.assert_allclose([float(p) for p in parts], ref, rtol=1e-10)
    np.testing.assert_allclose(float(total), weights @ np.array(ref), rtol=1e-10)
    # the image that is the content has content loss 0; the style image, style loss 0
    assert float(st.make_loss(spec)(content, params, targets, weights)[1][1]) == 0.0
    assert float(st.make_loss(spec)(style, params, targets, weights)[1][0]) < 1e-20


def test_gradient_matches_finite_differences():
    """d loss / d image (eager, float64) against central differences of the numpy reference
    loss along random directions, and xform.check_grads (forward and reverse mode)."""
    params, spec, content, style = _problem(16, (3, 4, 8, 8), np.float64)
    rng = np.random.default_rng(2)
    img = rng.uniform(size=content.shape)
    targets = st.make_targets(spec, params, content, style)
    weights = np.array([1.0, 0.3, 0.7])
    loss = st.make_loss(spec)
    g = xform.grad(lambda x: loss(x, params, targets, weights)[0])(img)
    assert g.shape == img.shape and np.all(np.isfinite(g))

    def ref(x):
        return weights @ np.array(np_loss_terms(params, spec, x, content, style))

    eps = 1e-6
    for _ in range(3):
        d = rng.standard_normal(img.shape)
        fd = (ref(img + eps * d) - ref(img - eps * d)) / (2 * eps)
        np.testing.assert_allclose(np.sum(g * d), fd, rtol=1e-6, atol=1e-10)
    xform.check_grads(lambda x: loss(x, params, targets, weights)[0], (img,), order=1)


def test_max_pooling_network_gradient():
    params, spec, content, style = _problem(8, (3, 4, 4), np.float64)
    spec = st.Spec(n_layers=2, pool_after=(0,), style_layers=(0, 1), content_layer=1, pool="max")
    img = np.random.default_rng(3).uniform(size=content.shape)
    targets = st.make_targets(spec, params, content, style)
    loss = st.make_loss(spec)
    xform.check_grads(lambda x: loss(x, params, targets, np.array([1.0, 0.5, 0.1]))[0], (img,), order=1)


# -- the optimization -------------------------------------------------------------------------------


def test_style_loss_falls():
    params, spec, content, style = _problem(SIZE, SMALL, np.float32)
    r = st.run(content, style, 20, params=params, spec=spec)
    s = np.array(r["style"])
    assert r["steps"] == list(range(21)) and len(s) == 21 and np.all(np.isfinite(r["losses"]))
    # measured: the style loss falls 40x in 20 Adam steps (22-42x for other seeds of the
    # network); the image changes (content loss grows from 0) and stays a valid image
    assert s[-1] < s[0] / 8, s
    assert r["losses"][-1] < 0.25 * r["losses"][0]
    assert r["content"][0] < 1e-6 < r["content"][-1]
    img = r["image"]
    assert img.shape == content.shape and img.min() >= 0 and img.max() <= 1
    assert np.abs(img - content).max() > 0.1


def test_bad_inputs():
    params, spec, content, style = _problem(8, (3, 4, 4), np.float32)
    with pytest.raises(ValueError, match="one shape"):
        st.run(content, style[:4], 1, params=params, spec=st.default_spec(2))
    with pytest.raises(ValueError, match="optimizer"):
        st.run(content, style, 1, optimizer="sgd")
    with pytest.raises(ValueError, match="content_layer"):
        st.Spec(n_layers=2, pool_after=(0,), style_layers=(0,), content_layer=5)


# -- the command line ------------------------------------------------------------------------------


def test_command_line_writes_pictures(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    # image files of another size and aspect (center-cropped and resized to --size), and
    # the test network as a weights file (same structure and shapes as test_style_loss_falls:
    # the same compiled step)
    for name, fn in (("c.png", st.procedural_content), ("s.jpg", st.procedural_style)):
        a = np.round(fn(48) * 255).astype(np.uint8)
        pil.fromarray(np.concatenate([a, a[:, :8]], axis=1)).save(tmp_path / name)
    np.savez(tmp_path / "w.npz", **st.init_params(0, SMALL))
    out = tmp_path / "out"
    r = st.main([str(tmp_path / "c.png"), str(tmp_path / "s.jpg"), "--size", str(SIZE), "--steps", "3",
                 "--out", str(out), "--weights", str(tmp_path / "w.npz")])
    assert r["style"][-1] < r["style"][0]
    with pil.open(out / "result.png") as im:
        assert im.size == (SIZE, SIZE) and im.mode == "RGB"
        np.testing.assert_allclose(np.asarray(im) / 255.0, r["image"], atol=0.5 / 255 + 1e-6)
    with pil.open(out / "panel.png") as im:
        panel = np.asarray(im.convert("RGB"), dtype=float)
    assert panel.shape[1] > 4 * panel.shape[0] / 2 and panel.std() > 10  # four panels, drawn


def test_weights_file_layout(tmp_path):
    params = st.init_params(5, (3, 4, 6), np.float64)
    np.savez(tmp_path / "w.npz", **params, pool_after=[], style_layers=[1], content_layer=0)
    loaded, spec = st.load_weights(str(tmp_path / "w.npz"), np.float64)
    assert spec == st.Spec(n_layers=2, pool_after=(), style_layers=(1,), content_layer=0)
    assert sorted(loaded) == sorted(params)
    img = st.procedural_content(8)
    for a, b in zip(st.build_features(spec)(loaded, img), np_features(params, spec, img)):
        np.testing.assert_allclose(np.asarray(a)[0], b, rtol=1e-12, atol=1e-12)
    # a PyTorch-layout kernel (C_out, C_in, KH, KW) is refused with the fix in the message
    for i in (0, 1):
        bad = dict(params, **{f"layer{i}_w": params[f"layer{i}_w"].transpose(3, 2, 0, 1)})
        np.savez(tmp_path / "bad.npz", **bad)
        with pytest.raises(ValueError, match=rf"layer{i}_.*transpose\(2, 3, 1, 0\)"):
            st.load_weights(str(tmp_path / "bad.npz"))
    np.savez(tmp_path / "empty.npz", w0=params["layer0_w"])
    with pytest.raises(ValueError, match="no 'layer0_w'"):
        st.load_weights(str(tmp_path / "empty.npz"))


def test_torchvision_vgg19_conversion(tmp_path):
    """A state dict with torchvision's VGG-19 ``features`` names and layout (tiny channel
    counts, random values) converts to a weights file the example loads, with Gatys et
    al.'s layers, and the features are the numpy reference's with the kernels transposed."""
    rng = np.random.default_rng(4)
    cfg = [4, 4, "M", 6, 6, "M", 6, 6, 6, 6, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8, "M"]  # VGG-19 ("E")
    sd, i, cin = {}, 0, 3
    for v in cfg:
        if v == "M":
            i += 1
            continue
        sd[f"features.{i}.weight"] = rng.standard_normal((v, cin, 3, 3)) / np.sqrt(9 * cin)
        sd[f"features.{i}.bias"] = 0.1 * rng.standard_normal(v)
        i, cin = i + 2, v
    np.savez(tmp_path / "vgg.npz", **st.from_torchvision_vgg(sd))
    params, spec = st.load_weights(str(tmp_path / "vgg.npz"), np.float64)
    assert spec == st.Spec(n_layers=16, pool_after=(1, 3, 7, 11, 15), style_layers=(0, 2, 4, 8, 12),
                           content_layer=9)  # conv1_1 ... conv5_1; conv4_2
    np.testing.assert_array_equal(params["layer2_w"], sd["features.5.weight"].transpose(2, 3, 1, 0))
    img = np.random.default_rng(5).uniform(size=(32, 32, 3))
    feats = st.build_features(spec)(params, img)
    assert len(feats) == 13 and feats[12].shape == (1, 2, 2, 8)  # up to conv5_1, after 4 poolings
    for a, b in zip(feats, np_features(params, spec, img)):
        np.testing.assert_allclose(np.asarray(a)[0], b, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="features"):
        st.from_torchvision_vgg({"classifier.0.weight": np.zeros((4, 4))})


def test_random_network_is_jax_he_normal():
    """init_params draws the same weights as JAX's he_normal on the same keys (float32)."""
    jax = pytest.importorskip("jax")
    params = st.init_params(0, SMALL)
    keys = jax.random.split(jax.random.key(0), len(SMALL) - 1)
    for i, (cin, cout) in enumerate(zip(SMALL[:-1], SMALL[1:])):
        w = jax.nn.initializers.he_normal()(keys[i], (3, 3, cin, cout), np.float32)
        np.testing.assert_array_equal(params[f"layer{i}_w"], np.asarray(w))


def test_lbfgs_path_lowers_the_loss():
    # the --optimizer lbfgs path: xform.optimize.minimize(method="lbfgs") in chunks. A
    # smaller network than the Adam tests' (its program compiles in ~15-20 s of CPU)
    params, spec, content, style = _problem(16, (3, 8, 16), np.float32)
    r = st.run(content, style, 8, params=params, spec=spec, optimizer="lbfgs", chunk=4)
    losses = np.array(r["losses"])
    assert r["steps"][0] == 0 and r["steps"][-1] >= 4 and np.all(np.diff(r["steps"]) > 0)
    assert np.all(np.isfinite(losses)) and np.all(np.diff(losses) < 0), losses
    assert r["style"][0] > 4 * r["style"][-1], r["style"]
    img = r["image"]
    assert img.shape == content.shape and np.isfinite(img).all()
    # the final (clipped) image's loss by the independent reference is below the start's
    s, c, t = np_loss_terms(params, spec, img.astype(np.float64), content, style)
    s0, c0, t0 = np_loss_terms(params, spec, content.astype(np.float64), content, style)
    assert s + 0.05 * c + 0.01 * t < s0 + 0.05 * c0 + 0.01 * t0

"""Neural style transfer (Gatys, Ecker and Bethge, 2015) with xform.

Paints the content of one image in the style of another by optimizing the pixels: the
loss compares the features of a convolutional network (content) and the Gram matrices of
its features at several layers (style), plus a total-variation term for smoothness. The
optimizer is Adam, one jitted step (loss, gradient, update) compiled once and called at
every step, or (``--optimizer lbfgs``) L-BFGS from ``xform.optimize.minimize``, whose
iterations run inside one compiled ``while_loop``.

    python examples/style_transfer.py [CONTENT] [STYLE] --size 64 --steps 30 --out DIR

writes ``DIR/result.png`` (the stylized image) and ``DIR/panel.png`` (content | style |
result and the loss curve). Without image files it uses procedurally generated ones
(a landscape and a mosaic). Needs the ``examples`` extra (Pillow, matplotlib, tqdm):
``pip install -e '.[examples]'``.

The network: no pretrained network can be downloaded here, so by default the features
come from a fixed, seeded, random-weight CNN (4 conv 3x3 + relu layers, 2x2 average
pooling in between); random filters already describe textures (Ustyuzhaninov et al.,
2016; He, Wang and Hopcroft, 2016). ``--weights FILE.npz`` uses your weights instead, in
this layout (the same code runs a VGG-19 converted to it; see docs/style_transfer.md):

- ``layer{i}_w``: conv kernel ``i = 0, 1, ...`` (consecutive), shape ``(KH, KW, C_in,
  C_out)`` (HWIO, as JAX/Flax/Keras store it; PyTorch's ``(C_out, C_in, KH, KW)`` is
  ``w.transpose(2, 3, 1, 0)``), stride 1, "SAME" padding, followed by a relu;
- ``layer{i}_b`` (optional): bias, shape ``(C_out,)``;
- ``pool_after`` (optional): indices of the layers followed by a 2x2 stride-2 pooling
  (default: every layer but the last);
- ``style_layers`` (optional, default all), ``content_layer`` (optional, default the
  middle one): layer indices whose relu outputs the losses use;
- ``mean``, ``std`` (optional, shape ``(3,)``): the network's input normalization of
  RGB images in [0, 1] (``(x - mean) / std``; default none; the random network uses
  ImageNet's statistics, as VGG does).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

import xform
import xform.numpy as xnp
from xform import lax

DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")
#: channels of the default random network (wide enough for its Gram matrices to describe a
#: texture; fewer channels transfer mostly colors)
CHANNELS = (3, 64, 128, 128, 256)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


# -- the network ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Spec:
    """The static structure of the feature network (layer weights are separate, they are
    arguments of the compiled functions)."""

    n_layers: int
    pool_after: tuple[int, ...]
    style_layers: tuple[int, ...]
    content_layer: int
    pool: str = "avg"  # "avg" (Gatys et al. found it better for synthesis) or "max"

    def __post_init__(self):
        for name in ("pool_after", "style_layers"):
            bad = [i for i in getattr(self, name) if not 0 <= i < self.n_layers]
            if bad:
                raise ValueError(f"Spec: {name} has layer indices {bad} outside 0..{self.n_layers - 1}")
        if not 0 <= self.content_layer < self.n_layers:
            raise ValueError(f"Spec: content_layer {self.content_layer} is outside 0..{self.n_layers - 1}")
        if self.pool not in ("avg", "max"):
            raise ValueError(f"Spec: pool must be 'avg' or 'max', got {self.pool!r}")


def default_spec(n_layers: int = len(CHANNELS) - 1, pool: str = "avg") -> Spec:
    return Spec(n_layers=n_layers, pool_after=tuple(range(n_layers - 1)),
                style_layers=tuple(range(n_layers)), content_layer=n_layers // 2, pool=pool)


def init_params(seed: int = 0, channels: Sequence[int] = CHANNELS, dtype=np.float32) -> dict:
    """Random weights in the ``.npz`` layout: He-normal 3x3 kernels (the variance that
    keeps relu activations at a constant scale through the layers), zero biases, from
    ``xform.random`` keys (the same values as JAX's ``jax.nn.initializers.he_normal`` for
    the same seed)."""
    keys = xform.random.split(xform.random.key(seed), len(channels) - 1)
    init = xform.nn.initializers.he_normal()
    params = {}
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        params[f"layer{i}_w"] = np.asarray(init(keys[i], (3, 3, cin, cout), dtype))
        params[f"layer{i}_b"] = np.zeros(cout, dtype)
    # centre the input as VGG does (ImageNet statistics): filters of an uncentred input
    # mostly see the mean color
    params["mean"] = np.array(IMAGENET_MEAN, dtype)
    params["std"] = np.array(IMAGENET_STD, dtype)
    return params


def load_weights(path: str, dtype=np.float32) -> tuple[dict, Spec]:
    """Weights and structure from an ``.npz`` file in the layout of the module docstring."""
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    n = 0
    while f"layer{n}_w" in data:
        n += 1
    if n == 0:
        raise ValueError(f"load_weights: {path} has no 'layer0_w' array (keys: {sorted(data)}); "
                         "see the layout in examples/style_transfer.py")
    params, cin = {}, 3
    hint = "(HWIO: (KH, KW, C_in, C_out); transpose a PyTorch kernel with w.transpose(2, 3, 1, 0))"
    for i in range(n):
        w = np.asarray(data[f"layer{i}_w"], dtype)
        if w.ndim != 4 or w.shape[2] != cin:
            raise ValueError(f"load_weights: layer{i}_w has shape {w.shape}; expected (KH, KW, {cin}, "
                             f"C_out) {hint}")
        b = np.asarray(data.get(f"layer{i}_b", np.zeros(w.shape[3])), dtype)
        if b.shape != (w.shape[3],):
            raise ValueError(f"load_weights: layer{i}_b has shape {b.shape}, but layer{i}_w {w.shape} "
                             f"has {w.shape[3]} output channels {hint}")
        params[f"layer{i}_w"], params[f"layer{i}_b"] = w, b
        cin = w.shape[3]
    for k in ("mean", "std"):
        if k in data:
            params[k] = np.asarray(data[k], dtype).reshape(3)
    base = default_spec(n)
    spec = Spec(n_layers=n,
                pool_after=tuple(int(i) for i in data.get("pool_after", base.pool_after)),
                style_layers=tuple(int(i) for i in data.get("style_layers", base.style_layers)),
                content_layer=int(data.get("content_layer", base.content_layer)))
    return params, spec


def from_torchvision_vgg(state_dict: dict) -> dict:
    """The ``.npz`` arrays of a torchvision VGG (``vgg11`` ... ``vgg19``, without batch
    norm) from its ``features`` state dict (``{name: numpy array}``, names ``"0.weight"``
    or ``"features.0.weight"``): the kernels transposed to HWIO, pooling after the last
    conv of each block, the style layers of Gatys et al. (the first conv of each block:
    conv1_1 ... conv5_1), the content layer conv4_2, and ImageNet's input statistics.

        sd = torchvision.models.vgg19(weights="DEFAULT").features.state_dict()
        np.savez("vgg19.npz", **from_torchvision_vgg({k: v.numpy() for k, v in sd.items()}))
    """
    convs = {}
    for name, a in state_dict.items():
        parts = name.removeprefix("features.").split(".")
        if len(parts) == 2 and parts[0].isdigit() and parts[1] in ("weight", "bias"):
            convs.setdefault(int(parts[0]), {})[parts[1]] = np.asarray(a)
    idx = sorted(convs)
    if not idx or any(np.ndim(convs[i].get("weight")) != 4 for i in idx):
        raise ValueError("from_torchvision_vgg: expected the state dict of a VGG's `features` "
                         "(conv kernels '0.weight', '2.weight', ... of shape (C_out, C_in, 3, 3))")
    out = {}
    for k, i in enumerate(idx):
        out[f"layer{k}_w"] = convs[i]["weight"].transpose(2, 3, 1, 0)
        if "bias" in convs[i]:
            out[f"layer{k}_b"] = convs[i]["bias"]
    # in torchvision's VGG a conv is followed by its relu; a gap of 3 means a max pool
    pool_after = [k for k in range(len(idx) - 1) if idx[k + 1] - idx[k] == 3] + [len(idx) - 1]
    firsts = [0] + [k + 1 for k in pool_after[:-1]]
    out["pool_after"] = np.array(pool_after)
    out["style_layers"] = np.array(firsts)
    out["content_layer"] = np.array(firsts[3] + 1 if len(firsts) > 3 else firsts[-1])
    out["mean"], out["std"] = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    return out


def _pool(x, kind: str):
    if kind == "max":
        return lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") * 0.25


def build_features(spec: Spec) -> Callable:
    """``features(params, img)``: the relu outputs of every layer (each ``(1, H, W, C)``)
    for one ``(H, W, 3)`` image. Layers after the last one a loss uses are not computed."""
    last = max(max(spec.style_layers), spec.content_layer)

    def features(params, img):
        x = img[None]
        if "mean" in params:
            x = x - params["mean"]
        if "std" in params:
            x = x / params["std"]
        out = []
        for i in range(last + 1):
            x = lax.conv_general_dilated(x, params[f"layer{i}_w"], (1, 1), "SAME",
                                         dimension_numbers=DIMENSION_NUMBERS)
            x = xform.nn.relu(x + params[f"layer{i}_b"])
            out.append(x)
            if i in spec.pool_after and i < last:
                x = _pool(x, spec.pool)
        return out

    return features


# -- the losses -----------------------------------------------------------------------------------


def gram(f):
    """Channel correlations of a ``(1, H, W, C)`` feature map, averaged over positions:
    ``G = F^T F / (H W)`` with ``F`` the ``(H W, C)`` matrix."""
    _, h, w, c = f.shape
    f = f.reshape(h * w, c)
    return f.T @ f / (h * w)


def style_loss(feats, targets):
    """Mean over the style layers of ``|G - A|^2 / |A|^2`` (Frobenius norms) between the
    Gram matrices ``G`` of ``feats`` and the targets ``A`` (pairs ``(A, |A|^2)``). Dividing
    by the target's norm (Gatys et al. divide by sizes instead) weighs every layer
    alike whatever the scale of its features, which differs a lot between random and
    trained networks; 1 is the loss of all-zero features."""
    terms = [xnp.sum((gram(f) - a) ** 2) / a2 for f, (a, a2) in zip(feats, targets)]
    return sum(terms) / len(terms)


def content_loss(f, target):
    """``|F - P|^2 / |P|^2`` between the features and the content's (``target = (P, |P|^2)``)."""
    p, p2 = target
    return xnp.sum((f - p) ** 2) / p2


def tv_loss(img):
    """Total variation (squared, so smooth): the mean squared difference of neighbouring pixels."""
    dy = img[1:, :, :] - img[:-1, :, :]
    dx = img[:, 1:, :] - img[:, :-1, :]
    return xnp.mean(dy ** 2) + xnp.mean(dx ** 2)


def make_targets(spec: Spec, params: dict, content, style) -> dict:
    """What the losses compare with: the style image's Gram matrices at the style layers
    and the content image's features at the content layer, each with its squared norm
    (the normalizer; a tiny floor keeps an all-black image finite)."""
    features = build_features(spec)
    fs, fc = features(params, style), features(params, content)
    grams = [np.asarray(gram(fs[i])) for i in spec.style_layers]
    p = np.asarray(fc[spec.content_layer])
    norm2 = lambda a: np.maximum(np.sum(np.square(a)), np.finfo(a.dtype).tiny).astype(a.dtype)
    return {"style": [(a, norm2(a)) for a in grams], "content": (p, norm2(p))}


def make_loss(spec: Spec) -> Callable:
    """``loss(img, params, targets, weights) -> (total, (style, content, tv))`` with
    ``total = weights @ (style, content, tv)``. The weights are an argument (not constants
    baked into the compiled code), so changing them does not recompile."""
    features = build_features(spec)

    def loss(img, params, targets, weights):
        fs = features(params, img)
        s = style_loss([fs[i] for i in spec.style_layers], targets["style"])
        c = content_loss(fs[spec.content_layer], targets["content"])
        t = tv_loss(img)
        return weights[0] * s + weights[1] * c + weights[2] * t, (s, c, t)

    return loss


def _extra(module: str):
    """Import a module of the ``examples`` extra, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"style_transfer: {module} is needed for image files, the progress bar and "
                          f"the panel; install the examples extra: pip install -e '.[examples]'") from e


# -- images ---------------------------------------------------------------------------------------


def procedural_content(size: int) -> np.ndarray:
    """A landscape in [0, 1]^(size, size, 3): a sky gradient, a sun, two hills and a tree."""
    y, x = (np.mgrid[0:size, 0:size] + 0.5) / size
    soft = lambda d: np.clip(0.5 - d * size / 2, 0, 1)[..., None]  # anti-aliased inside test
    img = np.stack([0.35 + 0.4 * y, 0.55 + 0.3 * y, 0.95 - 0.1 * y], -1)            # sky
    img = img * (1 - soft(np.hypot(x - 0.72, y - 0.25) - 0.12)) + \
        soft(np.hypot(x - 0.72, y - 0.25) - 0.12) * np.array([1.0, 0.85, 0.3])      # sun
    far = soft(0.55 + 0.08 * np.sin(7 * x) - y)
    img = img * (1 - far) + far * np.array([0.25, 0.55, 0.3])
    near = soft(0.72 + 0.1 * np.cos(5 * x + 1) - y)
    img = img * (1 - near) + near * np.stack([0.2 + 0.1 * y, 0.4 + 0.2 * y, 0.1 + 0 * y], -1)
    trunk = soft(np.maximum(abs(x - 0.25) - 0.025, 0.62 - y))
    img = img * (1 - trunk) + trunk * np.array([0.35, 0.2, 0.1])
    crown = soft(np.hypot(x - 0.25, (y - 0.55) * 1.3) - 0.1)
    img = img * (1 - crown) + crown * np.array([0.1, 0.35, 0.12])
    return img.clip(0, 1)


def procedural_style(size: int, seed: int = 1) -> np.ndarray:
    """A stained-glass mosaic: Voronoi cells of saturated colors with stripes inside and
    dark lead lines between them (a high-frequency, colorful texture)."""
    rng = np.random.default_rng(seed)
    n = 24
    pts = rng.uniform(size=(n, 2))
    palette = np.array([[0.9, 0.15, 0.1], [0.1, 0.3, 0.85], [0.95, 0.8, 0.1], [0.1, 0.6, 0.3],
                        [0.6, 0.15, 0.7], [0.95, 0.5, 0.1]])
    colors = palette[rng.integers(0, len(palette), n)]
    angles = rng.uniform(0, np.pi, n)
    y, x = (np.mgrid[0:size, 0:size] + 0.5) / size
    d = np.hypot(x[..., None] - pts[:, 0], y[..., None] - pts[:, 1])
    order = np.argsort(d, axis=-1)
    cell = order[..., 0]
    nearest2 = np.take_along_axis(d, order[..., :2], -1)
    edge = nearest2[..., 1] - nearest2[..., 0]  # 0 on the boundary between two cells
    stripes = 0.75 + 0.25 * np.sin(40 * (x * np.cos(angles[cell]) + y * np.sin(angles[cell])))
    img = colors[cell] * stripes[..., None]
    lead = np.clip(edge * size / 1.5, 0, 1)[..., None]  # dark lines about 2 pixels wide
    return (img * lead + 0.05 * (1 - lead)).clip(0, 1)


def load_image(path: str, size: int) -> np.ndarray:
    """An image file (PNG, JPEG, ... through Pillow) as RGB floats in [0, 1], center-cropped
    to a square and resized to ``size x size``."""
    Image = _extra("PIL.Image")
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        im = im.resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.float64) / 255.0


# -- the optimization -----------------------------------------------------------------------------


class _Progress:
    """A tqdm bar with the step and the losses, or nothing (``enabled=False``: no tqdm
    needed)."""

    def __init__(self, total: int, enabled: bool):
        self.bar, self.total, self.n = None, total, 0
        if enabled:
            self.bar = _extra("tqdm").tqdm(total=total, desc="style transfer", unit="step")

    def update(self, n: int, loss: float, style: float) -> None:
        n = min(n, self.total - self.n)  # (an L-BFGS chunk may overrun the total)
        self.n += n
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", style=f"{style:.3g}", refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def adam(grads, state, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam update (Kingma and Ba, 2015) of any pytree: ``(updates, state)`` with
    ``state = (m, v)`` the moment estimates and ``t`` the step number, from 1. A few lines
    with ``xform.tree_util``: xform has no optimizer library of the optax kind."""
    m, v = state
    tm = xform.tree_util.tree_map
    m = tm(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
    v = tm(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
    updates = tm(lambda m, v: -lr * (m / (1 - b1 ** t)) / (xnp.sqrt(v / (1 - b2 ** t)) + eps), m, v)
    return updates, (m, v)


def make_adam_step(loss: Callable) -> Callable:
    """``step(img, state, t, lr, params, targets, weights) -> (img, state, total, parts)``:
    the loss at ``img``, its gradient, an Adam update and the projection of the pixels onto
    [0, 1], jitted as one program. Every argument is an array (the step number and the
    learning rate too), so all steps and all settings share one compilation per image
    size."""

    def step(img, state, t, lr, params, targets, weights):
        (value, parts), g = xform.value_and_grad(loss, has_aux=True)(img, params, targets, weights)
        updates, state = adam(g, state, t, lr)
        return xnp.clip(img + updates, 0.0, 1.0), state, value, parts

    return xform.jit(step)


def make_lbfgs_objective(loss: Callable) -> Callable:
    """The total loss alone, the function ``xform.optimize.minimize`` minimizes."""

    def total(img, params, targets, weights):
        return loss(img, params, targets, weights)[0]

    return total


# The compiled functions per (network structure, optimizer): tests and repeated runs reuse
# them (``minimize`` keeps its compiled program per objective function, so the objective
# must be the same object each call). Compilation is per input shape: a new image size
# compiles again.
_COMPILED: dict = {}


def _compiled(spec: Spec, optimizer: str) -> tuple[Callable, Callable]:
    key = (spec, optimizer)
    if key not in _COMPILED:
        loss = make_loss(spec)
        fn = make_adam_step(loss) if optimizer == "adam" else make_lbfgs_objective(loss)
        _COMPILED[key] = (loss, fn)
    return _COMPILED[key]


#: the defaults of ``run`` and of the command line
DEFAULTS = dict(steps=30, optimizer="adam", lr=0.04, chunk=10, style_weight=1.0, content_weight=0.05,
                tv_weight=0.01)


def run(content: np.ndarray, style: np.ndarray, steps: int = DEFAULTS["steps"], *,
        params: dict | None = None, spec: Spec | None = None, optimizer: str = DEFAULTS["optimizer"],
        lr: float = DEFAULTS["lr"], chunk: int = DEFAULTS["chunk"],
        style_weight: float = DEFAULTS["style_weight"], content_weight: float = DEFAULTS["content_weight"],
        tv_weight: float = DEFAULTS["tv_weight"], seed: int = 0, dtype=np.float32,
        progress: bool = False) -> dict:
    """Optimize an image, starting from ``content``, for the style of ``style``.

    ``optimizer="adam"``: ``steps`` calls of one jitted Adam step (learning rate ``lr``);
    ``"lbfgs"``: ``xform.optimize.minimize(method="lbfgs")`` for ``steps`` iterations,
    restarted every ``chunk`` iterations (each call is the same compiled ``while_loop``;
    the restarts let the progress bar and the loss curve advance, at the price of the
    curvature history; the last chunk may overrun ``steps`` by less than ``chunk``; the
    pixels are unconstrained during the iterations and clipped to [0, 1] at the end).
    ``params``/``spec``: the network (default: ``init_params(seed)``, ``default_spec()``).

    Returns a dict: ``image`` (in [0, 1]); ``steps``, the iteration numbers at which the
    loss was recorded (0 first), and ``losses`` (total), ``style``, ``content``, ``tv`` (the
    unweighted terms) there; ``compile_s`` (seconds of the first optimizer call, which
    compiles) and ``total_s`` (the whole run).
    """
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"run: optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    content, style = np.asarray(content), np.asarray(style)
    if content.shape != style.shape or content.ndim != 3 or content.shape[2] != 3:
        raise ValueError(f"run: content and style must be (H, W, 3) images of one shape, got "
                         f"{content.shape} and {style.shape}")
    if steps < 1 or chunk < 1:
        raise ValueError(f"run: steps and chunk must be >= 1, got {steps} and {chunk}")
    chunk = min(chunk, steps)
    spec = default_spec() if spec is None else spec
    params = init_params(seed, dtype=dtype) if params is None else params
    params = {k: np.asarray(v, dtype) for k, v in params.items()}
    content, style = content.astype(dtype), style.astype(dtype)
    targets = make_targets(spec, params, content, style)
    weights = np.array([style_weight, content_weight, tv_weight], dtype)
    loss, fn = _compiled(spec, optimizer)
    record: dict[str, Any] = {"steps": [], "losses": [], "style": [], "content": [], "tv": []}

    def note(step, value, parts):
        record["steps"].append(int(step))
        record["losses"].append(float(value))
        for name, p in zip(("style", "content", "tv"), parts):
            record[name].append(float(p))

    bar = _Progress(steps, progress)
    t0 = time.perf_counter()
    img = content.copy()
    try:
        if optimizer == "adam":
            state = (np.zeros_like(img), np.zeros_like(img))
            for t in range(1, steps + 1):
                img, state, value, parts = fn(img, state, np.asarray(t, dtype), np.asarray(lr, dtype), params,
                                             targets, weights)
                if t == 1:
                    record["compile_s"] = time.perf_counter() - t0
                note(t - 1, value, parts)  # (the loss at the image before this step's update)
                bar.update(1, float(value), float(parts[0]))
        else:
            done = 0
            while done < steps:
                r = xform.optimize.minimize(fn, img, args=(params, targets, weights), method="lbfgs",
                                            maxiter=chunk)
                if done == 0:
                    record["compile_s"] = time.perf_counter() - t0
                    # (the loss at the start; eager, so it costs no compilation)
                    note(0, *loss(content, params, targets, weights))
                nit = int(r.nit)
                img = np.asarray(r.x)
                if nit == 0:  # converged, or no step decreases the loss: stop
                    break
                done += nit
                value, parts = loss(img, params, targets, weights)
                note(done, value, parts)
                bar.update(nit, float(value), float(parts[0]))
        if optimizer == "adam":
            note(steps, *loss(img, params, targets, weights))  # (the final image, eager)
    finally:
        bar.close()
    record["image"] = np.clip(img, 0.0, 1.0)
    record["total_s"] = time.perf_counter() - t0
    return record


# -- output ---------------------------------------------------------------------------------------


def save_image(img: np.ndarray, path: str) -> None:
    """An (H, W, 3) image in [0, 1] as an 8-bit RGB file (PNG, ... by the extension)."""
    _extra("PIL.Image").fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)).save(path)


def save_panel(content: np.ndarray, style: np.ndarray, result: dict, path: str) -> None:
    """A PNG of content | style | result and the loss curves (matplotlib; no display needed)."""
    # (matplotlib's Figure without pyplot: no GUI backend, no global state)
    fig = _extra("matplotlib.figure").Figure(figsize=(13, 3.4))
    axes = fig.subplots(1, 4)
    for ax, (title, im) in zip(axes, [("content", content), ("style", style),
                                      ("result", result["image"])]):
        ax.imshow(np.clip(im, 0, 1), interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    ax = axes[3]
    for name, label in (("losses", "total"), ("style", "style"), ("content", "content"), ("tv", "tv")):
        v = np.asarray(result[name], float)
        # (the content loss starts at 0, the image being the content: not on a log scale)
        ax.semilogy(result["steps"], np.where(v > 1e-9, v, np.nan), marker=".", label=label)
    ax.set_xlabel("step")
    ax.set_title("loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: Sequence[str] | None = None) -> dict:
    """The command line (``--help``); returns ``run``'s result."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Network weights (--weights): see the layout in " + __file__)
    p.add_argument("content", nargs="?", help="content image (PNG/JPEG); default: a generated landscape")
    p.add_argument("style", nargs="?", help="style image (PNG/JPEG); default: a generated mosaic")
    p.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    p.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="optimizer iterations (default 30)")
    p.add_argument("--out", default="style_transfer_out", help="output directory")
    p.add_argument("--optimizer", choices=("adam", "lbfgs"), default=DEFAULTS["optimizer"],
                   help="adam (default; one small compiled step) or lbfgs (fewer iterations for the same "
                   "loss, but a larger program to compile)")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="Adam's learning rate (pixels in [0, 1])")
    p.add_argument("--chunk", type=int, default=DEFAULTS["chunk"], help="L-BFGS iterations per call")
    for name in ("style_weight", "content_weight", "tv_weight"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=DEFAULTS[name])
    p.add_argument("--weights", help="network weights (.npz); default: a seeded random network")
    p.add_argument("--seed", type=int, default=0, help="seed of the random network (default 0)")
    p.add_argument("--pool", choices=("avg", "max"), default="avg", help="pooling of the random network")
    a = p.parse_args(argv)
    if a.size < 8 or a.steps < 1:
        p.error(f"--size must be >= 8 and --steps >= 1 (got {a.size} and {a.steps})")
    if a.weights:
        params, spec = load_weights(a.weights)
    else:
        params, spec = init_params(a.seed), default_spec(pool=a.pool)
    content = load_image(a.content, a.size) if a.content else procedural_content(a.size)
    style = load_image(a.style, a.size) if a.style else procedural_style(a.size)
    os.makedirs(a.out, exist_ok=True)
    result = run(content, style, a.steps, params=params, spec=spec, optimizer=a.optimizer, lr=a.lr,
                 chunk=a.chunk, style_weight=a.style_weight, content_weight=a.content_weight,
                 tv_weight=a.tv_weight, progress=True)
    save_image(result["image"], os.path.join(a.out, "result.png"))
    save_panel(content, style, result, os.path.join(a.out, "panel.png"))
    print(f"loss {result['losses'][0]:.4g} -> {result['losses'][-1]:.4g}, style {result['style'][0]:.3g} "
          f"-> {result['style'][-1]:.3g}; first step (compiles) {result['compile_s']:.1f} s, whole run "
          f"{result['total_s']:.1f} s; wrote {os.path.join(a.out, 'result.png')} and "
          f"{os.path.join(a.out, 'panel.png')}")
    return result


if __name__ == "__main__":
    main()

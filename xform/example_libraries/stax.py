"""``xform.example_libraries.stax`` (JAX's ``jax.example_libraries.stax``): neural-network
layers as ``(init_fun, apply_fun)`` pairs.

``output_shape, params = init_fun(key, input_shape)`` draws the parameters (shapes may use
-1 for the batch dimension); ``apply_fun(params, inputs, **kwargs)`` computes the layer
(``rng=key`` for ``Dropout``). ``serial`` and ``parallel`` combine layers; keys are split
as JAX's stax splits them, so the same key gives the same parameters. The parameterless
layers are values: ``Tanh``, ``Relu``, ``Exp``, ``LogSoftmax``, ``Softmax``, ``Softplus``,
``Sigmoid``, ``Elu``, ``LeakyRelu``, ``Selu``, ``Gelu`` (elementwise), ``Flatten`` (all but
the leading axis), ``Identity`` and ``FanInSum`` (the sum of a list of inputs).

>>> import numpy as np, xform
>>> from xform.example_libraries import stax
>>> init_fun, apply_fun = stax.serial(stax.Dense(4), stax.Relu, stax.Dense(2))
>>> out_shape, params = init_fun(xform.random.PRNGKey(0), (-1, 3))
>>> out_shape, apply_fun(params, np.ones((5, 3))).shape
((-1, 2), (5, 2))
"""
from __future__ import annotations

import math

from .. import lax, random
from .. import numpy as jnp
from ..nn import elu, gelu, leaky_relu, log_softmax, relu, selu, sigmoid, softmax, softplus
from ..nn import standardize
from ..nn.initializers import glorot_normal, normal, ones, zeros

# The parameterless layers are values, (init_fun, apply_fun) pairs, importable by name
# but not listed here (the reference documents functions): Tanh, Relu, Exp, LogSoftmax,
# Softmax, Softplus, Sigmoid, Elu, LeakyRelu, Selu, Gelu, Flatten, Identity, FanInSum.
__all__ = ["Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose",
           "ConvTranspose", "BatchNorm", "elementwise", "MaxPool", "SumPool", "AvgPool",
           "FanOut", "FanInConcat", "Dropout", "serial", "parallel", "shape_dependent",
           "glorot", "randn", "logsoftmax"]

glorot = glorot_normal
randn = normal
logsoftmax = log_softmax

# JAX's defaults (module-level initializers, shared by every layer that uses them)
_GLOROT = glorot_normal()
_NORMAL = normal()
_TINY_NORMAL = normal(1e-6)


def Dense(out_dim, W_init=_GLOROT, b_init=_NORMAL):
    """A fully-connected layer ``inputs @ W + b``.

    >>> import xform
    >>> init_fun, apply_fun = Dense(3)
    >>> shape, (W, b) = init_fun(xform.random.PRNGKey(0), (-1, 2))
    >>> shape, W.shape, b.shape
    ((-1, 3), (2, 3), (3,))
    """
    def init_fun(rng, input_shape):
        output_shape = tuple(input_shape[:-1]) + (out_dim,)
        k1, k2 = random.split(rng)
        return output_shape, (W_init(k1, (input_shape[-1], out_dim)), b_init(k2, (out_dim,)))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        return jnp.dot(inputs, W) + b

    return init_fun, apply_fun


def _kernel_shape(specs, out_chan, filter_shape, input_shape):
    lhs_spec, rhs_spec, _ = specs
    sizes = iter(filter_shape)
    return [out_chan if c == "O" else input_shape[lhs_spec.index("C")] if c == "I"
            else next(sizes) for c in rhs_spec]


def _conv_layer(dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init,
                output_shape_of, conv):
    """``(init_fun, apply_fun)`` of a convolution layer (``GeneralConv``,
    ``GeneralConvTranspose``): ``output_shape_of(input_shape, kernel_shape, strides, padding,
    dimension_numbers)`` and ``conv(inputs, W)``; a bias per output channel."""
    _, rhs_spec, out_spec = dimension_numbers
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))

    def init_fun(rng, input_shape):
        kernel_shape = _kernel_shape(dimension_numbers, out_chan, filter_shape, input_shape)
        output_shape = output_shape_of(input_shape, kernel_shape, strides, padding,
                                       dimension_numbers)
        bias_shape = [out_chan if c == "C" else 1 for c in out_spec]
        k1, k2 = random.split(rng)
        return output_shape, (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        return conv(inputs, W) + b

    return init_fun, apply_fun


def GeneralConv(dimension_numbers, out_chan, filter_shape, strides=None, padding="VALID",
                W_init=None, b_init=_TINY_NORMAL):
    """A convolution layer with the layouts ``dimension_numbers = (lhs, rhs, out)`` (e.g.
    ``('NHWC', 'HWIO', 'NHWC')``, which ``Conv`` uses).

    >>> import xform
    >>> init_fun, apply_fun = Conv(4, (3, 3), padding="SAME")
    >>> init_fun(xform.random.PRNGKey(0), (2, 8, 8, 3))[0]
    (2, 8, 8, 4)
    """
    one = (1,) * len(filter_shape)
    strides = strides or one
    return _conv_layer(dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init,
                       lax.conv_general_shape_tuple,
                       lambda x, W: lax.conv_general_dilated(x, W, strides, padding, one, one,
                                                            dimension_numbers=dimension_numbers))


def Conv(out_chan, filter_shape, strides=None, padding="VALID", W_init=None,
         b_init=_TINY_NORMAL):
    """A 2-d convolution layer on NHWC inputs with HWIO kernels (``GeneralConv``).

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = Conv(4, (3, 3))
    >>> shape, params = init_fun(xform.random.PRNGKey(0), (1, 5, 5, 2))
    >>> shape, apply_fun(params, np.ones((1, 5, 5, 2))).shape
    ((1, 3, 3, 4), (1, 3, 3, 4))
    """
    return GeneralConv(("NHWC", "HWIO", "NHWC"), out_chan, filter_shape, strides, padding,
                       W_init, b_init)


def GeneralConvTranspose(dimension_numbers, out_chan, filter_shape, strides=None,
                         padding="VALID", W_init=None, b_init=_TINY_NORMAL):
    """A transposed-convolution layer (layouts as in ``GeneralConv``).

    >>> import xform
    >>> init_fun, apply_fun = ConvTranspose(2, (2, 2), strides=(2, 2))
    >>> init_fun(xform.random.PRNGKey(0), (1, 4, 4, 3))[0]
    (1, 8, 8, 2)
    """
    strides = strides or (1,) * len(filter_shape)
    return _conv_layer(dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init,
                       lax.conv_transpose_shape_tuple,
                       lambda x, W: lax.conv_transpose(x, W, strides, padding,
                                                      dimension_numbers=dimension_numbers))


def Conv1DTranspose(out_chan, filter_shape, strides=None, padding="VALID", W_init=None,
                    b_init=_TINY_NORMAL):
    """A 1-d transposed convolution on NHC inputs with HIO kernels.

    >>> import xform
    >>> Conv1DTranspose(3, (2,), strides=(2,))[0](xform.random.PRNGKey(0), (1, 4, 2))[0]
    (1, 8, 3)
    """
    return GeneralConvTranspose(("NHC", "HIO", "NHC"), out_chan, filter_shape, strides,
                                padding, W_init, b_init)


def ConvTranspose(out_chan, filter_shape, strides=None, padding="VALID", W_init=None,
                  b_init=_TINY_NORMAL):
    """A 2-d transposed convolution on NHWC inputs with HWIO kernels.

    >>> import xform
    >>> ConvTranspose(2, (2, 2), strides=(2, 2))[0](xform.random.PRNGKey(0), (1, 3, 3, 1))[0]
    (1, 6, 6, 2)
    """
    return GeneralConvTranspose(("NHWC", "HWIO", "NHWC"), out_chan, filter_shape, strides,
                                padding, W_init, b_init)


def BatchNorm(axis=(0, 1, 2), epsilon=1e-5, center=True, scale=True, beta_init=zeros,
              gamma_init=ones):
    """Batch normalization over ``axis`` (statistics of the current batch), with a learned
    shift ``beta`` (``center``) and scale ``gamma`` (``scale``).

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = BatchNorm(axis=0)
    >>> _, params = init_fun(xform.random.PRNGKey(0), (4, 2))
    >>> apply_fun(params, np.array([[1.0, 2.0], [3.0, 6.0]])).round(3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    axis = (axis,) if jnp.isscalar(axis) else tuple(axis)

    def init_fun(rng, input_shape):
        shape = tuple(d for i, d in enumerate(input_shape) if i not in axis)
        k1, k2 = random.split(rng)
        beta = beta_init(k1, shape) if center else ()
        gamma = gamma_init(k2, shape) if scale else ()
        return input_shape, (beta, gamma)

    def apply_fun(params, x, **kwargs):
        beta, gamma = params
        ed = tuple(None if i in axis else slice(None) for i in range(jnp.ndim(x)))
        z = standardize(x, axis, epsilon=epsilon)
        if center and scale:
            return gamma[ed] * z + beta[ed]
        if center:
            return z + beta[ed]
        if scale:
            return gamma[ed] * z
        return z

    return init_fun, apply_fun


def elementwise(fun, **fun_kwargs):
    """A parameterless layer applying ``fun(inputs, **fun_kwargs)``.

    >>> import numpy as np
    >>> elementwise(np.negative)[1]((), np.array([1.0]))
    array([-1.])
    """
    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        return fun(inputs, **fun_kwargs)

    return init_fun, apply_fun


Tanh = elementwise(jnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(jnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


def _pooling_layer(reducer, init_val, rescaler=None):
    def PoolingLayer(window_shape, strides=None, padding="VALID", spec=None):
        """A pooling layer over the spatial axes (``spec``, e.g. 'NHWC', names the layout;
        by default batch first and channels last)."""
        window_shape = tuple(window_shape)
        strides = tuple(strides or (1,) * len(window_shape))
        rescale = rescaler(window_shape, strides, padding) if rescaler else None
        if spec is None:
            non_spatial_axes = 0, len(window_shape) + 1
        else:
            non_spatial_axes = spec.index("N"), spec.index("C")
        for i in sorted(non_spatial_axes):
            window_shape = window_shape[:i] + (1,) + window_shape[i:]
            strides = strides[:i] + (1,) + strides[i:]

        def init_fun(rng, input_shape):
            pads = lax.padtype_to_pads(input_shape, window_shape, strides, padding)
            ones_ = (1,) * len(window_shape)
            return lax.reduce_window_shape_tuple(input_shape, window_shape, strides, pads,
                                                 ones_, ones_), ()

        def apply_fun(params, inputs, **kwargs):
            out = lax.reduce_window(inputs, init_val, reducer, window_shape, strides, padding)
            return rescale(out, inputs, spec) if rescale else out

        return init_fun, apply_fun

    return PoolingLayer


def _normalize_by_window_size(dims, strides, padding):
    def rescale(outputs, inputs, spec):
        if spec is None:
            non_spatial_axes = 0, inputs.ndim - 1
        else:
            non_spatial_axes = spec.index("N"), spec.index("C")
        spatial_shape = tuple(inputs.shape[i] for i in range(inputs.ndim)
                              if i not in non_spatial_axes)
        one = jnp.ones(spatial_shape, dtype=inputs.dtype)
        # the number of (unpadded) inputs in each window
        window_sizes = lax.reduce_window(one, 0.0, lax.add, dims, strides, padding)
        for i in sorted(non_spatial_axes):
            window_sizes = jnp.expand_dims(window_sizes, i)
        return outputs / window_sizes

    return rescale


_max_pool = _pooling_layer(lax.max, -jnp.inf)
_sum_pool = _pooling_layer(lax.add, 0.0)
_avg_pool = _pooling_layer(lax.add, 0.0, _normalize_by_window_size)


def MaxPool(window_shape, strides=None, padding="VALID", spec=None):
    """Maximum over windows of the spatial axes (``spec`` names the layout, e.g. 'NHWC';
    by default batch first and channels last).

    >>> import numpy as np
    >>> MaxPool((2,))[1]((), np.array([[[1.0], [3.0], [2.0]]]))[0, :, 0]
    array([3., 3.])
    """
    return _max_pool(window_shape, strides, padding, spec)


def SumPool(window_shape, strides=None, padding="VALID", spec=None):
    """Sum over windows of the spatial axes (as ``MaxPool``).

    >>> import numpy as np
    >>> SumPool((2,))[1]((), np.array([[[1.0], [3.0], [2.0]]]))[0, :, 0]
    array([4., 5.])
    """
    return _sum_pool(window_shape, strides, padding, spec)


def AvgPool(window_shape, strides=None, padding="VALID", spec=None):
    """Mean over windows of the spatial axes (padding excluded from the count).

    >>> import numpy as np
    >>> AvgPool((2,), padding="SAME")[1]((), np.array([[[1.0], [3.0], [2.0]]]))[0, :, 0]
    array([2. , 2.5, 2. ])
    """
    return _avg_pool(window_shape, strides, padding, spec)


def _flatten():
    def init_fun(rng, input_shape):
        return (input_shape[0], math.prod(input_shape[1:])), ()

    def apply_fun(params, inputs, **kwargs):
        return jnp.reshape(inputs, (inputs.shape[0], -1))

    return init_fun, apply_fun


Flatten = _flatten()
Identity = elementwise(lambda x: x)


def FanOut(num):
    """A layer sending its input to ``num`` branches (a list of ``num`` inputs).

    >>> FanOut(2)[1]((), 1.0)
    [1.0, 1.0]
    """
    def init_fun(rng, input_shape):
        return [input_shape] * num, ()

    def apply_fun(params, inputs, **kwargs):
        return [inputs] * num

    return init_fun, apply_fun


def _fan_in_sum():
    def init_fun(rng, input_shape):
        return input_shape[0], ()

    def apply_fun(params, inputs, **kwargs):
        return sum(inputs)

    return init_fun, apply_fun


FanInSum = _fan_in_sum()


def FanInConcat(axis=-1):
    """A layer concatenating a list of inputs along ``axis``.

    >>> import numpy as np
    >>> FanInConcat()[1]((), [np.ones((1, 2)), np.zeros((1, 1))])
    array([[1., 1., 0.]])
    """
    def init_fun(rng, input_shape):
        ax = axis % len(input_shape[0])
        size = sum(shape[ax] for shape in input_shape)
        return tuple(input_shape[0][:ax]) + (size,) + tuple(input_shape[0][ax + 1:]), ()

    def apply_fun(params, inputs, **kwargs):
        return jnp.concatenate(inputs, axis)

    return init_fun, apply_fun


def Dropout(rate, mode="train"):
    """Dropout in ``mode='train'``, the identity otherwise. As in JAX's stax, ``rate`` is
    the probability of *keeping* an input (kept inputs are divided by it); ``apply_fun``
    needs ``rng=key``.

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = Dropout(0.5)
    >>> y = apply_fun((), np.ones(1000), rng=xform.random.PRNGKey(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.get("rng", None)
        if rng is None:
            raise ValueError("Dropout layer requires apply_fun to be called with a PRNG key "
                             "argument: apply_fun(params, inputs, rng=key), with key e.g. "
                             "from xform.random.key.")
        if mode == "train":
            keep = random.bernoulli(rng, rate, inputs.shape)
            return jnp.where(keep, inputs / rate, 0)
        return inputs

    return init_fun, apply_fun


def serial(*layers):
    """The composition of ``layers`` (each an ``(init_fun, apply_fun)`` pair), applied in
    order; ``params`` is the list of the layers' parameters.

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = serial(Dense(2), Tanh)
    >>> shape, params = init_fun(xform.random.PRNGKey(1), (3, 5))
    >>> shape, len(params)
    ((3, 2), 2)
    """
    nlayers = len(layers)
    init_funs, apply_funs = zip(*layers)

    def init_fun(rng, input_shape):
        params = []
        for init in init_funs:
            rng, layer_rng = random.split(rng)
            input_shape, param = init(layer_rng, input_shape)
            params.append(param)
        return input_shape, params

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.pop("rng", None)
        rngs = random.split(rng, nlayers) if rng is not None else (None,) * nlayers
        for fun, param, r in zip(apply_funs, params, rngs):
            inputs = fun(param, inputs, rng=r, **kwargs)
        return inputs

    return init_fun, apply_fun


def parallel(*layers):
    """Layers side by side: a sequence of inputs, one per layer, gives the list of their
    outputs (with ``FanOut`` and ``FanInSum``/``FanInConcat`` for branches).

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = serial(FanOut(2), parallel(Identity, Tanh), FanInSum)
    >>> shape, params = init_fun(xform.random.PRNGKey(0), (2,))
    >>> apply_fun(params, np.array([0.0, 1.0])).round(4)
    array([0.    , 1.7616])
    """
    nlayers = len(layers)
    init_funs, apply_funs = zip(*layers)

    def init_fun(rng, input_shape):
        rngs = random.split(rng, nlayers)
        return zip(*[init(r, shape) for init, r, shape in zip(init_funs, rngs, input_shape)])

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.pop("rng", None)
        rngs = random.split(rng, nlayers) if rng is not None else (None,) * nlayers
        return [f(p, x, rng=r, **kwargs) for f, p, x, r in zip(apply_funs, params, inputs, rngs)]

    return init_fun, apply_fun


def shape_dependent(make_layer):
    """A layer built by ``make_layer(input_shape)`` once the input shape is known.

    >>> import numpy as np, xform
    >>> init_fun, apply_fun = shape_dependent(lambda shape: Dense(shape[-1]))
    >>> init_fun(xform.random.PRNGKey(0), (1, 3))[0]
    (1, 3)
    """
    def init_fun(rng, input_shape):
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params, inputs, **kwargs):
        return make_layer(inputs.shape)[1](params, inputs, **kwargs)

    return init_fun, apply_fun

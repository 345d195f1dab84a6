"""Lowering of ``fft_p``: Numba has no FFT, so the kernel calls ``numpy.fft`` (the
primitive's own impl) through an object-mode block, with the callback machinery of
``callbacks.py`` (one registered function per transform type and lengths). The call
takes the GIL for the duration of the transform; the rest of the kernel stays compiled.
"""
from __future__ import annotations

import functools

from ...lax.fft import _fft_impl, fft_p
from .callbacks import emit_call, register
from .rules import rule


@functools.lru_cache(maxsize=None)
def _runner(fft_type, fft_lengths):
    # one function object per transform: ``register`` keys on its identity
    def run(x):
        return (_fft_impl(x, fft_type=fft_type, fft_lengths=fft_lengths),)

    run.__name__ = f"fft_{fft_type.name.lower()}"
    return run


@rule(fft_p)
def _fft(em, eqn, ins):
    out_aval = eqn.outvars[0].aval
    number = register(_runner(eqn.params["fft_type"], eqn.params["fft_lengths"]), (out_aval,),
                      (out_aval.dtype,))
    out = em.fresh("fft")
    emit_call(em, number, ins, [out], [out_aval])
    return [out]

"""What the Numba backend knows about primitives, keyed by the primitive objects.

The lowering rules of unfused primitives are registered in ``rules.py`` (``@rule(p)``);
elementwise primitives carry their scalar expression (``numba_scalar``) next to their
definition in ``xform.lax``. The facts below steer the passes; a completeness test
(``tests/test_registry.py``) checks that every key is a real primitive and that every
primitive of ``xform.lax`` can be lowered: elementwise ones by ``numba_scalar``, the
ones in REDUCERS, UNIT_RESHAPES, SHIFTED and FUSED_STRUCTURAL inside fused loop nests
(``fusion.py``, with a rule of their own in ``rules.py`` for the unfused cases), the
others by their rule.
"""
from __future__ import annotations

from ...lax import elementwise as ew
from ...lax import indexing as ix
from ...lax import reductions as rd
from ...lax import structural as st
from ...lax.call import jit_p
from ...lax.callbacks import debug_callback_p, pure_callback_p
from ...lax.checkpoint import checkpoint_p
from ...lax.control_flow import cond_p, scan_p, while_p
from ...lax.custom_derivatives import custom_jvp_call_p, custom_vjp_call_p
from ...lax.dot import dot_general_p
from ...lax import linalg as la
from ...lax import random_libm as rl
from ...lax import random_math as rm
from ...lax import random_math64 as r64
from ...lax.random_bits import random_bits_p, threefry2x32_p
from ...lax.solvers import linear_solve_p
from ...lax import windowed as wn
from ...lax.convolution import conv_general_dilated_p
from ...lax.fft import fft_p

#: Reductions fused into loop nests (an accumulator per output element).
REDUCERS = frozenset({st.reduce_sum_p, rd.reduce_max_p, rd.reduce_min_p, rd.reduce_prod_p,
                      rd.reduce_and_p, rd.reduce_or_p})

#: Shape changes that only insert or remove size-1 dims (free inside a loop nest).
UNIT_RESHAPES = frozenset({st.reshape_p, st.squeeze_p, st.expand_dims_p})

#: Structural primitives computed inside loop nests (a value per iteration point).
FUSED_STRUCTURAL = frozenset({st.broadcast_in_dim_p, st.iota_p, st.transpose_p})

#: Reads at shifted positions of their first operand (all operands for concatenate).
SHIFTED = frozenset({st.pad_p, st.concatenate_p, st.slice_p, st.rev_p})

#: Cheap enough to recompute at a shifted index instead of storing the value.
CHEAP = frozenset({
    ew.add_p, ew.add_any_p, ew.sub_p, ew.mul_p, ew.neg_p, ew.square_p, ew.integer_pow_p,
    ew.max_p, ew.min_p, ew.abs_p, ew.sign_p, ew.select_p, ew.convert_element_type_p, ew.div_p,
    ew.eq_p, ew.ne_p, ew.lt_p, ew.le_p, ew.gt_p, ew.ge_p, ew.and_p, ew.or_p, ew.not_p, ew.xor_p,
    st.broadcast_in_dim_p, st.transpose_p, st.reshape_p, st.squeeze_p, st.expand_dims_p,
    st.slice_p, st.rev_p, st.pad_p, st.concatenate_p, st.iota_p,
})

#: Lowerings that always write a new array (besides the elementwise primitives not in
#: MAYBE_IDENTITY): their outputs never alias their operands.
FRESH_OUTPUT = frozenset(REDUCERS | {
    la.cholesky_p, la.triangular_solve_p, la.lu_p, la.lu_pivots_to_permutation_p, la.qr_p,
    la.geqrf_p, la.eigh_p, la.svd_p, la.eig_p,
    fft_p,  # the object-mode call returns a new array (backend/numba/fft.py)
    rd.argmax_p, rd.argmin_p, rd.cumsum_p, rd.cumprod_p, rd.cummax_p, rd.cummin_p,
    dot_general_p, ix.gather_p, ix.scatter_add_p, ix.sort_p, ix.argsort_p, st.iota_p,
    ix.dynamic_update_slice_p, threefry2x32_p, random_bits_p, rm.log_f32_xla_p,
    rm.log1p_f32_xla_p, rm.erf_f32_xla_p, rm.erf_inv_f32_xla_p, rm.fma_f32_xla_p,
    rm.exp_f32_xla_p, r64.fma_f64_xla_p, r64.log1p_f64_xla_p, r64.exp_f64_xla_p,
    r64.erf_inv_f64_xla_p, rl.libm_log_p, rl.libm_erf_p, rl.libm_tan_p, rl.libm_pow_p,
    rd.cumlogsumexp_p, conv_general_dilated_p, wn.reduce_window_sum_p, wn.reduce_window_max_p,
    wn.reduce_window_min_p, wn.reduce_window_p, wn.select_and_gather_add_p,
    wn.select_and_scatter_add_p,
})

#: Elementwise primitives whose lowering can return the operand itself.
MAYBE_IDENTITY = frozenset({ew.convert_element_type_p, ew.stop_gradient_p})

#: Results that are float16 values already when the operands are (they move, select or
#: negate values); every other float16 result is rounded (``float16.py``).
FLOAT16_EXACT = frozenset({
    st.reshape_p, st.transpose_p, st.broadcast_in_dim_p, st.expand_dims_p, st.squeeze_p,
    st.rev_p, st.slice_p, st.pad_p, st.concatenate_p, ix.gather_p, ix.dynamic_slice_p,
    ix.dynamic_update_slice_p, ew.select_p, ew.neg_p, ew.abs_p, ew.max_p, ew.min_p,
    ew.clamp_p, ew.sign_p, ew.floor_p, ew.ceil_p, ew.round_p, ix.sort_p, rd.reduce_max_p,
    rd.reduce_min_p, rd.cummax_p, rd.cummin_p, ew.stop_gradient_p, ew.reduce_precision_p,
})

#: Never evaluated at compile time by constant folding (they hold programs or call Python).
NO_FOLD = frozenset({jit_p, cond_p, while_p, scan_p, custom_jvp_call_p, custom_vjp_call_p,
                     checkpoint_p, linear_solve_p,
                     # callbacks run user code when the program runs, not when it compiles
                     pure_callback_p, debug_callback_p})

#: Call-like primitives lowered by emitting their held program inline: the param that
#: holds it.
INLINED = {jit_p: "jaxpr", custom_jvp_call_p: "call_jaxpr", custom_vjp_call_p: "call_jaxpr",
           checkpoint_p: "jaxpr", linear_solve_p: "solve"}

#: Arithmetic that numba computes in its operands' type when every operand has the
#: result's dtype and that dtype is a float or complex type (``fusion.TYPE_CLOSED_DTYPES``):
#: the generated statement needs no cast (each cast is a call numba must type, ~2 ms of
#: compile time). The value is the dtype kinds it holds for: float division of complex
#: operands goes through ``runtime.cdiv``, which computes in complex128.
TYPE_CLOSED = {ew.add_p: "fc", ew.add_any_p: "fc", ew.sub_p: "fc", ew.mul_p: "fc",
               ew.neg_p: "fc", ew.square_p: "fc", ew.div_p: "f", ew.max_p: "f", ew.min_p: "f",
               ew.sqrt_p: "f", ew.abs_p: "f", ew.reciprocal_p: "f", ew.floor_p: "f",
               ew.ceil_p: "f", ew.round_p: "f", ew.cbrt_p: "f"}
# numpy's float functions, which numba computes in their operand's float type
TYPE_CLOSED.update({p: "f" for p in (
    ew.log1p_p, ew.expm1_p, ew.log_p, ew.exp_p, ew.sin_p, ew.cos_p, ew.tan_p, ew.tanh_p,
    ew.asin_p, ew.acos_p, ew.atan_p, ew.sinh_p, ew.cosh_p, ew.asinh_p, ew.acosh_p,
    ew.atanh_p)})

#: Selects (``runtime.select``): typed as their value operands (all but the predicate), so
#: the result needs no cast when those have the result's dtype.
TYPED_AS_VALUES = {ew.select_p}

#: Comparisons: numba's are bool for any operands, so the result needs no cast.
BOOL_VALUED = {ew.eq_p, ew.ne_p, ew.lt_p, ew.le_p, ew.gt_p, ew.ge_p}

#: Unary float primitives with a vectorizable implementation in ``vector_math.py``.
VECTOR_MATH = {ew.exp_p: "vexp", ew.log_p: "vlog", ew.tanh_p: "vtanh", ew.sin_p: "vsin",
               ew.cos_p: "vcos", ew.logistic_p: "vlogistic"}

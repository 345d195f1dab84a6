"""while_loop, fori_loop, scan and map: the ``while`` and ``scan`` primitives (see
``xform.lax.control_flow``)."""
from __future__ import annotations

import numpy as np

from ..._util import fun_name
from ...core.abstract import ShapedArray
from ...core.check import scan_signature, while_signature
from ...core.dtypes import result_type
from ...core.eval import eval_jaxpr
from ...core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from ...core.primitive import Primitive
from ...core.pytree import tree_flatten, tree_unflatten
from ...core.trace import Tracer, get_aval
from ...interpreters.jvp import Zero, instantiate
from ...interpreters.transforms import (
    batch_jaxpr,
    bcast_batch,
    dce_jaxpr,
    has_effects,
    is_linear_tracer,
    jvp_jaxpr,
    linearize_jaxpr,
    move_batch,
    run,
    tangent_aval,
    trace_flat,
    zeros_of,
)
from ...interpreters.transpose import UndefinedPrimal, backward_pass, is_undefined
from .common import (
    _lax,
    _promotable_carry,
    _same_type,
    _weak_int_to,
    _with_invars,
    coerce_outputs,
    signature,
    trace_fun,
)

# -- while_loop --------------------------------------------------------------------------

while_p = Primitive("while", multiple_results=True)

_WHILE_REVERSE_MSG = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
    "with dynamic start/stop values (the number of iterations is only known at run "
    "time, so the residuals of every iteration cannot be stored). Try using lax.scan, "
    "or lax.fori_loop with static (Python int) start/stop, or use forward mode "
    "(jvp, jacfwd).")


def _while_split(args, cond_nconsts, body_nconsts):
    cc = list(args[:cond_nconsts])
    bc = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    init = list(args[cond_nconsts + body_nconsts:])
    return cc, bc, init


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, carry = _while_split(args, cond_nconsts, body_nconsts)
    while bool(run(cond_jaxpr, *cc, *carry)[0]):
        carry = run(body_jaxpr, *bc, *carry)
    return coerce_outputs(carry, body_jaxpr.out_avals)


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    _, _, init = _while_split(avals, cond_nconsts, body_nconsts)
    for a, b in zip(init, body_jaxpr.out_avals):
        if not _same_type(a, b):
            raise TypeError(f"while_loop: carry type {a.str_short()} does not match the body "
                            f"output {b.str_short()}")
    return [ShapedArray(a.shape, a.dtype, a.weak_type and b.weak_type)
            for a, b in zip(init, body_jaxpr.out_avals)]


def _while_jvp(primals, tangents, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, init = _while_split(primals, cond_nconsts, body_nconsts)
    _, bct, initt = _while_split(tangents, cond_nconsts, body_nconsts)
    bc_nz = [type(t) is not Zero for t in bct]
    carry_nz = [type(t) is not Zero for t in initt]
    nk = len(init)
    for _ in range(nk + 1):
        _, out_nz = jvp_jaxpr(body_jaxpr, tuple(bc_nz + carry_nz))
        new = [a or b for a, b in zip(carry_nz, out_nz)]
        if new == carry_nz:
            break
        carry_nz = new
    if not any(carry_nz):
        outs = while_p.bind(*primals, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
        return outs, [Zero.like(o) for o in outs]
    bj, _ = jvp_jaxpr(body_jaxpr, tuple(bc_nz + carry_nz), tuple(carry_nz))
    # bj takes (bc, carry, bc_t, carry_t); the loop needs consts first: (bc, bc_t, carry, carry_t)
    nb, n_bt = len(bc), sum(bc_nz)
    inv = bj.jaxpr.invars
    p_bc, p_carry = inv[:nb], inv[nb:nb + nk]
    t_bc, t_carry = inv[nb + nk:nb + nk + n_bt], inv[nb + nk + n_bt:]
    body = _with_invars(bj, p_bc + t_bc + p_carry + t_carry)
    t_carry_avals = [tangent_aval(a) for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz]
    cinv = list(cond_jaxpr.jaxpr.invars) + [Var(a) for a in t_carry_avals]
    cj = _with_invars(cond_jaxpr, cinv)
    bct_nz = [t for t in bct if type(t) is not Zero]
    init_t = [instantiate(t, tangent_aval(get_aval(p)))
              for p, t, nz in zip(init, initt, carry_nz) if nz]
    joint = while_p.bind(*cc, *bc, *bct_nz, *init, *init_t, cond_jaxpr=cj, body_jaxpr=body,
                         cond_nconsts=cond_nconsts, body_nconsts=nb + n_bt)
    t_it = iter(joint[nk:])
    t_outs = [next(t_it) if nz else None for nz in carry_nz]
    if any(is_linear_tracer(t) for t in bct_nz + init_t):
        # Reverse mode (linearize): the primal result must not depend on the recorded
        # tangent program, so it comes from a separate primal loop. The joint loop in
        # the linear program evaluates forward but cannot be transposed.
        outs = while_p.bind(*primals, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
    else:
        outs = joint[:nk]
    return outs, [Zero.like(o) if t is None else t for o, t in zip(outs, t_outs)]


def _while_transpose(cts, *args, **params):
    raise ValueError(_WHILE_REVERSE_MSG)


def _while_batch(vals, dims, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, axis_size):
    lax = _lax()
    cc, bc, init = _while_split(vals, cond_nconsts, body_nconsts)
    ccd, bcd, initd = _while_split(dims, cond_nconsts, body_nconsts)
    cc = [move_batch(x, d, 0) for x, d in zip(cc, ccd)]
    bc = [move_batch(x, d, 0) for x, d in zip(bc, bcd)]
    ccd = [None if d is None else 0 for d in ccd]
    bcd = [None if d is None else 0 for d in bcd]
    nk = len(init)
    carry_b = [d is not None for d in initd]
    pred_b = False
    for _ in range(nk + 2):
        cdims = [0 if b else None for b in carry_b]
        _, out_b = batch_jaxpr(body_jaxpr, tuple(bcd + cdims), axis_size, tuple(carry_b))
        new = [a or b for a, b in zip(carry_b, out_b)]
        _, (pred_b,) = batch_jaxpr(cond_jaxpr, tuple(ccd + cdims), axis_size, (False,))
        if pred_b:
            new = [True] * nk
        if new == carry_b:
            break
        carry_b = new
    cdims = tuple(0 if b else None for b in carry_b)
    init = [move_batch(x, d, 0) if d is not None else (bcast_batch(x, axis_size) if b else x)
            for x, d, b in zip(init, initd, carry_b)]
    bj, _ = batch_jaxpr(body_jaxpr, tuple(bcd) + cdims, axis_size, tuple(carry_b))
    cj, _ = batch_jaxpr(cond_jaxpr, tuple(ccd) + cdims, axis_size, (False,))
    out_dims = [0 if b else None for b in carry_b]
    if not pred_b:
        outs = while_p.bind(*cc, *bc, *init, cond_jaxpr=cj, body_jaxpr=bj,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
        return outs, out_dims
    # Batched predicate: loop while any lane runs; finished lanes keep their carry.
    nc = len(cc)

    def new_cond(*args):
        p = run(cj, *args)[0]
        return [lax.reduce_or(p, (0,))]

    def new_body(*args):
        ccv, bcv, carry = args[:nc], args[nc:nc + len(bc)], args[nc + len(bc):]
        p = run(cj, *ccv, *carry)[0]
        new = run(bj, *bcv, *carry)
        out = []
        for n, c in zip(new, carry):
            shape = get_aval(c).shape
            pick = p if len(shape) == 1 else lax.broadcast_in_dim(p, shape, (0,))
            out.append(lax.select(pick, n, c))
        return out

    carry_avals = [get_aval(x) for x in init]
    cj2 = trace_flat(new_cond, cj.in_avals, "vmap")
    bj2 = trace_flat(new_body, list(cj.in_avals[:nc]) + list(bj.in_avals[:len(bc)]) + carry_avals,
                     "vmap")
    outs = while_p.bind(*cc, *cc, *bc, *init, cond_jaxpr=cj2, body_jaxpr=bj2,
                        cond_nconsts=nc, body_nconsts=nc + len(bc))
    return outs, [0] * nk


while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract
while_p.jvp = _while_jvp
while_p.transpose = _while_transpose
while_p.batch = _while_batch
while_p.batch_needs_size = True
while_p.check_signature = while_signature


def while_loop(cond_fun, body_fun, init_val):
    """``val = init_val; while cond_fun(val): val = body_fun(val); return val``.

    ``body_fun`` must return a value of the same structure and types as ``init_val``;
    ``cond_fun`` a boolean scalar. Differentiable in forward mode (jvp, jacfwd) only;
    for reverse mode use ``scan`` or ``fori_loop`` with static bounds.

    >>> from xform import lax
    >>> int(lax.while_loop(lambda i: lax.lt(i, 10), lambda i: lax.add(i, 3), 0))
    12
    """
    where = "while_loop"
    if not (callable(cond_fun) and callable(body_fun)):
        raise TypeError("while_loop: cond_fun and body_fun must be callables")
    leaves, in_tree = tree_flatten(init_val)
    avals = [get_aval(x, where) for x in leaves]
    carry_tree = in_tree
    for attempt in range(2):
        body, body_consts, body_tree = trace_fun(
            lambda c: body_fun(c), tree_flatten((init_val,))[1], avals, where)
        body_tree_ok = body_tree == carry_tree
        if body_tree_ok:
            fix = _promotable_carry(avals, body.out_avals)
            if fix and attempt == 0:
                leaves = [_weak_int_to(x, body.out_avals[i].dtype, "while_loop")
                          if i in fix else x for i, x in enumerate(leaves)]
                avals = [get_aval(x) for x in leaves]
                init_val = tree_unflatten(in_tree, leaves)
                continue
        if not body_tree_ok or any(not _same_type(a, b) for a, b in zip(avals, body.out_avals)):
            raise TypeError(
                f"while_loop: body_fun output and input must have identical types "
                f"(pytree structure, shapes and dtypes), got\n"
                f"  input carry (init_val): {signature(carry_tree, avals)}\n"
                f"  body_fun output:        {signature(body_tree, body.out_avals)}")
        break
    cond_j, cond_consts, cond_tree = trace_fun(lambda c: cond_fun(c), tree_flatten((init_val,))[1],
                                               avals, where)
    oa = cond_j.out_avals
    if len(oa) != 1 or oa[0].shape != () or oa[0].dtype != np.bool_:
        raise TypeError(
            f"while_loop: cond_fun must return a boolean scalar, but got output type(s) "
            f"{signature(cond_tree, oa)}.")
    outs = while_p.bind(*cond_consts, *body_consts, *leaves, cond_jaxpr=cond_j, body_jaxpr=body,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
    return tree_unflatten(carry_tree, outs)


# -- scan ----------------------------------------------------------------------------------

scan_p = Primitive("scan", multiple_results=True)


def _scan_split(args, num_consts, num_carry):
    return (list(args[:num_consts]), list(args[num_consts:num_consts + num_carry]),
            list(args[num_consts + num_carry:]))


def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    consts, carry, xs = _scan_split(args, num_consts, num_carry)
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, dtype=a.dtype) for a in y_avals]
    xs = [np.asarray(x) for x in xs]
    cj, cc = jaxpr.jaxpr, jaxpr.consts
    for k in range(length):
        i = length - 1 - k if reverse else k
        outs = eval_jaxpr(cj, cc, *consts, *carry, *[x[i] for x in xs])
        carry = outs[:num_carry]
        for y, o in zip(ys, outs[num_carry:]):
            y[i] = o
    carry = coerce_outputs(carry, jaxpr.out_avals[:num_carry])
    return carry + ys


def _scan_abstract(*avals, jaxpr, num_consts, num_carry, length, reverse, unroll):
    consts, carry, xs = _scan_split(avals, num_consts, num_carry)
    body_in = jaxpr.in_avals
    if len(body_in) != len(avals):
        raise TypeError(f"scan: the body takes {len(body_in)} operands, got {len(avals)}")
    for x, b in zip(xs, body_in[num_consts + num_carry:]):
        if x.shape[:1] != (length,) or not _same_type(ShapedArray(x.shape[1:], x.dtype), b):
            raise TypeError(f"scan: xs operand {x.str_short()} does not match length {length} "
                            f"and the body's slice type {b.str_short()}")
    out = []
    for a, b in zip(carry, jaxpr.out_avals[:num_carry]):
        if not _same_type(a, b):
            raise TypeError(f"scan: carry type {a.str_short()} does not match the body "
                            f"output {b.str_short()}")
        out.append(ShapedArray(a.shape, a.dtype, a.weak_type and b.weak_type))
    for y in jaxpr.out_avals[num_carry:]:
        out.append(ShapedArray((length,) + y.shape, y.dtype, y.weak_type))
    return out


def _invariant_vars(jaxpr: Jaxpr, n_invariant_inputs: int) -> set:
    """Ids of the variables that depend only on constants and the first inputs."""
    inv = {v.id for v in jaxpr.constvars}
    inv |= {v.id for v in jaxpr.invars[:n_invariant_inputs]}
    for eqn in jaxpr.eqns:
        if all(type(v) is Literal or v.id in inv for v in eqn.invars):
            inv.update(v.id for v in eqn.outvars)
    return inv


def _scan_jvp_programs(jaxpr: ClosedJaxpr, nc: int, nk: int, nz: tuple):
    """Primal body (also returning per-iteration residuals), hoisting program
    (loop-invariant residuals, from the consts) and tangent body. Memoized."""
    key = ("scan_jvp", nc, nk, nz)
    hit = jaxpr.cache.get(key)
    if hit is not None:
        return hit

    pclosed, tj, out_nz, n_out = linearize_jaxpr(jaxpr, nz)
    pj = pclosed.jaxpr
    res_vars = pj.outvars[n_out:]
    inv = _invariant_vars(pj, nc)
    in_pos = {v.id: k for k, v in enumerate(pj.invars)}
    kinds = []  # per residual: ("hoist", j) | ("xs", operand index) | ("stack", j)
    hoist_vars: list = []
    stack_vars: list = []
    for v in res_vars:
        if type(v) is Literal or v.id in inv:
            kinds.append(("hoist", len(hoist_vars)))
            hoist_vars.append(v)
        elif v.id in in_pos and in_pos[v.id] >= nc + nk:
            kinds.append(("xs", in_pos[v.id]))
        else:
            kinds.append(("stack", len(stack_vars)))
            stack_vars.append(v)
    primal_body = ClosedJaxpr(
        dce_jaxpr(Jaxpr(pj.constvars, pj.invars, pj.outvars[:n_out] + stack_vars, pj.eqns)),
        pclosed.consts)
    hoist = ClosedJaxpr(
        dce_jaxpr(Jaxpr(pj.constvars, pj.invars[:nc], hoist_vars,
                        [e for e in pj.eqns if all(v.id in inv for v in e.outvars)
                         and not has_effects(e)])),  # effects run in the loop
        pclosed.consts)
    const_nz, carry_nz = nz[:nc], nz[nc:nc + nk]
    xs_nz = nz[nc + nk:]
    in_avals = jaxpr.in_avals
    ct_avals = [tangent_aval(a) for a, z in zip(in_avals[:nc], const_nz) if z]
    kt_avals = [tangent_aval(a) for a, z in zip(in_avals[nc:nc + nk], carry_nz) if z]
    xt_avals = [tangent_aval(a) for a, z in zip(in_avals[nc + nk:], xs_nz) if z]
    xres = [k for k in kinds if k[0] != "hoist"]
    hoist_avals = [v.aval for v in hoist_vars]
    xres_avals = [in_avals[k[1]] if k[0] == "xs" else stack_vars[k[1]].aval for k in xres]
    out_avals = jaxpr.out_avals
    ys_nz = tuple(out_nz[nk:])
    nh, nct, nkt, nxr = len(hoist_avals), len(ct_avals), len(kt_avals), len(xres_avals)

    def tangent_body(*args):
        h = args[:nh]
        ct = args[nh:nh + nct]
        kt = args[nh + nct:nh + nct + nkt]
        xr = iter(args[nh + nct + nkt:nh + nct + nkt + nxr])
        xt = args[nh + nct + nkt + nxr:]
        res = [h[k[1]] if k[0] == "hoist" else next(xr) for k in kinds]
        touts = iter(run(tj, *res, *ct, *kt, *xt))
        full = [next(touts) if z else None for z in out_nz]
        carry_t = [zeros_of(tangent_aval(a)) if t is None else t
                   for t, a, z in zip(full[:nk], out_avals[:nk], carry_nz) if z]
        return carry_t + [t for t in full[nk:] if t is not None]

    tangent = trace_flat(tangent_body, hoist_avals + ct_avals + kt_avals + xres_avals + xt_avals,
                         "scan_jvp")
    result = dict(primal=primal_body, hoist=hoist, kinds=kinds, n_stack=len(stack_vars),
                  tangent=tangent, ys_nz=ys_nz, n_out=n_out)
    jaxpr.cache[key] = result
    return result


def _scan_jvp(primals, tangents, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    nz = [type(t) is not Zero for t in tangents]
    const_nz, carry_nz, xs_nz = _scan_split(nz, nc, nk)

    for _ in range(nk + 1):
        out_nz = linearize_jaxpr(jaxpr, tuple(const_nz + carry_nz + xs_nz))[2]
        new = [a or b for a, b in zip(carry_nz, out_nz[:nk])]
        if new == carry_nz:
            break
        carry_nz = new
    nz = tuple(const_nz + carry_nz + xs_nz)
    prog = _scan_jvp_programs(jaxpr, nc, nk, nz)
    params = dict(length=length, reverse=reverse, unroll=unroll)
    outs_all = scan_p.bind(*primals, jaxpr=prog["primal"], num_consts=nc, num_carry=nk, **params)
    n_out = prog["n_out"]
    outs, stacked = outs_all[:n_out], outs_all[n_out:]
    if not any(carry_nz) and not any(prog["ys_nz"]):
        return outs, [Zero.like(o) for o in outs]
    consts, init, xs = _scan_split(primals, nc, nk)
    hoisted = run(prog["hoist"], *consts)
    xres = [primals[k[1]] if k[0] == "xs" else stacked[k[1]] for k in prog["kinds"]
            if k[0] != "hoist"]
    ct = [t for t, z in zip(tangents[:nc], const_nz) if z]
    kt = [instantiate(t, tangent_aval(get_aval(p)))
          for p, t, z in zip(init, tangents[nc:nc + nk], carry_nz) if z]
    xt = [t for t, z in zip(tangents[nc + nk:], xs_nz) if z]
    touts = scan_p.bind(*hoisted, *ct, *kt, *xres, *xt, jaxpr=prog["tangent"],
                        num_consts=len(hoisted) + len(ct), num_carry=len(kt), **params)
    t_it = iter(touts)
    t_carry = [next(t_it) if z else Zero.like(o) for o, z in zip(outs[:nk], carry_nz)]
    t_ys = [next(t_it) if z else Zero.like(o) for o, z in zip(outs[nk:], prog["ys_nz"])]
    return outs, t_carry + t_ys


def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    consts, init, xs = _scan_split(args, nc, nk)
    c_lin = tuple(is_undefined(a) for a in consts)
    x_lin = tuple(is_undefined(a) for a in xs)
    ct_carry, ct_ys = list(cts[:nk]), list(cts[nk:])
    ys_nz = tuple(type(c) is not Zero for c in ct_ys)
    key = ("scan_transpose", nc, nk, c_lin, x_lin, ys_nz)
    tb = jaxpr.cache.get(key)
    in_avals, out_avals = jaxpr.in_avals, jaxpr.out_avals
    c_avals, k_avals, x_avals = _scan_split(in_avals, nc, nk)
    lc_avals = [tangent_aval(a) for a, lin in zip(c_avals, c_lin) if lin]
    if tb is None:
        rc_avals = [a for a, lin in zip(c_avals, c_lin) if not lin]
        rx_avals = [a for a, lin in zip(x_avals, x_lin) if not lin]
        kt_avals = [tangent_aval(a) for a in k_avals]
        y_avals = [tangent_aval(a) for a in out_avals[nk:]]
        yt_avals = [a for a, z in zip(y_avals, ys_nz) if z]
        n_rc, n_lc = len(rc_avals), len(lc_avals)
        n_yt = len(yt_avals)
        lx_avals = [tangent_aval(a) for a, lin in zip(x_avals, x_lin) if lin]

        def body(*a):
            rc = iter(a[:n_rc])
            acc = a[n_rc:n_rc + n_lc]
            ctk = list(a[n_rc + n_lc:n_rc + n_lc + nk])
            cty = iter(a[n_rc + n_lc + nk:n_rc + n_lc + nk + n_yt])
            rx = iter(a[n_rc + n_lc + nk + n_yt:])
            full = ([UndefinedPrimal(av) if lin else next(rc) for av, lin in zip(c_avals, c_lin)]
                    + [UndefinedPrimal(av) for av in k_avals]
                    + [UndefinedPrimal(av) if lin else next(rx) for av, lin in zip(x_avals, x_lin)])
            cts_out = ctk + [next(cty) if z else Zero(av) for av, z in zip(y_avals, ys_nz)]
            ct_in = backward_pass(jaxpr.jaxpr, jaxpr.consts, full, cts_out)
            ct_c, ct_k, ct_x = ct_in[:n_lc], ct_in[n_lc:n_lc + nk], ct_in[n_lc + nk:]
            lax = _lax()
            new_acc = [s if type(c) is Zero else lax.add_any(s, c) for s, c in zip(acc, ct_c)]
            return (new_acc + [instantiate(c, av) for c, av in zip(ct_k, kt_avals)]
                    + [instantiate(c, av) for c, av in zip(ct_x, lx_avals)])

        tb = trace_flat(body, rc_avals + lc_avals + kt_avals + yt_avals + rx_avals,
                        "scan_transpose")
        jaxpr.cache[key] = tb
    rc = [a for a, lin in zip(consts, c_lin) if not lin]
    rx = [a for a, lin in zip(xs, x_lin) if not lin]
    acc0 = [zeros_of(a) for a in lc_avals]
    ctk = [instantiate(c, tangent_aval(a)) for c, a in zip(ct_carry, k_avals)]
    cty = [c for c in ct_ys if type(c) is not Zero]
    n_lc = len(acc0)
    outs = scan_p.bind(*rc, *acc0, *ctk, *cty, *rx, jaxpr=tb, num_consts=len(rc),
                       num_carry=n_lc + nk, length=length, reverse=not reverse, unroll=unroll)
    acc, ct_init, ct_xs = outs[:n_lc], outs[n_lc:n_lc + nk], iter(outs[n_lc + nk:])
    acc_it = iter(acc)
    return ([next(acc_it) if lin else None for lin in c_lin] + list(ct_init)
            + [next(ct_xs) if lin else None for lin in x_lin])


def _scan_batch(vals, dims, jaxpr, num_consts, num_carry, length, reverse, unroll, axis_size):
    nc, nk = num_consts, num_carry
    consts, init, xs = _scan_split(vals, nc, nk)
    cd, kd, xd = _scan_split(dims, nc, nk)
    consts = [move_batch(x, d, 0) for x, d in zip(consts, cd)]
    xs = [move_batch(x, d, 1) for x, d in zip(xs, xd)]
    cdims = tuple(None if d is None else 0 for d in cd)
    xdims = tuple(None if d is None else 0 for d in xd)
    n_ys = len(jaxpr.out_avals) - nk
    carry_b = [d is not None for d in kd]
    for _ in range(nk + 1):
        kdims = tuple(0 if b else None for b in carry_b)
        _, out_b = batch_jaxpr(jaxpr, cdims + kdims + xdims, axis_size,
                                tuple(carry_b) + (False,) * n_ys)
        new = [a or b for a, b in zip(carry_b, out_b[:nk])]
        if new == carry_b:
            break
        carry_b = new
    kdims = tuple(0 if b else None for b in carry_b)
    bj, out_b = batch_jaxpr(jaxpr, cdims + kdims + xdims, axis_size,
                             tuple(carry_b) + (False,) * n_ys)
    init = [move_batch(x, d, 0) if d is not None else (bcast_batch(x, axis_size) if b else x)
            for x, d, b in zip(init, kd, carry_b)]
    outs = scan_p.bind(*consts, *init, *xs, jaxpr=bj, num_consts=nc, num_carry=nk,
                       length=length, reverse=reverse, unroll=unroll)
    out_dims = [0 if b else None for b in carry_b] + [1 if b else None for b in out_b[nk:]]
    return outs, out_dims


scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract
scan_p.jvp = _scan_jvp
scan_p.transpose = _scan_transpose
scan_p.batch = _scan_batch
scan_p.batch_needs_size = True
scan_p.check_signature = scan_signature


def scan(f, init, xs=None, length=None, reverse: bool = False, unroll=1):
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``, stacking the
    ``y``s (JAX's ``lax.scan``)::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, stack(ys)

    ``init``, ``xs`` and the outputs are pytrees; ``xs=None`` with ``length`` loops
    without inputs. ``f`` is traced once, so the program size does not depend on the
    length, and ``grad`` stores only per-iteration residuals.

    >>> import numpy as np; from xform import lax
    >>> carry, ys = lax.scan(lambda c, x: (lax.add(c, x), c), 0.0, np.arange(4.0))
    >>> carry, ys
    (np.float64(6.0), array([0., 0., 1., 3.]))
    """
    where = "scan"
    if not callable(f):
        raise TypeError("scan: f must be a callable")
    x_leaves, x_tree = tree_flatten(xs)
    x_avals = [get_aval(x, where) for x in x_leaves]
    lengths = set()
    for a in x_avals:
        if a.ndim == 0:
            raise ValueError(f"scan: xs leaves must have a leading axis to scan over, got a "
                             f"scalar {a.str_short()}")
        lengths.add(a.shape[0])
    if length is not None:
        length = int(length)
        if lengths and lengths != {length}:
            raise ValueError(f"scan: length={length} does not match the leading axis of xs "
                             f"(sizes {sorted(lengths)})")
    elif len(lengths) > 1:
        raise ValueError(f"scan: xs leaves have different leading axis sizes {sorted(lengths)}; "
                         f"all must share the scanned length. xs: {signature(x_tree, x_avals)}")
    elif not lengths:
        raise ValueError("scan: pass length= when xs is None (or has no leaves)")
    else:
        length = lengths.pop()
    slice_avals = [ShapedArray(a.shape[1:], a.dtype, a.weak_type) for a in x_avals]
    c_leaves, c_tree = tree_flatten(init)
    c_avals = [get_aval(x, where) for x in c_leaves]
    unroll = int(unroll) if not isinstance(unroll, bool) else (length if unroll else 1)
    args_tree = tree_flatten((init, xs))[1]

    def body(carry, x):
        out = f(carry, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"scan: f ({fun_name(f)}) must return a pair (carry, y), got "
                            f"{type(out).__name__}")
        return tuple(out)

    for attempt in range(2):
        closed, consts, out_tree = trace_fun(body, args_tree, c_avals + slice_avals, where)
        carry_out_tree, y_tree = out_tree.children
        n_c = carry_out_tree.num_leaves
        out_c_avals = closed.out_avals[:n_c]
        ok_tree = carry_out_tree == c_tree
        if ok_tree:
            fix = _promotable_carry(c_avals, out_c_avals)
            if fix and attempt == 0:
                c_leaves = [_weak_int_to(x, out_c_avals[i].dtype, "scan")
                            if i in fix else x for i, x in enumerate(c_leaves)]
                c_avals = [get_aval(x) for x in c_leaves]
                continue
        if not ok_tree or any(not _same_type(a, b) for a, b in zip(c_avals, out_c_avals)):
            raise TypeError(
                f"scan: the carry output of f ({fun_name(f)}) must have the same types as "
                f"the carry input (pytree structure, shapes and dtypes), got\n"
                f"  input carry (init): {signature(c_tree, c_avals)}\n"
                f"  output carry:       {signature(carry_out_tree, out_c_avals)}")
        break
    outs = scan_p.bind(*consts, *c_leaves, *x_leaves, jaxpr=closed, num_consts=len(consts),
                       num_carry=len(c_leaves), length=length, reverse=bool(reverse),
                       unroll=max(unroll, 1))
    carry = tree_unflatten(c_tree, outs[:len(c_leaves)])
    ys = tree_unflatten(y_tree, outs[len(c_leaves):])
    return carry, ys


def map(f, xs, *, batch_size: int | None = None):
    """``stack([f(x) for x in xs])`` over the leading axis of the pytree ``xs``, as one
    traced loop (a scan). With ``batch_size``, each step applies ``f`` vectorized (as
    ``vmap``) to ``batch_size`` elements, and a shorter remainder is done after the
    loop (JAX's trade-off between memory and speed).

    >>> import numpy as np; from xform import lax
    >>> lax.map(lambda x: lax.mul(x, x), np.arange(3.0))
    array([0., 1., 4.])
    >>> lax.map(lambda x: lax.mul(x, x), np.arange(5.0), batch_size=2)
    array([ 0.,  1.,  4.,  9., 16.])
    """
    if batch_size is None:
        _, ys = scan(lambda c, x: ((), f(x)), (), xs)
        return ys
    from ...interpreters.batching import batch_flat
    from ..structural import broadcast_in_dim, concatenate, moveaxis, reshape, slice_in_dim

    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"map of {fun_name(f)}: batch_size must be a positive int, got "
                         f"{batch_size!r}.")
    leaves, tree = tree_flatten(xs)
    if not leaves:
        raise ValueError(f"map of {fun_name(f)}: xs has no arrays to map over.")
    n = get_aval(leaves[0], "map").shape[0]

    def vectorized(batch_leaves, size):
        store = {}

        def flat(*ls):
            out, store["tree"] = tree_flatten(f(tree_unflatten(tree, list(ls))))
            return out

        outs, dims = batch_flat(flat, list(batch_leaves), [0] * len(batch_leaves), size,
                                name="map")
        res = [o if d == 0 else (moveaxis(o, d, 0) if d is not None else
                                 broadcast_in_dim(o, (size,) + get_aval(o).shape,
                                                  tuple(range(1, get_aval(o).ndim + 1))))
               for o, d in zip(outs, dims)]
        return res, store["tree"]

    if n == 0:  # nothing to batch: the plain scan gives the empty results
        return map(f, xs)
    bs = min(int(batch_size), n)
    nb, rem = divmod(n, bs)
    parts: list = []
    out_tree = tree_flatten(None)[1]  # replaced by the outputs' structure below
    if nb:
        main = [reshape(slice_in_dim(x, 0, nb * bs, 1, 0), (nb, bs) + get_aval(x).shape[1:])
                for x in leaves]
        trees = {}

        def body(c, batch):
            outs, trees["tree"] = vectorized(tree_flatten(batch)[0], bs)
            return c, outs

        _, ys = scan(body, (), main)
        out_tree = trees["tree"]
        parts.append([reshape(y, (nb * bs,) + get_aval(y).shape[2:]) for y in ys])
    if rem:
        outs, out_tree = vectorized([slice_in_dim(x, nb * bs, n, 1, 0) for x in leaves], rem)
        parts.append(outs)
    if len(parts) == 1:
        return tree_unflatten(out_tree, parts[0])
    return tree_unflatten(out_tree, [concatenate([a, b], 0) for a, b in zip(*parts)])


# -- fori_loop -------------------------------------------------------------------------


def _fori_body(body_fun, i, x):
    """``body_fun(i, x)``, checked against the carry's type here, so that a mismatch is
    reported in fori_loop's terms (not those of the scan or while_loop it becomes)."""
    new = body_fun(i, x)
    x_leaves, x_tree = tree_flatten(x)
    n_leaves, n_tree = tree_flatten(new)
    x_avals = [get_aval(v, "fori_loop") for v in x_leaves]
    n_avals = [get_aval(v, "fori_loop") for v in n_leaves]
    if x_tree == n_tree:
        fixable = set(_promotable_carry(x_avals, n_avals))  # a weak init takes the type
        if all(_same_type(a, b) or k in fixable
               for k, (a, b) in enumerate(zip(x_avals, n_avals))):
            return new
    raise TypeError(
        f"fori_loop: body_fun ({fun_name(body_fun)}) must return a value of the same type as "
        f"init_val (pytree structure, shapes and dtypes), got\n"
        f"  init_val:        {signature(x_tree, x_avals)}\n"
        f"  body_fun output: {signature(n_tree, n_avals)}\n"
        f"Cast the output (e.g. .astype(init_val.dtype)) or change init_val's dtype.")


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = init_val; for i in range(lower, upper): val = body_fun(i, val)``.

    With static (non-traced) bounds this is a ``scan`` of ``upper - lower`` steps, so it
    is reverse-differentiable; with traced bounds it is a ``while_loop``
    (forward-mode differentiable only).

    >>> from xform import lax
    >>> float(lax.fori_loop(0, 4, lambda i, x: lax.mul(x, 2.0), 1.0))
    16.0
    """
    lax = _lax()
    static = not isinstance(lower, Tracer) and not isinstance(upper, Tracer)
    for b in (lower, upper):
        a = get_aval(b, "fori_loop")
        if a.shape != () or a.dtype.kind not in "iu":
            raise TypeError(f"fori_loop: lower and upper must be integer scalars, got {a.str_short()}")
    dt = result_type(get_aval(lower), get_aval(upper))[0]
    if static:
        lo, hi = int(lower), int(upper)
        n = max(hi - lo, 0)
        info = np.iinfo(dt)
        if n and not (info.min <= lo and hi - 1 <= info.max):
            raise TypeError(
                f"fori_loop: the loop index has dtype {np.dtype(dt)} (from lower={lower!r}, "
                f"upper={upper!r}), which cannot hold every index in [{lo}, {hi}); give the "
                f"bounds a wider integer dtype.")

        def step(carry, _):
            i, x = carry
            return (lax.add(i, np.asarray(1, dt)[()]), _fori_body(body_fun, i, x)), None

        (_, out), _ = scan(step, (np.asarray(lo, dt)[()], init_val), None, length=n,
                           unroll=1 if unroll is None else unroll)
        return out
    lower, upper = [lax.convert_element_type(b, dt) if isinstance(b, Tracer)
                    else np.asarray(b, dt)[()] for b in (lower, upper)]

    def w_cond(c):
        return lax.lt(c[0], c[1])

    def w_body(c):
        i, u, x = c
        return lax.add(i, np.asarray(1, dt)[()]), u, _fori_body(body_fun, i, x)

    return while_loop(w_cond, w_body, (lower, upper, init_val))[2]


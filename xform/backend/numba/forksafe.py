"""Fork safety of compilation: a forked child starts with usable compiler locks.

``os.fork()`` copies only the calling thread. If another thread is compiling (a tiered
jit's background compilation, or a thread's first call), the child would inherit
Numba's compiler lock, xform's compile locks or llvmlite's lock around LLVM calls held
by a thread that does not exist there, and hang forever at its first compilation. So,
before a fork, the forking thread waits until no compilation (and no LLVM call) is under
way (at most ``config.fork_compile_wait()`` seconds, env ``XFORM_FORK_COMPILE_WAIT``,
default 60) and holds the locks across the fork; parent and child release them
afterwards. Each kernel's own lock (a thread may hold it around Numba's) is replaced in
the child, where no other thread exists.

If a compilation does not finish in time the fork proceeds (it is never blocked
indefinitely), and compiling in the child raises a clear ``RuntimeError``: Numba's
state there may be half-updated. Kernels compiled before the fork keep working, and a
tiered jit keeps running its function uncompiled.

The handlers are registered once, by ``xform/jit.py`` (at ``import xform``, so also
for a fork while this backend is being imported); it calls these functions when the
backend is loaded, and forgets pending background compilations in the child.
"""
from __future__ import annotations

import sys
import threading
import time

from . import cache as _cache

_STATE: dict = {"compile_lock": None, "compiled": None, "held": [], "missed": 0,
                "poisoned": None}


def install(compile_lock, compiled) -> None:
    """``compile_lock``: the backend's compile lock; ``compiled``: a WeakSet of the live
    ``Compiled`` objects (each has a ``_lock``)."""
    _STATE["compile_lock"], _STATE["compiled"] = compile_lock, compiled


def _locks() -> list:
    """The locks to hold across a fork, in the order compilations take them."""
    locks = [_STATE["compile_lock"]]
    cl = sys.modules.get("numba.core.compiler_lock")
    if cl is not None:
        locks.append(cl.global_compiler_lock._lock)
    locks.append(_cache._LOCK)
    # llvmlite's lock around every LLVM call, last (compilations take it inside the others):
    # a thread may call LLVM outside any compilation (reading a cache index, finalizing a
    # loaded kernel), and a child forked while it did hung at its first LLVM call
    ffi = sys.modules.get("llvmlite.binding.ffi")
    if ffi is not None:
        locks.append(ffi.lib._lock._lock)
    return locks


def check_can_compile(name: str) -> None:
    """Raise the clear error of a child forked during a compilation that did not end."""
    why = _STATE["poisoned"]
    if why is not None:
        raise RuntimeError(forked_mid_compile_message(name, why))


def forked_mid_compile_message(name: str, why: str) -> str:
    return (f"jit of {name}: this process was forked while another thread of its parent "
            f"was compiling ({why}), so the compiler's state here may be half-updated and "
            f"jit cannot compile in it (kernels compiled before the fork still run). Fork "
            f"before the first compilation, call xform.wait_for_compilations() before "
            f"forking, raise XFORM_FORK_COMPILE_WAIT, or use multiprocessing's 'spawn' or "
            f"'forkserver' start method.")


def before_fork(deadline: float) -> None:
    """Wait (until ``deadline``, a ``time.monotonic()`` value) for compilations under
    way, holding the locks across the fork."""
    if _STATE["compile_lock"] is None:
        return
    held, missed = [], 0
    for lock in _locks():
        if lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            held.append(lock)
        else:
            missed += 1
    _STATE["held"], _STATE["missed"] = held, missed


def after_fork_in_parent() -> None:
    for lock in reversed(_STATE["held"]):
        lock.release()
    _STATE["held"], _STATE["missed"] = [], 0


def after_fork_in_child(wait: float) -> None:
    missed = _STATE["missed"]
    after_fork_in_parent()
    for c in list(_STATE["compiled"] or ()):  # a thread that held one does not exist here
        c._lock = threading.Lock()
    if missed:
        _STATE["poisoned"] = f"still compiling after XFORM_FORK_COMPILE_WAIT={wait:g} s"

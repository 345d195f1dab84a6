"""Devices, as JAX code asks for them: ``xform.devices()``, ``device_put``, ``device_get``,
``default_backend``, ``process_index``...

xform computes on the CPU of the calling process only, with numpy and Numba, and its
arrays are numpy arrays in that process's memory. So there is exactly one device, a
``Device`` with ``platform == "cpu"``; placing an array on it (``device_put``) or
fetching it back (``device_get``) copies nothing and changes nothing. These functions
exist so that JAX programs, which call them routinely, run unchanged; asking for another
platform ("gpu", "tpu") is an error saying so.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from .core.array import as_array
from .core.pytree import tree_map
from .core.trace import Tracer

__all__ = ["Device", "devices", "local_devices", "device_count", "local_device_count",
           "default_backend", "device_put", "device_get", "default_device", "process_index",
           "process_count", "process_indices", "host_id", "host_count", "host_ids"]


class Device:
    """The one device: this process's CPU (JAX's ``CpuDevice(id=0)``).

    >>> import xform
    >>> d = xform.devices()[0]
    >>> d, d.platform, d.id
    (CpuDevice(id=0), 'cpu', 0)
    """

    __slots__ = ()
    id = 0
    platform = "cpu"
    device_kind = "cpu"
    process_index = 0
    host_id = 0
    task_id = 0
    local_hardware_id = None

    def __repr__(self) -> str:
        return "CpuDevice(id=0)"

    def __str__(self) -> str:
        return "cpu:0"

    def __eq__(self, other) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash("xform-cpu-device")


_CPU = Device()


def _check_backend(backend, where: str) -> None:
    name = getattr(backend, "platform", backend)
    if backend is not None and str(name).lower() != "cpu":
        raise RuntimeError(f"{where}: xform runs on the CPU only (Numba); backend {backend!r} "
                           f"is not available. Use 'cpu' or None.")


def devices(backend: Any = None) -> list[Device]:
    """All devices: the CPU.

    >>> import xform
    >>> xform.devices()
    [CpuDevice(id=0)]
    """
    _check_backend(backend, "devices")
    return [_CPU]


def local_devices(process_index: int | None = None, backend: Any = None,
                  host_id: int | None = None) -> list[Device]:
    """The devices of this process: the CPU.

    >>> import xform
    >>> xform.local_devices()
    [CpuDevice(id=0)]
    """
    _check_backend(backend, "local_devices")
    for name, idx in (("process_index", process_index), ("host_id", host_id)):
        if idx not in (None, 0):
            raise ValueError(f"local_devices: {name}={idx}, but xform has one process (0).")
    return [_CPU]


def device_count(backend: Any = None) -> int:
    """The number of devices: 1.

    >>> import xform
    >>> xform.device_count()
    1
    """
    _check_backend(backend, "device_count")
    return 1


def local_device_count(backend: Any = None) -> int:
    """The number of devices of this process: 1.

    >>> import xform
    >>> xform.local_device_count()
    1
    """
    _check_backend(backend, "local_device_count")
    return 1


def default_backend() -> str:
    """The platform computations run on: ``"cpu"``.

    >>> import xform
    >>> xform.default_backend()
    'cpu'
    """
    return "cpu"


def process_index(backend: Any = None) -> int:
    """This process's index among the processes of a multi-process run: 0 (xform runs in
    one process).

    >>> import xform
    >>> xform.process_index(), xform.process_count()
    (0, 1)
    """
    _check_backend(backend, "process_index")
    return 0


def process_count(backend: Any = None) -> int:
    """The number of processes: 1.

    >>> import xform
    >>> xform.process_count()
    1
    """
    _check_backend(backend, "process_count")
    return 1


def process_indices(backend: Any = None) -> list[int]:
    """The indices of all processes: ``[0]``.

    >>> import xform
    >>> xform.process_indices()
    [0]
    """
    _check_backend(backend, "process_indices")
    return [0]


host_id = process_index  # JAX's older names
host_count = process_count
host_ids = process_indices


def _check_device(device, where: str) -> None:
    if device is None or isinstance(device, Device):
        return
    name = getattr(device, "platform", None)
    if name is not None and str(name).lower() == "cpu":
        return  # a sharding or device object of another library naming the CPU
    raise ValueError(f"{where}: xform has one device, the CPU (xform.devices()[0]); got "
                     f"{device!r}.")


def device_put(x: Any, device: Any = None, *, src: Any = None, donate: Any = False,
               may_alias: Any = None) -> Any:
    """``x`` (a pytree of arrays) "placed on" the CPU: array leaves become
    ``xform.Array`` objects (no copy; numbers become 0-d arrays); traced values pass through.
    ``device`` may be None, the device or a CPU sharding.

    >>> import numpy as np, xform
    >>> xform.device_put({"w": np.ones(2)}, xform.devices()[0])
    {'w': array([1., 1.])}
    """
    _check_device(device, "device_put")

    def put(leaf):
        if isinstance(leaf, Tracer):
            return leaf
        return as_array(np.asarray(leaf))

    return tree_map(put, x)


def device_get(x: Any) -> Any:
    """``x`` (a pytree of arrays) as numpy arrays "on the host": plain ``numpy.ndarray`` objects
    and numpy scalars (JAX's ``device_get``); other leaves are returned unchanged.

    >>> import xform, xform.numpy as xnp
    >>> type(xform.device_get(xnp.ones(2))).__name__
    'ndarray'
    """
    def get(leaf):
        if isinstance(leaf, Tracer):
            raise TypeError("device_get: got a traced value (inside a transformation); "
                            "device_get is for concrete results.")
        if isinstance(leaf, np.ndarray):
            return leaf.view(np.ndarray)
        return leaf

    return tree_map(get, x)


@contextlib.contextmanager
def default_device(device: Any) -> Iterator[None]:
    """Context manager (JAX's ``jax.default_device``): computations already run on the
    only device, the CPU; another device is an error.

    >>> import xform
    >>> with xform.default_device(xform.devices()[0]):
    ...     pass
    """
    _check_device(device, "default_device")
    yield


# JAX's device-related methods of arrays, on xform.Array (installed here, with the
# device they name): every array is on the CPU device, whole.

def _array_devices(self) -> set:
    return {_CPU}


def _copy_to_host_async(self) -> None:
    return None


def _addressable_data(self, index: int):
    if index != 0:
        raise IndexError(f"addressable_data: the array has one shard (index 0), got {index}.")
    return self


def _install_array_methods() -> None:
    from .core.array import Array

    Array.devices = _array_devices
    Array.copy_to_host_async = _copy_to_host_async
    Array.addressable_data = _addressable_data
    Array.is_fully_addressable = property(lambda self: True)
    Array.is_fully_replicated = property(lambda self: True)


_install_array_methods()

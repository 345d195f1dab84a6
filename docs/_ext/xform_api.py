"""The API reference of the docs site, generated from the code at build time.

Every public namespace of xform gets a page (``api/<module>.rst``: the module's
docstring and an autosummary table) and every public name a stub
(``api/generated/<module>.<name>.rst``) that autodoc fills from its docstring. Nothing
is listed by hand, so a name added to a module appears in the reference at the next
build. The same functions are used by ``tests/test_docs.py`` to fail when a public
name has no docstring (or no example) or no reference entry.

Which modules are public: every module of the package whose dotted name has no part
starting with ``_``, except the layers below the API (``INTERNAL``). Which names are
public in a module: its ``__all__``; without one, every attribute not starting with
``_`` that is not a module and is defined by xform, numpy or builtins (so imported
helpers such as ``typing.Any`` are not listed).

This module imports no Sphinx at top level: the test suite uses it without Sphinx.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import types

import numpy as np

# The layers below the API and the modules whose names the API re-exports: not
# namespaces a user imports (docs/architecture.md describes them).
INTERNAL = ("xform.core", "xform.interpreters", "xform.backend", "xform.ad", "xform.api_util",
            "xform.callbacks", "xform.jit", "xform.vmap", "xform.lax.")
# ... except these submodules of internal prefixes, which mirror a JAX namespace.
PUBLIC_SUBMODULES = ("xform.lax.linalg",)

# Modules without ``__all__`` whose other public-looking attributes are internal helpers
# (xform.config's code-generation switches are functions read at compile time; its
# docstring, shown on its page, documents every setting).
PUBLIC_OVERRIDES = {"xform.config": ("update",)}

# Data values defined by xform (not numpy's constants, not primitives) have no
# docstring of their own: their one-paragraph description lives here.
DATA_DOCS = {
    "xform.float0": (
        "The dtype of tangents and cotangents of integer and boolean values (JAX's "
        "``jax.dtypes.float0``): an empty structured dtype, so a ``float0`` array holds "
        "no data. ``grad(f, allow_int=True)`` returns ``float0`` zeros for integer "
        "arguments, and ``jvp``/``vjp`` accept or return them where a tangent of an "
        "integer value is needed.\n\n"
        ">>> import numpy as np, xform\n"
        ">>> xform.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)[1].dtype"
        "\ndtype([('float0', 'V')])"),
    "xform.numpy.mgrid": (
        "Dense multi-dimensional grids, as ``numpy.mgrid``: ``mgrid[0:2, 0:3]`` is two "
        "(2, 3) arrays of row and column indices; a complex step gives a number of "
        "points.\n\n>>> import xform.numpy as xnp\n>>> xnp.mgrid[0:2, 0:2]\n"
        "array([[[0, 0],\n        [1, 1]],\n<BLANKLINE>\n       [[0, 1],\n        [0, 1]]])"),
    "xform.numpy.ogrid": (
        "Open (broadcastable) grids, as ``numpy.ogrid``.\n\n>>> import xform.numpy as xnp\n"
        ">>> [g.shape for g in xnp.ogrid[0:2, 0:3]]\n[(2, 1), (1, 3)]"),
    "xform.numpy.r_": (
        "Concatenation along the first axis by index syntax, as ``numpy.r_``.\n\n"
        ">>> import xform.numpy as xnp\n>>> xnp.r_[[1, 2], 0, [3]]\narray([1, 2, 0, 3])"),
    "xform.numpy.c_": (
        "Stacking as columns by index syntax, as ``numpy.c_``.\n\n"
        ">>> import xform.numpy as xnp\n>>> xnp.c_[[1, 2], [3, 4]].shape\n(2, 2)"),
    "xform.numpy.s_": (
        "A slice object from index syntax, as ``numpy.s_``.\n\n>>> import xform.numpy as xnp\n"
        ">>> xnp.s_[1:3]\nslice(1, 3, None)"),
    "xform.numpy.index_exp": (
        "A tuple of index objects from index syntax, as ``numpy.index_exp``.\n\n"
        ">>> import xform.numpy as xnp\n>>> xnp.index_exp[1:3]\n(slice(1, 3, None),)"),
    "xform.dtypes.float0": (
        "``xform.float0`` (JAX's ``jax.dtypes.float0``): the dtype of tangents of integer "
        "and boolean values.\n\n>>> from xform import dtypes\n>>> dtypes.float0\n"
        "dtype([('float0', 'V')])"),
    "xform.typing.ArrayLike": (
        "The annotation of values xform's functions accept as arrays: ``xform.Array``, "
        "numpy arrays and scalars, Python numbers (JAX's ``jax.typing.ArrayLike``).\n\n"
        ">>> import numpy as np, xform\n>>> isinstance(np.ones(2), xform.typing.ArrayLike)\n"
        "True"),
    "xform.typing.DTypeLike": (
        "The annotation of values accepted as dtypes: names, numpy dtypes and scalar types, "
        "objects with a ``dtype`` (JAX's ``jax.typing.DTypeLike``).\n\n"
        ">>> import numpy as np, xform\n>>> isinstance('float32', xform.typing.DTypeLike)\n"
        "True"),
    "xform.tree_util.default_registry": (
        "The registry of pytree node types (JAX's ``default_registry``), for membership "
        "tests; register types with the ``register_*`` functions.\n\n>>> import xform\n"
        ">>> dict in xform.tree_util.default_registry\nTrue"),
}


def _is_internal(modname: str) -> bool:
    if modname in PUBLIC_SUBMODULES:
        return False
    return any(modname == p or modname.startswith(p if p.endswith(".") else p + ".")
               for p in INTERNAL)


def namespaces() -> list[str]:
    """The public modules of xform, ``xform`` first, then in alphabetical order."""
    import xform

    found = []
    for info in pkgutil.walk_packages(xform.__path__, "xform."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if not _is_internal(info.name):
            found.append(info.name)
    return ["xform"] + sorted(found)


def _defined_in(obj) -> str:
    mod = getattr(obj, "__module__", None) if (inspect.isclass(obj) or inspect.isroutine(obj)) \
        else type(obj).__module__
    return mod or ""


def _looks_public(obj) -> bool:
    if isinstance(obj, types.ModuleType):
        return False
    mod = _defined_in(obj)
    return mod == "builtins" or mod.split(".")[0] in ("xform", "numpy")


def public_names(modname: str) -> list[str]:
    """The public names of one namespace, sorted (case-insensitively)."""
    mod = importlib.import_module(modname)
    if modname in PUBLIC_OVERRIDES:
        names = list(PUBLIC_OVERRIDES[modname])
    elif hasattr(mod, "__all__"):
        names = [n for n in mod.__all__ if not isinstance(getattr(mod, n, None), types.ModuleType)]
    else:
        names = [n for n, v in vars(mod).items() if not n.startswith("_") and _looks_public(v)]
    return sorted(set(names), key=lambda n: (n.lower(), n))


def _own_doc(obj) -> str:
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__") or ""
    return inspect.getdoc(obj) or ""


def _is_numpy_reexport(name: str, obj) -> bool:
    ref = getattr(np, name, "no such name")
    if ref is obj:
        return True
    return isinstance(obj, float) and isinstance(ref, float) and (ref == obj or (ref != ref and obj != obj))


def kind(modname: str, name: str) -> str:
    """How a public name is documented: ``function``, ``class``, ``primitive``,
    ``numpy`` (numpy's own object or constant, re-exported), ``data`` (described in
    ``DATA_DOCS``) or ``unknown`` (no way to document it: a test failure)."""
    from xform.core.primitive import Primitive

    obj = getattr(importlib.import_module(modname), name)
    if isinstance(obj, Primitive):
        return "primitive"
    if _is_numpy_reexport(name, obj) or (obj is None and name == "newaxis"):
        return "numpy"
    if f"{modname}.{name}" in DATA_DOCS:
        return "data"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "unknown"


def problems(modname: str) -> list[str]:
    """What stops the names of one namespace from having a full reference entry: no
    docstring, a function without a ``>>>`` example, a value with no description."""
    mod = importlib.import_module(modname)
    out = []
    if not (mod.__doc__ or "").strip():
        out.append(f"{modname}: the module has no docstring (its reference page shows it)")
    for name in public_names(modname):
        full = f"{modname}.{name}"
        if not hasattr(mod, name):
            out.append(f"{full}: listed in __all__ but not defined")
            continue
        k = kind(modname, name)
        obj = getattr(mod, name)
        if k == "unknown":
            out.append(f"{full}: a public value ({type(obj).__name__}) with no description: "
                       "make it private, leave it out of __all__, or describe it in "
                       "docs/_ext/xform_api.py: DATA_DOCS")
        elif k in ("function", "class"):
            doc = _own_doc(obj)
            if not doc.strip():
                out.append(f"{full}: no docstring")
            elif k == "function" and ">>>" not in doc:
                out.append(f"{full}: the docstring has no runnable '>>>' example")
    return out


# -- writing the pages ------------------------------------------------------------------

def _title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}\n"


def _stub(modname: str, name: str, index: bool = True) -> str:
    k = kind(modname, name)
    obj = getattr(importlib.import_module(modname), name)
    head = _title(f"{modname}.{name}") + f"\n.. currentmodule:: {modname}\n\n"
    if k == "function":
        return head + f".. autofunction:: {name}\n"
    if k == "class":
        # a class re-exported by several namespaces is indexed once (autodoc also
        # registers it under its defining module's name, which must not repeat)
        return head + f".. autoclass:: {name}\n   :members:\n" + ("" if index else "   :no-index:\n")
    if k == "primitive":
        return head + (f".. py:data:: {name}\n\n   The primitive ``{obj.name}``: the operation "
                       "this namespace's functions add to a jaxpr, with its rules (evaluation, "
                       "shape, JVP, transpose, batching) as attributes. See :doc:`/architecture` "
                       "for primitives and how to add one.\n")
    if k == "numpy":
        what = "class" if inspect.isclass(obj) else "data"
        value = "" if what == "class" else f"   :value: {obj!r}\n"
        return head + (f".. py:{what}:: {name}\n{value}\n   numpy's ``numpy.{name}``, re-exported "
                       f"unchanged: ``{modname}.{name} is numpy.{name}``"
                       + (" (numpy's value)" if what == "data" else "") + ".\n")
    if k == "data":
        body = DATA_DOCS[f"{modname}.{name}"].replace("\n", "\n   ")
        return head + f".. py:data:: {name}\n   :value: {obj!r}\n\n   {body}\n"
    return head + f".. py:data:: {name}\n"


def _page(modname: str, names: list[str]) -> str:
    text = _title(modname) + f"\n.. automodule:: {modname}\n   :no-members:\n\n"
    if names:
        text += (f".. currentmodule:: {modname}\n\n.. autosummary::\n   :toctree: generated\n"
                 "   :nosignatures:\n\n" + "".join(f"   {n}\n" for n in names))
    else:
        text += "This namespace has no public names yet.\n"
    return text


def _write_if_changed(path: str, text: str) -> None:
    # unchanged files keep their time stamps, so an incremental build rereads nothing
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(srcdir: str) -> list[str]:
    """Write ``api/<module>.rst`` and ``api/generated/<name>.rst`` under ``srcdir``,
    remove the stale ones, and return the namespaces."""
    api = os.path.join(srcdir, "api")
    gen = os.path.join(api, "generated")
    os.makedirs(gen, exist_ok=True)
    mods = namespaces()
    pages, stubs = set(), set()
    classes_seen: set[int] = set()
    for modname in mods:
        names = [n for n in public_names(modname) if hasattr(importlib.import_module(modname), n)]
        pages.add(f"{modname}.rst")
        _write_if_changed(os.path.join(api, f"{modname}.rst"), _page(modname, names))
        for name in names:
            stubs.add(f"{modname}.{name}.rst")
            obj = getattr(importlib.import_module(modname), name)
            index = not (inspect.isclass(obj) and id(obj) in classes_seen)
            if inspect.isclass(obj):
                classes_seen.add(id(obj))
            _write_if_changed(os.path.join(gen, f"{modname}.{name}.rst"),
                              _stub(modname, name, index))
    for folder, keep in ((api, pages), (gen, stubs)):
        for f in os.listdir(folder):
            if f.startswith("xform") and f.endswith(".rst") and f not in keep:
                os.remove(os.path.join(folder, f))
    return mods


def reference_entries(srcdir: str) -> set[str]:
    """The fully qualified names that have a stub under ``srcdir/api/generated``."""
    gen = os.path.join(srcdir, "api", "generated")
    if not os.path.isdir(gen):
        return set()
    return {f[:-len(".rst")] for f in os.listdir(gen) if f.endswith(".rst")}


_LITERAL = re.compile(r"``.*?``")


def escape_bars(lines: list[str]) -> None:
    """Escape ``|`` in the prose of a docstring, in place: docstrings write ``|x|`` for an
    absolute value, which reStructuredText reads as a substitution (a build error).
    Doctest blocks, literal blocks, tables and ````literal```` spans are left alone."""
    in_doctest = False
    literal_indent = None  # indentation of the paragraph that opened a ``::`` block
    prev = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                prev = line
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if not in_doctest and not stripped.startswith(("|", "+")) and "|" in line:
            parts = _LITERAL.split(line)
            spans = _LITERAL.findall(line)
            out = parts[0].replace("|", "\\|")
            for span, part in zip(spans, parts[1:]):
                out += span + part.replace("|", "\\|")
            lines[i] = out
        if stripped.endswith("::") and not in_doctest:
            literal_indent = indent
        prev = line
    del prev


def _on_docstring(app, what, name, obj, options, lines) -> None:
    escape_bars(lines)


def _on_builder_inited(app) -> None:
    generate(app.srcdir)


def setup(app):
    # before autosummary's own builder-inited handler (priority 500) reads the pages
    app.connect("builder-inited", _on_builder_inited, priority=100)
    app.connect("autodoc-process-docstring", _on_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

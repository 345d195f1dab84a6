"""The documentation site (docs/): every code block of every page runs and prints what
the page shows, every public name has a docstring and a reference entry, and, when
the ``docs`` extra is installed, the site builds with no warnings.

Code blocks (MyST Markdown fences) are run the way the build and a reader would:

- ``pycon`` blocks (``>>>`` examples) run with doctest, in one namespace per page shared
  by the page's ``pycon`` and ``python`` blocks in order (like a notebook), which starts
  with the page's prelude ``PRELUDE``; a printed output that differs fails.
- ``python`` blocks run in that namespace too (they print nothing that is checked).
- ``{plot}`` blocks are what matplotlib's plot directive runs during the build to draw
  the page's figures: here they run with the same rules (``conf.plot_pre_code`` in a
  fresh namespace, or the page's shared plot namespace with ``:context:``), every
  figure is drawn (Agg) and must have something on it.

Blocks in any other language (``text``, ``sh``, ...) are not run, and a block that
looks runnable but is not marked so (``>>>`` in a ``text`` block) fails. This runs
without Sphinx, so a page whose code no longer runs fails the suite everywhere.
"""
from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
CONF = os.path.join(DOCS, "conf.py")
sys.path.insert(0, os.path.join(DOCS, "_ext"))

import xform_api  # noqa: E402  (docs/_ext: the API reference generator)

PAGES = sorted(
    os.path.relpath(os.path.join(d, f), DOCS)
    for d, dirs, files in os.walk(DOCS)
    if not os.path.relpath(d, DOCS).startswith(("_build", "_ext", os.path.join("api", "generated")))
    for f in files if f.endswith(".md"))

RUN_DOCTEST = {"pycon"}
RUN_EXEC = {"python", "py", "python3"}
NOT_RUN = {"", "text", "sh", "bash", "console", "shell", "none", "ini", "toml", "json", "yaml",
           "{toctree}", "{eval-rst}", "{note}", "{warning}", "{tip}", "{important}", "{math}"}
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(.*)$")


def _conf_value(name: str):
    """A setting of docs/conf.py, read without running it (it imports Sphinx's config)."""
    src = open(CONF, encoding="utf-8").read()
    m = re.search(rf"^{name} = (.*)$", src, re.M)
    return eval(m.group(1), {})  # a literal string in conf.py


def blocks(page: str):
    """The fenced blocks of a page: (line, info, options, code), in order."""
    lines = open(os.path.join(DOCS, page), encoding="utf-8").read().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(2), m.group(3).strip(), i + 1
        j = start
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and set(lines[j].strip()) == {fence[0]}):
            j += 1
        body = lines[start:j]
        options = {}
        while body and re.match(r"^:[\w-]+:", body[0]):  # MyST directive options
            key, _, value = body.pop(0)[1:].partition(":")
            options[key] = value.strip()
        lang = info.split()[0] if info else ""
        out.append((start, lang, options, "\n".join(body)))
        i = j + 1
    return out


PRELUDE = "import numpy as np\nimport xform\nimport xform.numpy as xnp\nfrom xform import lax\n"


def _plot_figures(code: str, ns: dict, where: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ">>>" in code:  # the plot directive runs doctest-style plot code as a script
        code = doctest.script_from_examples(code)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, where, "exec"), ns)
    figs = [plt.figure(n) for n in plt.get_fignums()]
    assert figs, f"{where}: a {{plot}} block that draws no figure"
    for fig in figs:
        assert any(ax.has_data() or ax.images for ax in fig.axes), f"{where}: an empty figure"


def run_page(page: str) -> None:
    """Run every code block of a page; raise AssertionError naming the first failure."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the docs extra is not installed: run everything but the figures
        plt = None
    plots_not_run = 0
    ns = {"__name__": "__docs__"}
    exec(PRELUDE, ns)
    pre_code = _conf_value("plot_pre_code")
    plot_ns: dict = {}
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=FLAGS)
    for line, lang, options, code in blocks(page):
        where = f"docs/{page}:{line}"
        if lang in RUN_DOCTEST:
            test = parser.get_doctest(code, ns, where, where, line)
            out = io.StringIO()
            result = runner.run(test, out=out.write, clear_globs=False)
            ns = test.globs  # DocTest runs in a copy of the namespace: keep its names
            assert result.failed == 0, f"{where}: example failed\n{out.getvalue()}"
        elif lang in RUN_EXEC:
            exec(compile(code, where, "exec"), ns)
        elif lang == "{plot}" and plt is None:
            plots_not_run += 1
        elif lang == "{plot}":
            context = options.get("context")
            if context is None or context == "reset":
                plot_ns.clear()
            target = plot_ns if context is not None else {}
            if not target:
                exec(pre_code, target)
            plt.close("all")
            try:
                _plot_figures(code, target, where)
            finally:
                plt.close("all")
        else:
            assert lang in NOT_RUN, f"{where}: a ```{lang} block: use pycon, python or {{plot}} " \
                "(run by the tests) or a language that is not Python"
            assert ">>>" not in code, f"{where}: '>>>' in a ```{lang or 'plain'} block: use pycon"
    if plots_not_run:
        pytest.skip(f"docs/{page}: every block ran but {plots_not_run} {{plot}} blocks "
                    "(matplotlib is not installed: pip install -e '.[docs]')")


def test_pages_are_found():
    assert {"index.md", "quickstart.md", "autodiff_first_principles.md", "second_order.md",
            "style_transfer.md", "jit.md", "control_flow_vmap.md", "sharp_bits.md",
            "architecture.md", "autodiff.md", "performance.md", "api/index.md"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(page):
    run_page(page)


def test_a_broken_example_fails(tmp_path, monkeypatch):
    # the runner itself must catch a wrong printed output and a failing plot
    page = tmp_path / "broken.md"
    page.write_text("```pycon\n>>> 1 + 1\n3\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "DOCS", str(tmp_path))
    with pytest.raises(AssertionError, match="example failed"):
        run_page("broken.md")
    if importlib.util.find_spec("matplotlib") is not None:
        page.write_text("```{plot}\nplt.plot(undefined_name)\n```\n")
        with pytest.raises(NameError):
            run_page("broken.md")
    page.write_text("```text\n>>> 1 + 1\n2\n```\n")
    with pytest.raises(AssertionError, match="use pycon"):
        run_page("broken.md")


def test_every_page_is_in_the_site():
    """Every page is reachable from the entry page's table of contents."""
    toc_targets = set()
    for page in PAGES:
        for _line, lang, _options, code in blocks(page):
            if lang == "{toctree}":
                base = os.path.dirname(page)
                for entry in code.splitlines():
                    entry = entry.strip()
                    if entry and not entry.startswith(":"):
                        toc_targets.add(os.path.normpath(os.path.join(base, entry)))
    missing = [p for p in PAGES if p != "index.md" and p[:-3] not in toc_targets]
    assert not missing, f"pages in no toctree: {missing}"


# -- the API reference ------------------------------------------------------------------

NAMESPACES = xform_api.namespaces()


def test_namespaces_include_the_public_api():
    assert {"xform", "xform.numpy", "xform.lax", "xform.tree_util", "xform.numpy.linalg",
            "xform.debug", "xform.tree"} <= set(NAMESPACES)
    # the layers below the API are not namespaces a user imports
    assert not [m for m in NAMESPACES if m.startswith(("xform.core", "xform.backend",
                                                       "xform.interpreters"))]


@pytest.mark.parametrize("modname", NAMESPACES)
def test_public_names_have_docstrings(modname):
    problems = xform_api.problems(modname)
    assert not problems, "\n".join(problems)


def test_every_public_name_has_a_reference_entry(tmp_path):
    # the generator writes one stub per public name of every namespace, and the
    # namespace pages list exactly those names
    xform_api.generate(str(tmp_path))
    entries = xform_api.reference_entries(str(tmp_path))
    expected = {f"{m}.{n}" for m in NAMESPACES for n in xform_api.public_names(m)}
    assert expected - entries == set()
    assert {"xform.grad", "xform.numpy.sin", "xform.lax.scan", "xform.tree_util.tree_map",
            "xform.numpy.pi", "xform.float0"} <= entries
    for m in NAMESPACES:
        page = (tmp_path / "api" / f"{m}.rst").read_text()
        listed = set(re.findall(r"^   (\w+)$", page, re.M))
        assert listed == set(xform_api.public_names(m)), m


def test_reference_descriptions_of_values_run():
    for full, text in xform_api.DATA_DOCS.items():
        test = doctest.DocTestParser().get_doctest(text, {}, full, None, 0)
        result = doctest.DocTestRunner(optionflags=FLAGS).run(test, out=lambda s: None)
        assert result.attempted > 0 and result.failed == 0, full


def test_docstring_bars_are_escaped():
    lines = ["Is |a - b| <= ``x|y``", "", ">>> 1 | 2", "3", "", "Example::", "", "    a|b",
             "large |x|", "| a | table |"]
    xform_api.escape_bars(lines)
    assert lines == ["Is \\|a - b\\| <= ``x|y``", "", ">>> 1 | 2", "3", "", "Example::", "",
                     "    a|b", "large \\|x\\|", "| a | table |"]


# -- the site ---------------------------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None
                    or importlib.util.find_spec("myst_parser") is None,
                    reason="the docs extra is not installed (pip install -e '.[docs]')")
def test_site_builds_without_warnings(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), DOCS, str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert (out / "index.html").exists()
    html = (out / "autodiff_first_principles.html").read_text()
    assert "<img" in html  # figures drawn by the page's code
    assert (out / "api" / "generated" / "xform.grad.html").exists()

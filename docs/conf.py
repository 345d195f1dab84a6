"""Sphinx configuration of the xform documentation site.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (entry page:
``docs/_build/html/index.html``). Pages are MyST Markdown; code is either ``pycon``
blocks (``>>>`` examples whose printed output tests/test_docs.py checks with doctest)
or ``{plot}`` blocks, which matplotlib's plot directive runs during the build to draw
the page's figures (and which the test suite runs too). The API reference is written
at build time by ``_ext/xform_api.py`` from the modules' public names.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))  # document the source tree being built

import xform  # noqa: E402

project = "xform"
author = "the xform developers"
copyright = "the xform developers"
release = version = xform.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "myst_plot",  # matplotlib's plot directive, made to work in MyST pages
    "xform_api",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# API reference: the stubs are written by _ext/xform_api.py (autosummary only renders
# the tables), with signatures as written in the code.
autosummary_generate = False
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
add_module_names = False

# Figures: every {plot} block runs with this prelude, in a fresh namespace unless it
# says :context:, and its source is shown above the figure.
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 80)]
plot_rcparams = {"figure.figsize": (6.4, 3.2), "figure.dpi": 80, "savefig.bbox": "tight"}

html_theme = "alabaster"
html_title = f"xform {release}"
html_theme_options = {"description": "Composable function transformations for numpy code",
                      "fixed_sidebar": True, "page_width": "1100px", "sidebar_width": "230px"}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}

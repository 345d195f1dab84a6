"""matplotlib's ``plot`` directive inside MyST Markdown pages.

The directive emits reStructuredText (an image, the source) through
``state_machine.insert_input``, which MyST's mock state machine does not implement. This
subclass captures those lines and parses them as reStructuredText into the page, as
MyST's own ``{eval-rst}`` does; in ``.rst`` pages it is matplotlib's directive as is.
"""
from __future__ import annotations

from docutils.parsers.rst import Parser as RSTParser
from docutils.utils import new_document
from matplotlib.sphinxext.plot_directive import PlotDirective


class MystPlotDirective(PlotDirective):
    def run(self):
        sm = self.state_machine
        if type(sm).__name__ != "MockStateMachine":
            return super().run()
        captured: list[str] = []
        sm.insert_input = lambda lines, source=None: captured.extend(lines)
        try:
            errors = super().run()
        finally:
            del sm.insert_input
        document = self.state.document
        doc = new_document(document["source"], document.settings)
        doc.reporter = document.reporter
        # pad the line numbers so messages point at the fence in the page
        RSTParser().parse("\n" * max(self.lineno - 1, 0) + "\n".join(captured) + "\n", doc)
        return list(doc.children) + list(errors)


def setup(app):
    app.setup_extension("matplotlib.sphinxext.plot_directive")
    app.add_directive("plot", MystPlotDirective, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

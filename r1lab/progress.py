"""Progress bars that leave their final state in a saved notebook.

In a terminal ``bar`` is tqdm's own bar. In a notebook tqdm draws an ipywidgets bar, and a
saved notebook keeps only what the bar's output was when it was first *displayed*: its
``text/plain`` copy reads ``GRPO:   0%|          | 0/200`` forever, above a cell that says
training finished, so an opened notebook looks stalled. Here the bar is displayed with a
display id and, when it closes, that output is replaced by the same widget with the final
text (``200/200``); Jupyter stores the replacement, so the committed output is the last state.
tqdm has no such option, hence this small subclass.

>>> with bar(total=3, desc="demo", disable=True) as b:
...     b.update(3)
"""

from __future__ import annotations

from tqdm.auto import tqdm as auto_tqdm
from tqdm.notebook import tqdm as notebook_tqdm


class KeptBar(notebook_tqdm):
    """tqdm's notebook bar whose saved output is its final state (see the module's text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, display=False, **kwargs)
        self.handle = None
        if not self.disable:
            from IPython.display import display

            self.handle = display(self.bundle(), raw=True, display_id=True)
            self.displayed = True

    def bundle(self) -> dict:
        """The widget's output: the live bar, and its current text for static views."""
        data = self.container._repr_mimebundle_()
        data["text/plain"] = repr(self.container)
        return data

    def close(self):
        super().close()
        if self.handle is not None:
            self.handle.update(self.bundle(), raw=True)
            self.handle = None


def bar(**kwargs):
    """A tqdm bar (same arguments): tqdm's own in a terminal, a ``KeptBar`` in a notebook."""
    if issubclass(auto_tqdm, notebook_tqdm):  # tqdm.auto chose the notebook bar
        return KeptBar(**kwargs)
    return auto_tqdm(**kwargs)

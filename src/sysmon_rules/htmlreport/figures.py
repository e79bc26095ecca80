"""The plots of one page: each gets an element to be drawn into; the page inlines their specs."""

from __future__ import annotations

from .charts import Spec
from .markup import text


class Figures:
    """The plots of one page, in order: ``add`` returns the element the plot is drawn into."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, Spec]] = []

    def add(self, name: str, spec: Spec, caption: str) -> str:
        element = f"chart-{len(self.specs)}"
        self.specs.append((element, spec))
        return (f'<figure><div class="chart" id="{element}" data-chart="{text(name)}"></div>'
                f"<figcaption>{text(caption)}</figcaption></figure>")

"""The whole page: one HTML file with its styles, the Vega renderer and the plot specs inlined.

Nothing is fetched when the page is opened: the Vega, Vega-Lite and Vega-Embed scripts come from
vl-convert's bundle (about 0.9 MB, built once per process) with the drawing code bundled in, and
the specs carry their data inline.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from .figures import Figures
from .markup import text

_DRAW = """
(function () {
  const specs = JSON.parse(document.getElementById("report-specs").textContent);
  const jobs = Object.entries(specs).map(([id, spec]) => {
    const element = document.getElementById(id);
    return vegaEmbed(element, spec, {renderer: "svg", actions: false})
      .then(() => { element.dataset.drawn = "true"; })
      .catch((error) => {
        element.dataset.drawn = "error";
        element.textContent = "This plot could not be drawn: " + error;
        console.error(error);
      });
  });
  Promise.all(jobs).then(() => { document.body.dataset.chartsDrawn = "true"; });
})();
"""


@cache
def renderer_script() -> str:
    """Vega, Vega-Lite and Vega-Embed bundled with the code that draws every plot, as one script."""
    import vl_convert

    return vl_convert.javascript_bundle(_DRAW).replace("</script", "<\\/script")


def stylesheet() -> str:
    return resources.files(__package__).joinpath("report.css").read_text("utf-8")


def _script_json(value: object) -> str:
    """JSON safe inside <script>: no "<" can close the element or open a comment."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def render_page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str, figures: Figures) -> str:
    """The HTML document; ``nav`` is (anchor, label) of each section present."""
    links = "".join(f'<a href="#{text(a)}">{text(label)}</a>' for a, label in nav)
    scripts = ""
    if figures.specs:
        specs = _script_json(dict(figures.specs))
        scripts = (f'<script id="report-specs" type="application/json">{specs}</script>'
                   f"<script>{renderer_script()}</script>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{stylesheet()}</style></head>"
        f'<body><header><h1>{text(title)}</h1><p class="sub">{subtitle}</p><nav>{links}</nav></header>'
        "<noscript><p class=\"note\">The plots need JavaScript; the tables do not.</p></noscript>"
        f"<main>{body}</main>"
        '<footer>Made by <code>sysmon-rules report</code>. Counts are exact: every event was decided as '
        "Sysmon's rule engine decides it. Hover a bar for its exact figure.</footer>"
        f"{scripts}</body></html>\n"
    )

"""Which extra of ``pip install 'sysmon-rules[EXTRA]'`` brings an optional module.

The extras and their requirements are declared in pyproject.toml; this table names the modules
those requirements install (a distribution's import name differs from its name: ``pysigma``
installs ``sigma``), so that a command run without its extra says in one line what to install
instead of failing with ModuleNotFoundError. tests/test_cli_conventions.py checks the table
against the installed package's metadata.
"""

from __future__ import annotations

# top-level module -> extra that installs it
MODULE_EXTRAS = {
    "sigma": "sigma",  # pysigma and its pipelines
    "dask": "distributed",
    "distributed": "distributed",
    "altair": "report",
    "vl_convert": "report",
}

# distribution (as written in pyproject's extras) -> the modules it brings
DISTRIBUTION_MODULES = {
    "pysigma": ("sigma",),
    "pysigma-pipeline-sysmon": ("sigma",),
    "pysigma-pipeline-windows": ("sigma",),
    "dask": ("dask", "distributed"),
    "altair": ("altair",),
    "vl-convert-python": ("vl_convert",),
}


def extra_for(module: str) -> str | None:
    """The extra for ``module`` (``"sigma.rule"`` counts as ``sigma``); None for a module no extra brings.

    >>> extra_for("vl_convert"), extra_for("sigma.collection"), extra_for("lxml")
    ('report', 'sigma', None)
    """
    return MODULE_EXTRAS.get(module.partition(".")[0])

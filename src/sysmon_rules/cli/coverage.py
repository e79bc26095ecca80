"""`sysmon-rules coverage CONFIG --sigma PATH...`: does the config log what Sigma rules need?

Exit codes (docs/cli.md): 0 done (whatever the statuses), 2 usage or an input that cannot be used
(no Sigma rule could be read, a config that does not load), 130 interrupted.
"""

from __future__ import annotations

import json

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from ..inputfiles import NoInputError
from .messages import InputFile, Interrupted, fail_with


@click.command("coverage")
@click.argument("config", type=InputFile("config"))
@click.option("--sigma", "sigma", multiple=True, type=click.Path(),
              help="Sigma rule file or folder (repeatable; required except for --format navigator-config).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "navigator", "navigator-config"]),
              default="text", show_default=True,
              help="navigator: ATT&CK layer of the Sigma rules' techniques by readiness; navigator-config: "
                   "layer of the techniques the config's deciding include rules name.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--suggest", is_flag=True,
              help="For partial/dropped rules, a config snippet re-checked by assessing the rule again with it.")
@click.option("--events", "events", multiple=True, type=click.Path(),
              help="Event log (any source evaluate reads; repeatable): evidence for every rule.")
@click.option("--no-captures", is_flag=True,
              help="Do not use the SigmaHQ regression captures beside the rules as evidence.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report here (atomically; - for standard output).")
def command(config: str, sigma: tuple[str, ...], fmt: str, platform: str, suggest: bool, events: tuple[str, ...],
            no_captures: bool, output: str | None) -> None:
    """Status per Sigma rule (logged, partial, dropped, not-applicable, unsupported). See docs/coverage.md."""
    from ..readiness import coverage, read_rules
    from ..readiness.navigator import config_layer, sigma_layer
    from ..readiness.output import to_json, to_markdown, to_text

    if fmt == "navigator-config":
        from ..readiness import config_techniques

        try:
            counted = config_techniques(config, platform=platform)  # type: ignore[arg-type]
        except SysmonRulesError as exc:
            fail_with(exc, config)
        _emit(json.dumps(config_layer(counted, config), indent=2) + "\n", output)
        return
    if not sigma:
        raise click.UsageError("--sigma PATH is required (a Sigma rule file or folder)")
    pool = None
    if events:
        from ..readiness import read_events

        try:
            pool = read_events(events, warn=lambda message: click.echo(f"warning: {message}", err=True))
        except SysmonRulesError as exc:  # the collectors' messages name the file they could not read
            fail_with(exc, events[0])
    doing = "reading the Sigma rules"
    try:
        items = read_rules(sigma)
        if all(item.error for item in items):  # nothing could be checked: never an all-clear
            first = items[0]
            fail_with(NoInputError(f"no Sigma rule could be read ({len(items)} tried; first: {first.error})"),
                      first.path or sigma[0])
        doing = f"assessing {len(items):,} Sigma rules against {config}"
        report = coverage(config, items, platform=platform, suggest=suggest,  # type: ignore[arg-type]
                          events=pool, captures=not no_captures)
    except SysmonRulesError as exc:
        fail_with(exc, config)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted (Ctrl-C) while {doing}; nothing written") from None
    if fmt == "json":
        text = to_json(report)
    elif fmt == "markdown":
        text = to_markdown(report)
    elif fmt == "navigator":
        text = json.dumps(sigma_layer(report), indent=2) + "\n"
    else:
        text = to_text(report)
    _emit(text, output)


def _emit(text: str, output: str | None) -> None:
    try:
        write_output(output or "-", text)
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")

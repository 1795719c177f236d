"""`miroir journeys`: the journeys the worker would load, and an offline check of journey files.

miroir journeys list                      # the journeys the settings load, and from where
miroir journeys check my-journeys/        # what would fail, what looks wrong; exit 1 on either
miroir journeys check agency.yaml --text "Accueil souriant mais attente trop longue"
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from processors.taxonomy import Journey, Taxonomy

journeys_app = typer.Typer(help="Journeys, steps and cues: list them, check a journey file offline.")
console = Console()


@journeys_app.command("list")
def list_journeys() -> None:
    """The journeys the worker would load with these settings, their steps, and the file of each."""
    from processors.config import pipeline_config

    taxonomy = pipeline_config().taxonomy
    table = Table("journey", "steps", "file", title="Journeys", title_justify="left")
    for journey in taxonomy.journeys.values():
        table.add_row(journey.id, ", ".join(s.id for s in journey.steps), taxonomy.sources.get(journey.id, "?"))
    console.print(table)


@journeys_app.command("check")
def check(
    path: Path = typer.Argument(..., help="A journey file, or a folder of them (*.yaml)"),
    text: str | None = typer.Option(None, "--text", help="A sample verbatim: which steps it hits, with what polarity"),
    alone: bool = typer.Option(
        False, "--alone", help="Check the files without the shipped journeys (as MIROIR_JOURNEYS_ONLY=true loads them)"
    ),
) -> None:
    """Check journey files offline: errors that would stop the worker (unknown steps, missing cues, an
    id declared twice across files, bad YAML) and what loads but is likely wrong (a cue two steps of
    one journey share, a missing label, a step no journey lists). Exit 1 if anything is found."""
    from processors.journey_check import check_taxonomy
    from processors.taxonomy import TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(path, with_shipped=not alone)
    except TaxonomyError as error:
        console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None
    files = {str(f) for f in (sorted(path.glob("*.yaml")) if path.is_dir() else [path])}
    mine = [j for j in taxonomy.journeys.values() if taxonomy.sources.get(j.id) in files]
    problems = check_taxonomy(taxonomy, files)
    for problem in problems:
        console.print(f"[yellow]warning:[/] {problem.where}: {problem.what}")
    console.print(
        f"{len(mine)} journey(s) in {path}: {', '.join(j.id for j in mine) or 'none'}; "
        f"{len(problems)} problem(s)" + ("" if alone else f"; with the {len(taxonomy.journeys) - len(mine)} shipped")
    )
    if text:
        _sample(taxonomy, mine or list(taxonomy.journeys.values()), text)
    if problems or not mine:
        raise typer.Exit(1)


def _sample(taxonomy: Taxonomy, journeys: list[Journey], text: str) -> None:
    from processors.analysis import analyse

    table = Table("journey", "step", "polarity", "clause", title="The sample text", title_justify="left")
    for journey in journeys:
        analysis = analyse(text, journey)
        for step in analysis.steps:
            label = journey.step(step.step_id)
            name = label.label.get("fr", step.step_id) if label else step.step_id
            table.add_row(journey.id, f"{step.step_id} ({name})", f"{step.polarity:+.2f}", step.evidence)
        if not analysis.steps:
            table.add_row(journey.id, "-", f"{analysis.polarity:+.2f} (whole text)", "no cue of this journey")
    console.print(table)

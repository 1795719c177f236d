"""What a journey file loads with but likely gets wrong: `miroir journeys check` prints it.

Loading (processors/taxonomy.py) refuses what cannot work: a journey naming a step nobody
declared, a step without French or English cues, an id declared in two files, bad YAML. This
module lists the rest, which loads but reads the wrong steps or shows a step without a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.taxonomy import Journey, Step, Taxonomy
from processors.text import fold


@dataclass(frozen=True)
class Problem:
    where: str  # the file
    what: str


def _sample(cue: str) -> str:
    """The shortest text a cue stands for: 'livr*' -> 'livr', '*conseill*' -> 'conseill'."""
    return " ".join(fold(cue).replace("*", "").split())


def shared_cues(journey: Journey) -> list[tuple[str, Step, Step]]:
    """(cue, its step, another step of the journey whose cues also match it): a text naming it
    would count for both steps."""
    found, seen = [], set()
    for index, step in enumerate(journey.steps):
        for cue in (c for lang in step.cues.values() for c in lang):
            sample = _sample(cue)
            for other in sorted(journey.cues.matches_whole(sample) - {index}) if sample else ():
                pair = (sample, *sorted((step.id, journey.steps[other].id)))
                if pair not in seen:
                    seen.add(pair)
                    found.append((cue, step, journey.steps[other]))
    return found


def check_taxonomy(taxonomy: Taxonomy, files: set[str] | None = None) -> list[Problem]:
    """What a user's journey files (`files`; all when None) likely get wrong."""

    def mine(ident: str) -> bool:
        return files is None or taxonomy.sources.get(ident) in files

    problems: list[Problem] = []
    steps = {s.id: s for j in taxonomy.journeys.values() for s in j.steps}
    for journey in taxonomy.journeys.values():
        if not mine(journey.id):
            continue
        where = taxonomy.sources.get(journey.id, "?")
        missing = [lang for lang in ("fr", "en") if not journey.label.get(lang)]
        if missing:
            problems.append(Problem(where, f"journey {journey.id!r} has no label in {', '.join(missing)}"))
        if not journey.steps:
            problems.append(Problem(where, f"journey {journey.id!r} lists no steps"))
        for cue, step, other in shared_cues(journey):
            problems.append(
                Problem(
                    where,
                    f"journey {journey.id!r}: cue {cue!r} of step {step.id!r} also matches step {other.id!r}: "
                    "a text naming it counts for both",
                )
            )
    for step in steps.values():
        missing = [lang for lang in ("fr", "en") if not step.label.get(lang)]
        if missing and mine(step.id):
            where = taxonomy.sources.get(step.id, "?")
            problems.append(Problem(where, f"step {step.id!r} has no label in {', '.join(missing)}"))
    for ident, where in taxonomy.sources.items():
        if ident not in steps and ident not in taxonomy.journeys and mine(ident):
            problems.append(Problem(where, f"step {ident!r} is declared but no journey lists it"))
    return problems


def loaded_from(taxonomy: Taxonomy) -> str:
    """Which journeys were loaded from where, for the worker's first log line."""
    by_file: dict[str, list[str]] = {}
    for journey_id in taxonomy.journeys:
        by_file.setdefault(taxonomy.sources.get(journey_id, "?"), []).append(journey_id)
    return "; ".join(f"{', '.join(ids)} from {where}" for where, ids in by_file.items())

"""The managers' inbox rules: which tabs a case shows in and in which order, who may do what to it,
the root causes a resolution may name, and a site's figures.

Nothing here reads a clock or a store (times and records are passed in): the queue
(sinks/callback_queue.py) asks `refusal` inside its own transaction, so a rule and the change it
allows are one atomic step.

The case's life: `open` (to do) -> claimed (in progress) -> resolved (done); a claimed case can be
released (open again, anyone may claim it) or reassigned (to another person who sees its site);
a resolved one reopened (open again: the customer is still unhappy).

Reopen and the loop figures: a reopen publishes nothing, and the next resolve publishes a new
CallbackOutcome, measured like any other from the request's creation to that resolution and
against its original due time (the customer's wait did not start again). So "resolved" counts
resolutions, not cases: a case reopened and resolved again counts twice, its second time usually
outside SLA, which is what happened to that customer. The mirror (streams/callbacks.py, from the
outcomes topic) and the inbox (from the queue) count the same way, with `site_figures` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from processors.access import AccessError, check_name
from processors.callbacks import loop_metrics
from processors.privacy import CLOSED

Tab = Literal["todo", "in_progress", "done", "overdue", "escalated"]
TABS: tuple[Tab, ...] = ("todo", "in_progress", "done", "overdue", "escalated")
ACTIONS = ("claim", "release", "reassign", "resolve", "reopen")
OUTCOMES = ("reached", "no_answer", "resolved", "refused")  # schemas/CallbackOutcome.avsc's symbols
# An erased case (its person asked to be forgotten: sinks/privacy.py) is done: nobody calls back.
STATUS_TAB: dict[str, Tab] = {"open": "todo", "claimed": "in_progress", "resolved": "done", "erased": "done"}


def tabs(status: str, due_at: float, escalated: bool, now: float) -> list[Tab]:
    """The tabs a case shows in: its status's (to do, in progress, done) and, while unresolved,
    overdue (past its due time) and escalated (sent to the site's escalation group)."""
    found: list[Tab] = [STATUS_TAB[status]]
    if status not in CLOSED:
        if now > due_at:
            found.append("overdue")
        if escalated:
            found.append("escalated")
    return found


def urgency(case: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key, most urgent first: unresolved before resolved; then high priority, the earliest due
    (an overdue case is the most urgent of all), the newest; resolved ones newest resolution first."""
    if case["status"] in CLOSED:
        return (1, -float(case.get("resolved_at") or case.get("erased_at") or 0))
    return (0, case.get("priority") != "high", float(case["due_at"]), -float(case["created_at"]))


def refusal(action: str, case: Mapping[str, str], who: str, elevated: bool = False) -> str | None:
    """Why `who` may not do `action` to `case` now (a reason word), or None when they may.
    `elevated`: a regional lead or an admin (the site's escalation group), who may also release,
    reassign or resolve a case someone else claimed. Scope (may they see the site?) is checked
    before: processors/access.py."""
    status, holder = case.get("status"), case.get("claimed_by")
    if status == "erased":
        return "erased"
    someone_elses = status == "claimed" and holder != who and not elevated
    if action == "claim":
        return "resolved" if status == "resolved" else "claimed" if status == "claimed" and holder != who else None
    if action == "release":
        return "not_claimed" if status != "claimed" else "not_yours" if someone_elses else None
    if action in ("reassign", "resolve"):
        return "resolved" if status == "resolved" else "not_yours" if someone_elses else None
    if action == "reopen":  # an anonymised case has nobody left to call back
        return "not_resolved" if status != "resolved" else "anonymised" if case.get("anonymised_at") else None
    raise ValueError(f"no action {action!r}; expected one of {', '.join(ACTIONS)}")


def site_figures(counts: Mapping[str, Any]) -> dict[str, Any]:
    """A site's figures on the inbox from its counts (open, overdue, resolved, within_sla, durations
    in seconds): open and overdue now, and the mirror's closed-loop figures (the same function,
    processors.callbacks.loop_metrics, as GET /mirror/)."""
    loop = loop_metrics(list(counts["durations"]), counts["within_sla"], counts["resolved"])
    return {"open": counts["open"], "overdue": counts["overdue"], **loop}


# ---------------------------------------------------------------- root causes


@dataclass(frozen=True)
class RootCause:
    id: str
    fr: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


def parse_root_causes(data: Any, source: str = "root causes file") -> dict[str, RootCause]:
    """`{"root_causes": [{"id": …, "fr": …, "en": …}, …]}` -> the causes by id, in the file's order."""
    items = data.get("root_causes") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise AccessError(f"{source}: expected a non-empty 'root_causes' list of {{id, fr, en}}")
    causes: dict[str, RootCause] = {}
    for item in items:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k] for k in ("id", "fr", "en")):
            raise AccessError(f"{source}: each root cause needs an 'id', a French 'fr' and an English 'en' label")
        cause = RootCause(check_name(item["id"], f"{source}: root cause id"), item["fr"], item["en"])
        if cause.id in causes:
            raise AccessError(f"{source}: root cause {cause.id!r} is listed twice")
        causes[cause.id] = cause
    return causes


def load_root_causes(path: Path) -> dict[str, RootCause]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise AccessError(f"root causes file {path}: {error}") from None
    return parse_root_causes(data, str(path))

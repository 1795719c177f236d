"""Survey tools' webhooks: `POST /v1/hooks/{mapping}` turns the tool's own JSON into a record
with a declarative mapping (`processors.mapping`, `processors/mappings/<name>.yaml`), then checks
and sends it as any other record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.intake import PATHS
from services.intake.ingest import Refusal
from services.intake.records import Accepted, Problem

TIME_FIELDS = ("event_time",)


def _with_times(record: dict[str, Any]) -> dict[str, Any]:
    """Times as the request models take them: an aware datetime (epoch milliseconds, as the codec
    takes them, and naive datetimes read as UTC)."""
    out = dict(record)
    for name in TIME_FIELDS:
        value = out.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = datetime.fromtimestamp(value / 1000, tz=UTC)
        elif isinstance(value, datetime) and value.tzinfo is None:
            out[name] = value.replace(tzinfo=UTC)
    return out


def mapping_for(name: str, now: float) -> tuple[str, Callable[[Any], Accepted | Problem | dict[str, Any]]]:
    """The kind ("survey", "staff") a mapping makes and the function that maps one payload."""
    from processors.mapping import MappingError, apply_mapping, load_mapping, shipped_mappings

    # Only the mappings shipped with Miroir: `load_mapping` also reads a path, which no client may name.
    if name not in shipped_mappings():
        raise Refusal(404, "unknown_mapping", f"no mapping {name!r}; known: {', '.join(shipped_mappings())}")
    try:
        mapping = load_mapping(name)
    except MappingError as error:
        raise Refusal(500, "bad_mapping", f"the mapping {name!r} is wrong: {error}") from None
    kind = str(mapping.kind)
    if kind not in PATHS:
        raise Refusal(500, "bad_mapping", f"mapping {name!r} makes {kind!r} records; expected survey or staff")
    when = datetime.fromtimestamp(now, tz=UTC)

    def transform(item: Any) -> Accepted | Problem | dict[str, Any]:
        if not isinstance(item, dict):
            return Problem(None, "not_an_object", f"expected a JSON object, got {type(item).__name__}")
        try:
            return _with_times(apply_mapping(item, mapping, when))
        except MappingError as error:  # its reason is a sentence: the message; the word is ours
            return Problem(error.field, "unmapped", f"{error.field}: {error.reason}")

    return kind, transform

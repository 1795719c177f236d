"""Turns the rows of a CSV or JSONL export into input records (for `miroir replay`).

Columns map to fields with `column=field` (several columns joined with '+':
`Titre commentaire+Commentaire=verbatim`). Fields no column gives get a
default (`--journey`, `--scale`, `--site`, `--prompt`) or are derived from the
row (ids from a hash of it, event time now). A row that cannot become a valid
record is reported with its number and reason, never fatal.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from schemas import INPUT_SCHEMAS, SerializationError, codec_for
from tools.producer import RecordProducer

PRESETS: dict[str, dict[str, Any]] = {
    "certideal": {
        "kind": "survey",
        "journey": "phone_shop",
        "scale": "CSAT",
        "map": {
            "Titre commentaire+Commentaire": "verbatim",
            "Note client": "score",
            "Date de publication": "event_time",
            "Nom du client": "customer_ref",
        },
    },
    "glassdoor-pros": {
        "kind": "staff",
        "prompt": "most_positive",
        "map": {"pros": "verbatim", "reviewdate": "event_time", "Employeer Name": "site"},
    },
    "glassdoor-cons": {
        "kind": "staff",
        "prompt": "most_frustrating",
        "map": {"Cons": "verbatim", "reviewdate": "event_time", "Employeer Name": "site"},
    },
}

_FRENCH_MONTHS = {
    m: i
    for i, m in enumerate(
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre".split(), 1
    )
}


@dataclass
class ReplayOptions:
    kind: str  # survey or staff
    mapping: dict[str, str]  # "col+col" -> field
    journey: str | None = None
    scale: str = "CSAT"
    site: str = "replay"
    prompt: str = "most_positive"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class RowError(ValueError):
    pass


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        columns, sep, target = pair.rpartition("=")
        if not sep or not columns or not target:
            raise ValueError(f"--map {pair!r}: expected column=field (or col1+col2=field)")
        mapping[columns] = target
    return mapping


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as source:
            for line in source:
                if line.strip():
                    yield json.loads(line)
    else:
        with path.open(encoding="utf-8", newline="") as source:
            yield from csv.DictReader(source)


def parse_time(value: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})\s+([a-zéû]+)\s+(\d{4})", text.lower())
    month = _FRENCH_MONTHS.get((match.group(2) if match else "").replace("é", "e").replace("û", "u"))
    if match and month:
        return datetime(int(match.group(3)), month, int(match.group(1)), tzinfo=UTC)
    raise RowError(f"event time {value!r}: expected ISO 8601 or '14 janvier 2025'")


def _mapped(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for columns, target in mapping.items():
        names = columns.split("+")
        missing = [n for n in names if n not in row]
        if missing:
            raise RowError(f"no column {missing[0]!r} (columns: {', '.join(list(row)[:12])})")
        values = [str(row[n]).strip().rstrip("…") for n in names if str(row[n] or "").strip()]
        out[target] = ". ".join(v.strip('"“”') for v in values)
    return out


def to_record(row: dict[str, Any], options: ReplayOptions) -> dict[str, Any]:
    fields = _mapped(row, options.mapping)
    digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:16]
    event_time = parse_time(fields["event_time"]) if fields.get("event_time") else options.now
    if options.kind == "staff":
        return {
            "feedback_id": fields.get("feedback_id") or f"replay-{digest}",
            "staff_ref": fields.get("staff_ref") or f"replay-{digest[:8]}",
            "site": fields.get("site") or options.site,
            "journey_id": fields.get("journey_id") or options.journey,
            "prompt": fields.get("prompt") or options.prompt,
            "verbatim": fields.get("verbatim", ""),
            "language": fields.get("language") or None,
            "event_time": event_time,
        }
    score = fields.get("score", "")
    try:
        score_value = int(float(score))
    except ValueError:
        raise RowError(f"score {score!r} is not a number") from None
    journey = fields.get("journey_id") or options.journey
    if not journey:
        raise RowError("no journey: map a column to journey_id or pass --journey")
    return {
        "response_id": fields.get("response_id") or f"replay-{digest}",
        "customer_ref": _pseudonym(fields.get("customer_ref", digest)),
        "journey_id": journey,
        "step_id": fields.get("step_id") or None,
        "score": score_value,
        "score_scale": fields.get("score_scale") or options.scale,
        "verbatim": fields.get("verbatim", ""),
        "language": fields.get("language") or None,
        "site": fields.get("site") or options.site,
        "event_time": event_time,
    }


def _pseudonym(name: str) -> str:
    return "replay-" + hashlib.sha1(name.encode()).hexdigest()[:10]


def records(rows: Iterator[dict[str, Any]], options: ReplayOptions) -> Iterator[tuple[int, bytes | str]]:
    """(row number, Avro bytes) for each good row, (row number, reason) for each bad one."""
    codec = codec_for(INPUT_SCHEMAS[options.kind])
    for number, row in enumerate(rows, start=1):
        try:
            yield number, codec.encode(to_record(row, options))
        except (RowError, SerializationError) as error:
            yield number, str(error)


def replay_file(
    settings: Settings, rows: Iterator[dict[str, Any]], options: ReplayOptions, on_row: Callable[[], None]
) -> tuple[str, int, list[tuple[int, str]]]:
    """Send every good row to the kind's input topic (the settings' name for it); returns the topic,
    how many were sent and (row number, reason) for each bad row."""
    bad: list[tuple[int, str]] = []
    with RecordProducer(settings) as producer:
        topic = producer.topics.of_kind(options.kind)
        for number, result in records(rows, options):
            if isinstance(result, bytes):
                producer.send_raw(topic, result)
            else:
                bad.append((number, result))
            on_row()
    return topic, producer.sent, bad

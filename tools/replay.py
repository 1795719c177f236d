"""Streams the rows of a CSV or JSONL export into the input topics (for `miroir replay`).

Each row becomes a record through a mapping (processors/mapping.py): a shipped one or a YAML
file (`--mapping`), a known export (`--preset`), or `--map column=field` pairs over the kind's
base mapping (`processors/mappings/survey.yaml`, `staff.yaml`); `--journey`, `--scale`,
`--site`, `--prompt` replace the mapping's defaults. A row that cannot become a record the
worker accepts (a field the mapping cannot fill, a value the schema refuses, a check the worker
would dead-letter it for) is a bad row, reported with its number and reason, never fatal.
Records are keyed by their business id (response_id, feedback_id). Nothing is lost unseen:
rows = sent + bad, where sent counts the records the broker acknowledged (a record it did not
is a bad row too).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError

from config.settings import Settings
from config.topics import INPUT_KINDS
from processors.mapping import Mapping, MappingError, apply_mapping, load_mapping
from processors.taxonomy import Taxonomy, load_taxonomy
from processors.validation import check_staff_feedback, check_survey_response
from schemas import INPUT_SCHEMAS, SerializationError, codec_for
from tools.producer import RecordProducer

PRESETS = ("certideal", "glassdoor-pros", "glassdoor-cons")  # shipped mappings of known exports
SHOWN = 5  # records a dry run prints
ID_FIELDS = {"survey": "response_id", "staff": "feedback_id"}
# The CLI's options that replace a mapping's defaults, by the field they fill.
OVERRIDES = {"journey": "journey_id", "scale": "score_scale", "site": "site", "prompt": "prompt"}


class ReplayError(ValueError):
    """The options or the file as a whole are wrong (not one row): nothing was sent."""


@dataclass(frozen=True)
class Unreadable:
    """A row the file does not give as an object: a line that is not JSON, a CSV row longer than
    its header. A bad row like any other."""

    reason: str


Row = dict[str, Any] | Unreadable


@dataclass
class Outcome:
    """One row: its record and Avro bytes, or why it is bad."""

    number: int
    record: dict[str, Any] | None = None
    value: bytes | None = None
    reason: str | None = None


@dataclass
class ReplayResult:
    topic: str
    rows: int = 0
    sent: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    first: list[dict[str, Any]] = field(default_factory=list)  # the first good records (dry run)
    dry_run: bool = False

    @property
    def good(self) -> int:
        return self.rows - len(self.bad)

    def reconciliation(self) -> str:
        if self.dry_run:
            return f"{self.rows} rows = {self.good} good + {len(self.bad)} bad (dry run: nothing sent)"
        return f"{self.rows} rows = {self.sent} sent + {len(self.bad)} bad"


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`column=field` (or `col1+col2=field`) pairs as {source: field}."""
    mapping = {}
    for pair in pairs:
        columns, sep, target = pair.rpartition("=")
        if not sep or not columns or not target:
            raise ReplayError(f"--map {pair!r}: expected column=field (or col1+col2=field)")
        mapping[columns] = target
    return mapping


def build_mapping(
    kind: str | None,
    name: str | None = None,
    preset: str | None = None,
    pairs: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Mapping:
    """The mapping the CLI's options describe; ReplayError saying what is missing or wrong."""
    if name and preset:
        raise ReplayError("--mapping or --preset, not both")
    if preset and preset not in PRESETS:
        raise ReplayError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)} (or --mapping NAME|FILE)")
    if not (name or preset) and kind not in INPUT_KINDS:
        raise ReplayError("--kind must be survey or staff (or give --mapping or --preset)")
    try:
        mapping = load_mapping(name or preset or str(kind))
        if kind and kind != mapping.kind:
            raise ReplayError(f"--kind {kind}: the mapping {mapping.name!r} makes {mapping.kind} records")
        names = mapping.names()
        defaults = {OVERRIDES[o]: v for o, v in (overrides or {}).items() if v is not None and OVERRIDES[o] in names}
        mapping = mapping.with_sources(parse_pairs(pairs or [])).with_defaults(defaults)
    except MappingError as error:  # MappingFileError too
        raise ReplayError(str(error)) from None
    rule = mapping.rule("verbatim")
    if rule is None or not rule.sources:
        raise ReplayError("no column maps to verbatim: pass --map COLUMN=verbatim")
    if "journey_id" in mapping.unfilled():
        raise ReplayError("no journey: map a column to journey_id or pass --journey")
    if mapping.unfilled():
        raise ReplayError(f"nothing fills {', '.join(mapping.unfilled())}: map a column to it (--map COLUMN=FIELD)")
    return mapping


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a JSONL file (its non-blank lines) or a CSV file with a header (a UTF-8 byte
    order mark, as spreadsheets write it, is no part of the first column's name)."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8-sig") as source:
            for line in source:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        yield Unreadable(f"not JSON ({error})")
    else:
        with path.open(encoding="utf-8-sig", newline="") as source:
            for row in csv.DictReader(source):
                extra = row.pop(None, None)  # a row longer than the header
                yield Unreadable(f"{len(extra)} values more than the header's columns") if extra else row


def check_columns(path: Path, mapping: Mapping) -> None:
    """A CSV whose header lacks a column the mapping reads (with no default) cannot be right."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return  # JSON rows may leave keys out: each row says what it lacks
    with path.open(encoding="utf-8-sig", newline="") as source:
        header = next(csv.reader(source), [])
    for rule in mapping.rules:
        if rule.default is None and len(rule.sources) == 1 and rule.sources[0] not in header:
            absent = [c for c in rule.sources[0].split("+") if c.strip() not in header]
            if absent:
                raise ReplayError(f"{rule.target}: no column {absent[0]!r} in {path.name} ({', '.join(header)})")


def outcomes(
    rows: Iterator[Row], mapping: Mapping, now: datetime, taxonomy: Taxonomy | None = None
) -> Iterator[Outcome]:
    """Each row mapped, encoded and (with a taxonomy) checked as the worker will check it."""
    codec = codec_for(INPUT_SCHEMAS[mapping.kind])
    check = check_survey_response if mapping.kind == "survey" else check_staff_feedback
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Unreadable):
            yield Outcome(number, reason=row.reason)
            continue
        try:
            record = apply_mapping(row, mapping, now)
            value = codec.encode(record)
        except (MappingError, SerializationError) as error:
            yield Outcome(number, reason=str(error))
            continue
        rejection = check(record, taxonomy, time.time()) if taxonomy else None
        if rejection:
            yield Outcome(number, reason=f"{rejection.reason}: {rejection.detail}")
        else:
            yield Outcome(number, record, value)


class _Acknowledged(RecordProducer):
    """Counts what the broker acknowledges; a failed send becomes its row's reason."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.acknowledged = 0
        self.pending: set[int] = set()  # row numbers sent, not yet answered
        self.failed: list[tuple[int, str]] = []

    def send_keyed(self, number: int, topic: str, key: str, value: bytes) -> None:
        self.pending.add(number)
        future = self._producer.send(topic, key=key.encode(), value=value)
        future.add_callback(self._ok, number).add_errback(self._failed, number)
        self.sent += 1

    def unanswered(self) -> list[tuple[int, str]]:
        return [(number, "no answer from Kafka") for number in sorted(self.pending)]

    def _ok(self, number: int, _metadata: Any) -> None:
        self.pending.discard(number)
        self.acknowledged += 1

    def _failed(self, number: int, error: Exception) -> None:
        self.pending.discard(number)
        self.failed.append((number, f"not acknowledged by Kafka: {error!r}"))


def replay_file(
    settings: Settings,
    rows: Iterator[Row],
    mapping: Mapping,
    on_row: Callable[[], None] = lambda: None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ReplayResult:
    """Send every good row to the kind's input topic (the settings' name for it), keyed by its
    business id; a dry run sends nothing and keeps the first records to show."""
    result = ReplayResult(settings.pipeline.topics.of_kind(mapping.kind), dry_run=dry_run)
    p = settings.pipeline
    taxonomy = load_taxonomy(p.thresholds_file, with_shipped=not p.journeys_only)
    stream = outcomes(rows, mapping, now or datetime.now(UTC), taxonomy)
    if dry_run:
        for outcome in stream:
            _count(result, outcome, on_row)
        return result
    try:
        producer = _Acknowledged(settings)
        with producer:
            for outcome in stream:
                _count(result, outcome, on_row)
                if outcome.record is not None and outcome.value is not None:
                    key = str(outcome.record[ID_FIELDS[mapping.kind]])
                    producer.send_keyed(outcome.number, result.topic, key, outcome.value)
    except KafkaError as error:
        raise ReplayError(f"Kafka ({settings.kafka.bootstrap_servers}): {error!r}") from error
    result.sent = producer.acknowledged
    result.bad = sorted(result.bad + producer.failed + producer.unanswered())
    return result


def _count(result: ReplayResult, outcome: Outcome, on_row: Callable[[], None]) -> None:
    result.rows += 1
    if outcome.reason is not None:
        result.bad.append((outcome.number, outcome.reason))
    elif result.dry_run and len(result.first) < SHOWN and outcome.record is not None:
        result.first.append(outcome.record)
    on_row()

"""Avro on the wire, with the `.avsc` files beside this module as the only truth.

Messages use Avro's single-object encoding (the spec's `C3 01` marker, the
8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary body):
a consumer can tell at once whether bytes are Avro of the schema it expects,
without a schema registry. Schemas are parsed once per process.

A schema's earlier versions stay readable: `history/<Name>.v<N>.avsc` keeps each one as it
was, and bytes with one of their fingerprints (already in Kafka, or from a producer not yet
updated) are read with Avro's schema resolution into the current schema, new fields at their
defaults. Any other fingerprint is refused.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate

SCHEMA_DIR = Path(__file__).parent
HISTORY_DIR = SCHEMA_DIR / "history"
MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8

_MISSING = object()

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A timestamp's unit per logical type; a datetime holds the years 1 to 9999 only.
_TIMESTAMP_UNITS = {"timestamp-millis": timedelta(milliseconds=1), "timestamp-micros": timedelta(microseconds=1)}
# A field out of a datetime's range with a dead-letter reason of its own (others: invalid_field).
_OUT_OF_RANGE_REASONS = {"event_time": "event_time_out_of_range"}


class SerializationError(ValueError):
    """A record that does not fit its schema, or bytes that are not one of its records.

    `field` names the field at fault (None when the bytes as a whole are wrong);
    `reason` is a short machine-readable word for dead-letter counters.
    """

    def __init__(self, schema: str, message: str, *, field: str | None = None, reason: str) -> None:
        self.schema = schema
        self.field = field
        self.reason = reason
        where = f"{schema}.{field}" if field else schema
        super().__init__(f"{where}: {message}")


def crc64_avro(data: bytes) -> int:
    """The Avro spec's 64-bit Rabin fingerprint (CRC-64-AVRO)."""
    fingerprint = _EMPTY
    for byte in data:
        fingerprint = (fingerprint >> 8) ^ _FP_TABLE[(fingerprint ^ byte) & 0xFF]
    return fingerprint


_EMPTY = 0xC15D213AA4D7A795


def _fp_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_FP_TABLE = _fp_table()


@dataclass(frozen=True)
class AvroCodec:
    """Encodes and decodes the records of one schema (and decodes those of its earlier versions)."""

    name: str
    schema: Any
    fingerprint: bytes
    # The fingerprint of each earlier version -> its schema, the writer's when reading its bytes.
    earlier: dict[bytes, Any] = dataclass_field(default_factory=dict, compare=False)

    def encode(self, record: dict[str, Any]) -> bytes:
        self.check(record)
        body = io.BytesIO()
        body.write(MAGIC + self.fingerprint)
        fastavro.schemaless_writer(body, self.schema, record)
        return body.getvalue()

    def decode(self, data: bytes) -> dict[str, Any]:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SerializationError(self.name, f"expected bytes, got {type(data).__name__}", reason="undecodable")
        data = bytes(data)
        if data[:2] != MAGIC:
            raise SerializationError(
                self.name,
                f"not Avro single-object encoding (starts with {data[:2].hex() or 'nothing'}, expected {MAGIC.hex()})",
                reason="undecodable",
            )
        written_with = data[2:HEADER_SIZE]
        writer = self.schema if written_with == self.fingerprint else self.earlier.get(written_with)
        if writer is None:
            raise SerializationError(
                self.name,
                f"written with another schema (fingerprint {written_with.hex()}, expected {self.fingerprint.hex()})",
                reason="undecodable",
            )
        stream = io.BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(stream, writer, None if writer is self.schema else self.schema)
        except OverflowError as error:  # a timestamp no datetime holds (fastavro raises it as it converts)
            raise self._out_of_range(data, writer, error) from error
        except (EOFError, ValueError, IndexError, UnicodeDecodeError, StopIteration) as error:
            raise SerializationError(self.name, f"corrupt body: {error}", reason="undecodable") from error
        if stream.tell() != len(data):
            raise SerializationError(
                self.name,
                f"{len(data) - stream.tell()} trailing bytes after the record",
                reason="undecodable",
            )
        assert isinstance(record, dict)
        return record

    @cached_property
    def _plain_schemas(self) -> dict[bytes, Any]:
        """Each writer schema, by fingerprint, without its logical types: timestamps read as the
        longs they are on the wire."""
        writers = {self.fingerprint: self.schema, **self.earlier}
        return {fingerprint: fastavro.parse_schema(_without_logical_types(w)) for fingerprint, w in writers.items()}

    def _out_of_range(self, data: bytes, writer: Any, error: OverflowError) -> SerializationError:
        """The error for a body whose decoding overflowed: the timestamp out of a datetime's range,
        named, when the body read as plain longs shows one; else undecodable."""
        stream = io.BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            plain = fastavro.schemaless_reader(stream, self._plain_schemas[data[2:HEADER_SIZE]], None)
        except (EOFError, ValueError, IndexError, UnicodeDecodeError, StopIteration, OverflowError):
            plain = None
        if plain is not None and stream.tell() == len(data):
            named = writer.get("__named_schemas", {})
            for field, value, logical in _timestamps_out_of_range(writer, plain, "", named):
                return SerializationError(
                    self.name,
                    f"{logical} {value} is out of range (a date holds the years 1 to 9999)",
                    field=field,
                    reason=_OUT_OF_RANGE_REASONS.get(field, "invalid_field"),
                )
        return SerializationError(self.name, f"corrupt body: {type(error).__name__}: {error}", reason="undecodable")

    def check(self, record: Any) -> None:
        """Raise SerializationError naming the first field that does not fit the schema."""
        if not isinstance(record, dict):
            raise SerializationError(self.name, f"expected a dict, got {type(record).__name__}", reason="invalid_field")
        for field in self.schema["fields"]:
            if record.get(field["name"], _MISSING) is _MISSING and "default" not in field:
                raise SerializationError(
                    self.name, "missing (required, no default)", field=field["name"], reason="missing_field"
                )
        try:
            validate(record, self.schema, raise_errors=True)
        except ValidationError as error:
            first = error.errors[0]
            field = str(first.field).removeprefix(f"{self.schema['name']}.")
            raise SerializationError(
                self.name,
                f"got {first.datum!r} ({type(first.datum).__name__}), expected {_type_name(first.schema)}",
                field=field,
                reason="invalid_field",
            ) from None


def _type_name(schema: Any) -> str:
    if isinstance(schema, dict):
        if schema.get("type") == "enum":
            return "one of " + ", ".join(schema["symbols"])
        return str(schema.get("logicalType") or schema.get("name") or schema.get("type"))
    if isinstance(schema, list):
        return " or ".join(_type_name(s) for s in schema)
    return str(schema)


def _without_logical_types(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_without_logical_types(branch) for branch in schema]
    if isinstance(schema, dict):
        return {
            key: _without_logical_types(value)
            for key, value in schema.items()
            if key != "logicalType" and not key.startswith("__")
        }
    return schema


def _fits_a_datetime(value: int, unit: timedelta) -> bool:
    earliest = datetime.min.replace(tzinfo=UTC) - EPOCH
    latest = datetime.max.replace(tzinfo=UTC) - EPOCH
    return earliest // unit <= value <= latest // unit


def _timestamps_out_of_range(
    schema: Any, value: Any, path: str, named: dict[str, Any]
) -> Iterator[tuple[str, int, str]]:
    """(field path, value, logical type) of each timestamp of a plainly read `value` that no
    datetime holds, walking `schema` (a parsed one: named types referred to by name)."""
    if isinstance(schema, str):
        schema = named.get(schema, schema)
    if isinstance(schema, list):  # a union: the value fits one branch, the others find nothing
        for branch in schema:
            yield from _timestamps_out_of_range(branch, value, path, named)
        return
    if not isinstance(schema, dict):
        return
    logical = schema.get("logicalType", "")
    if logical in _TIMESTAMP_UNITS:
        if type(value) is int and not _fits_a_datetime(value, _TIMESTAMP_UNITS[logical]):
            yield path, value, logical
    elif schema.get("type") == "record" and isinstance(value, dict):
        for field in schema["fields"]:
            inner = f"{path}.{field['name']}" if path else field["name"]
            yield from _timestamps_out_of_range(field["type"], value.get(field["name"]), inner, named)
    elif schema.get("type") == "array" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _timestamps_out_of_range(schema["items"], item, f"{path}[{i}]", named)
    elif schema.get("type") == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _timestamps_out_of_range(schema["values"], item, f"{path}[{key!r}]", named)


def schema_names() -> list[str]:
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc"))


def earlier_versions(name: str) -> dict[int, Path]:
    """The files of a schema's earlier versions (`history/<name>.v<N>.avsc`), by version, oldest first."""
    found = {}
    for path in HISTORY_DIR.glob(f"{name}.v*.avsc"):
        version = re.fullmatch(rf"{re.escape(name)}\.v(\d+)\.avsc", path.name)
        if version:
            found[int(version[1])] = path
    return dict(sorted(found.items()))


def load_schema(path: Path) -> tuple[Any, bytes]:
    """An `.avsc` parsed, and its fingerprint: the CRC-64-AVRO of its parsing canonical form, little-endian."""
    parsed = fastavro.parse_schema(json.loads(path.read_text()))
    canonical = fastavro.schema.to_parsing_canonical_form(parsed)
    return parsed, crc64_avro(canonical.encode()).to_bytes(8, "little")


@cache
def codec_for(name: str) -> AvroCodec:
    """The codec of `schemas/<name>.avsc` and its earlier versions, parsed once."""
    path = SCHEMA_DIR / f"{name}.avsc"
    if not path.exists():
        raise KeyError(f"no schema {name!r}; known: {', '.join(schema_names())}")
    parsed, fingerprint = load_schema(path)
    earlier = {old_fingerprint: old for old, old_fingerprint in map(load_schema, earlier_versions(name).values())}
    return AvroCodec(name=name, schema=parsed, fingerprint=fingerprint, earlier=earlier)

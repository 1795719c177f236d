"""Avro on the wire, with the `.avsc` files beside this module as the only truth.

Messages use Avro's single-object encoding (the spec's `C3 01` marker, the
8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary body):
a consumer can tell at once whether bytes are Avro of the schema it expects,
without a schema registry. Schemas are parsed once per process.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate

SCHEMA_DIR = Path(__file__).parent
MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8

_MISSING = object()


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
    """Encodes and decodes the records of one schema."""

    name: str
    schema: Any
    fingerprint: bytes

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
        if data[2:HEADER_SIZE] != self.fingerprint:
            raise SerializationError(
                self.name,
                f"written with another schema (fingerprint {data[2:HEADER_SIZE].hex()}, "
                f"expected {self.fingerprint.hex()})",
                reason="undecodable",
            )
        stream = io.BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(stream, self.schema, None)
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


def schema_names() -> list[str]:
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc"))


@cache
def codec_for(name: str) -> AvroCodec:
    """The codec of `schemas/<name>.avsc`, parsed once."""
    path = SCHEMA_DIR / f"{name}.avsc"
    if not path.exists():
        raise KeyError(f"no schema {name!r}; known: {', '.join(schema_names())}")
    parsed = fastavro.parse_schema(json.loads(path.read_text()))
    canonical = fastavro.schema.to_parsing_canonical_form(parsed)
    fingerprint = crc64_avro(canonical.encode()).to_bytes(8, "little")
    return AvroCodec(name=name, schema=parsed, fingerprint=fingerprint)

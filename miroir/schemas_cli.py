"""`miroir schemas`: each schema, the topic that carries it and its CRC-64-AVRO fingerprint.

A producer in another language writes Avro's single-object encoding (`C3 01`, the 8 fingerprint
bytes, the binary body): these are the bytes it must write after `C3 01` for Miroir to read it.
The fingerprints of a schema's earlier versions (`schemas/history/`) are still read, listed after.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from config.settings import settings


def _numbers(fingerprint: bytes) -> dict[str, str]:
    return {"fingerprint": fingerprint.hex(), "crc64_avro": f"0x{int.from_bytes(fingerprint, 'little'):016x}"}


def schema_rows() -> list[dict[str, Any]]:
    """One row per `.avsc`: its name, its topic (as the settings name it), its fingerprint, and
    those of its earlier versions, still read (`earlier`, by version: v1...)."""
    from schemas import TOPIC_SCHEMAS, codec_for, schema_names
    from schemas.codec import earlier_versions, load_schema

    topics = settings.pipeline.topics
    topic_of: dict[str, str] = {}
    for attribute, schema in TOPIC_SCHEMAS.items():  # DeadLetter: dead-letters and dead-letter-log
        topic_of[schema] = ",".join(filter(None, (topic_of.get(schema), getattr(topics, attribute))))
    rows = []
    for name in schema_names():
        earlier = {f"v{version}": _numbers(load_schema(path)[1]) for version, path in earlier_versions(name).items()}
        rows.append(
            {
                "schema": name,
                "topic": topic_of.get(name, "-"),
                **_numbers(codec_for(name).fingerprint),
                "earlier": earlier,
            }
        )
    return rows


def show_schemas(as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON")) -> None:
    """Each schema, its topic and its CRC-64-AVRO fingerprint, for producers in other languages."""
    rows = schema_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    headers = {
        "schema": "schema",
        "topic": "topic",
        "fingerprint": "fingerprint (the 8 bytes after C3 01)",
        "crc64_avro": "CRC-64-AVRO (as a number)",
    }
    widths = {key: max(len(headers[key]), *(len(row[key]) for row in rows)) for key in headers}
    for row in [headers, *rows]:  # plain columns: never wrapped or cut, whatever the terminal
        typer.echo("  ".join(row[key].ljust(widths[key]) for key in headers).rstrip())
    earlier = [(f"{row['schema']}.{version}", numbers) for row in rows for version, numbers in row["earlier"].items()]
    if earlier:
        typer.echo("\nEarlier versions, still read (their new fields take the current schema's defaults):")
        width = max(len(label) for label, _ in earlier)
        for label, numbers in earlier:
            typer.echo(f"  {label.ljust(width)}  {numbers['fingerprint']}  {numbers['crc64_avro']}")
    typer.echo("\nOn the wire: C3 01, the fingerprint's 8 bytes (little-endian), the Avro binary body.")

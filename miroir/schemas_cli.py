"""`miroir schemas`: each schema, the topic that carries it and its CRC-64-AVRO fingerprint.

A producer in another language writes Avro's single-object encoding (`C3 01`, the 8 fingerprint
bytes, the binary body): these are the bytes it must write after `C3 01` for Miroir to read it.
"""

from __future__ import annotations

import json

import typer

from config.settings import settings


def schema_rows() -> list[dict[str, str]]:
    """One row per `.avsc`: its name, its topic (as the settings name it), its fingerprint."""
    from schemas import TOPIC_SCHEMAS, codec_for, schema_names

    topics = settings.pipeline.topics
    topic_of = {schema: getattr(topics, attribute) for attribute, schema in TOPIC_SCHEMAS.items()}
    rows = []
    for name in schema_names():
        fingerprint = codec_for(name).fingerprint
        rows.append(
            {
                "schema": name,
                "topic": topic_of.get(name, "-"),
                "fingerprint": fingerprint.hex(),
                "crc64_avro": f"0x{int.from_bytes(fingerprint, 'little'):016x}",
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
    typer.echo("\nOn the wire: C3 01, the fingerprint's 8 bytes (little-endian), the Avro binary body.")

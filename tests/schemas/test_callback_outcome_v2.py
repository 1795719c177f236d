"""CallbackOutcome v2 adds `root_cause` (the managers' inbox); outcomes v1 wrote are still read."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro

from schemas import codec_for
from schemas.codec import HISTORY_DIR, MAGIC
from tests.examples import EXAMPLES

V1 = HISTORY_DIR / "CallbackOutcome.v1.avsc"
V1_FINGERPRINT = bytes.fromhex("f96b7ede1f48e125")  # what the managers' app wrote before v2
V1_RECORD: dict[str, Any] = {k: v for k, v in EXAMPLES["CallbackOutcome"].items() if k != "root_cause"} | {
    "schema_version": 1
}


def test_the_v1_file_is_the_schema_the_app_wrote_before() -> None:
    canonical = fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(json.loads(V1.read_text())))
    assert fastavro.schema.fingerprint(canonical, "CRC-64-AVRO") == V1_FINGERPRINT.hex()
    assert codec_for("CallbackOutcome").fingerprint != V1_FINGERPRINT


def test_an_outcome_written_with_v1_decodes_with_no_root_cause() -> None:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(json.loads(V1.read_text())), V1_RECORD)
    decoded = codec_for("CallbackOutcome").decode(MAGIC + V1_FINGERPRINT + body.getvalue())
    assert decoded == {**V1_RECORD, "root_cause": None}


def test_v2_carries_the_root_cause_and_defaults_to_none() -> None:
    codec = codec_for("CallbackOutcome")
    assert codec.decode(codec.encode(EXAMPLES["CallbackOutcome"]))["root_cause"] == "late_delivery"
    assert codec.decode(codec.encode({**EXAMPLES["CallbackOutcome"], "root_cause": None}))["root_cause"] is None

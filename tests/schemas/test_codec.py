"""The Avro codec: exact bytes, round trips, clear rejections, and earlier versions still read."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import SerializationError, codec_for, schema_names
from schemas.catalog import TOPIC_SCHEMAS
from schemas.codec import HEADER_SIZE, HISTORY_DIR, MAGIC, SCHEMA_DIR, crc64_avro, earlier_versions
from tests.examples import EXAMPLES


def test_every_topic_has_a_schema_and_an_example() -> None:
    assert set(TOPIC_SCHEMAS.values()) <= set(schema_names())
    assert set(schema_names()) == set(EXAMPLES)
    for name in schema_names():
        assert codec_for(name).schema["name"] == f"miroir.{name}"


def test_crc64_avro_matches_the_spec_vectors_and_fastavro() -> None:
    # Fingerprints of the primitive schemas "int" and "null" from Avro's test suite.
    assert crc64_avro(b'"int"') == 8247732601305521295
    assert crc64_avro(b'"null"') == 7195948357588979594
    for name in schema_names():
        codec = codec_for(name)
        canonical = fastavro.schema.to_parsing_canonical_form(codec.schema)
        assert codec.fingerprint.hex() == fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")


def test_exact_bytes_of_a_staff_feedback() -> None:
    codec = codec_for("StaffFeedback")
    record = {
        "feedback_id": "f",
        "staff_ref": "s",
        "site": "x",
        "journey_id": None,
        "step_id": None,
        "prompt": "most_frustrating",
        "verbatim": "ok",
        "language": None,
        "event_time": datetime(1970, 1, 1, tzinfo=UTC),
    }
    # Avro binary by hand: zig-zag varints, length-prefixed strings, union and enum indexes.
    body = bytes(
        [
            0x04,  # schema_version = 2 (default)
            0x02,
            0x66,  # feedback_id "f"
            0x02,
            0x73,  # staff_ref "s"
            0x02,
            0x78,  # site "x"
            0x00,  # journey_id: union branch 0 (null)
            0x00,  # step_id: null
            0x02,  # prompt: enum symbol 1 (most_frustrating)
            0x04,
            0x6F,
            0x6B,  # verbatim "ok"
            0x00,  # language: null
            0x00,  # event_time: 0 ms
        ]
    )
    assert codec.encode(record) == b"\xc3\x01" + codec.fingerprint + body
    assert codec.decode(b"\xc3\x01" + codec.fingerprint + body)["prompt"] == "most_frustrating"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_round_trips(name: str) -> None:
    codec = codec_for(name)
    assert codec.decode(codec.encode(EXAMPLES[name])) == EXAMPLES[name]


# ------------------------------------------------------------ Hypothesis

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _strategy(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    if isinstance(schema, list):
        return st.one_of(*(_strategy(branch, named) for branch in schema))
    if isinstance(schema, str):
        primitive = {
            "null": st.none(),
            "boolean": st.booleans(),
            "string": st.text(max_size=40),
            "bytes": st.binary(max_size=40),
            "int": st.integers(-(2**31), 2**31 - 1),
            "long": st.integers(-(2**63), 2**63 - 1),
            "double": st.floats(allow_nan=False),
            "float": st.floats(width=32, allow_nan=False),
        }
        return primitive[schema] if schema in primitive else named[schema]
    kind = schema["type"]
    if schema.get("logicalType") == "timestamp-millis":
        return st.integers(0, 4_000_000_000_000).map(lambda ms: _EPOCH + timedelta(milliseconds=ms))
    if kind == "enum":
        strategy = st.sampled_from(schema["symbols"])
    elif kind == "array":
        strategy = st.lists(_strategy(schema["items"], named), max_size=5)
    elif kind == "record":
        strategy = st.deferred(
            lambda: st.fixed_dictionaries({f["name"]: _strategy(f["type"], named) for f in schema["fields"]})
        )
    else:
        return _strategy(kind, named)
    if "name" in schema:
        named[schema["name"]] = strategy
    return strategy


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_valid_record_round_trips(name: str, data: st.DataObject) -> None:
    codec = codec_for(name)
    record = data.draw(_strategy(codec.schema, {}))
    assert codec.decode(codec.encode(record)) == record


# ------------------------------------------------------------ rejections


def _without(record: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != field}


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (_without(EXAMPLES["SurveyResponse"], "verbatim"), "verbatim", "missing_field"),
        (_without(EXAMPLES["SurveyResponse"], "response_id"), "response_id", "missing_field"),
        ({**EXAMPLES["SurveyResponse"], "score": "ten"}, "score", "invalid_field"),
        ({**EXAMPLES["SurveyResponse"], "score_scale": "STARS"}, "score_scale", "invalid_field"),
        ({**EXAMPLES["SurveyResponse"], "channel": "fax"}, "channel", "invalid_field"),
        ({**EXAMPLES["SurveyResponse"], "contact": {"email": 42}}, "contact", "invalid_field"),
        ({**EXAMPLES["MirrorState"], "mirror_type": "flapping"}, "mirror_type", "invalid_field"),
    ],
)
def test_invalid_record_is_rejected_naming_the_field(record: dict[str, Any], field: str, reason: str) -> None:
    schema = "MirrorState" if "mirror_type" in record else "SurveyResponse"
    with pytest.raises(SerializationError) as caught:
        codec_for(schema).encode(record)
    assert caught.value.field == field
    assert caught.value.reason == reason
    assert f"{schema}.{field}" in str(caught.value)


def test_a_missing_field_with_a_default_is_filled_in() -> None:
    codec = codec_for("SurveyResponse")
    record = _without(EXAMPLES["SurveyResponse"], "channel")
    assert codec.decode(codec.encode(record))["channel"] == "other"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "not Avro single-object encoding"),
        (b'{"score": 3}', "not Avro single-object encoding"),
        (b"\xc3\x01" + bytes(8) + b"\x02", "written with another schema"),
    ],
)
def test_bytes_that_are_not_this_schema_are_rejected(data: bytes, expected: str) -> None:
    with pytest.raises(SerializationError, match=expected) as caught:
        codec_for("SurveyResponse").decode(data)
    assert caught.value.reason == "undecodable"


def test_truncated_and_padded_bodies_are_rejected() -> None:
    codec = codec_for("SurveyResponse")
    encoded = codec.encode(EXAMPLES["SurveyResponse"])
    with pytest.raises(SerializationError, match="corrupt body"):
        codec.decode(encoded[:-3])
    with pytest.raises(SerializationError, match="trailing bytes"):
        codec.decode(encoded + b"\x00")


def test_other_schemas_bytes_are_rejected() -> None:
    staff = codec_for("StaffFeedback").encode(EXAMPLES["StaffFeedback"])
    with pytest.raises(SerializationError, match="another schema"):
        codec_for("SurveyResponse").decode(staff)


# ------------------------------------------------------------ numbers beyond the types


def wire(name: str, record: dict[str, Any], **longs: int) -> bytes:
    """`record` as a hostile producer may write it: the fields in `longs` as raw Avro longs (an int's
    encoding too), whatever their type or logical type says, under the schema's own header."""
    schema = json.loads((SCHEMA_DIR / f"{name}.avsc").read_text())
    for field in schema["fields"]:
        if field["name"] in longs:
            field["type"] = "long"
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), {**record, **longs})
    return MAGIC + codec_for(name).fingerprint + body.getvalue()


FIRST_MS, LAST_MS = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 and 9999-12-31T23:59:59.999


@pytest.mark.parametrize("name", ["SurveyResponse", "StaffFeedback"])
@pytest.mark.parametrize("ms", [2**62, -(2**62), 2**63 - 1, -(2**63), LAST_MS + 1, FIRST_MS - 1, 10**17])
def test_a_timestamp_no_date_holds_is_named_not_an_overflow(name: str, ms: int) -> None:
    with pytest.raises(SerializationError) as caught:
        codec_for(name).decode(wire(name, EXAMPLES[name], event_time=ms))
    assert (caught.value.field, caught.value.reason) == ("event_time", "event_time_out_of_range")
    assert f"{name}.event_time: timestamp-millis {ms} is out of range" in str(caught.value)


def test_the_first_and_last_dates_still_decode() -> None:
    codec = codec_for("StaffFeedback")
    first = codec.decode(wire("StaffFeedback", EXAMPLES["StaffFeedback"], event_time=FIRST_MS))
    last = codec.decode(wire("StaffFeedback", EXAMPLES["StaffFeedback"], event_time=LAST_MS))
    assert first["event_time"] == datetime.min.replace(tzinfo=UTC)
    assert last["event_time"] == datetime.max.replace(tzinfo=UTC, microsecond=999000)


def test_a_far_out_timestamp_in_a_corrupt_body_is_undecodable() -> None:
    data = wire("StaffFeedback", EXAMPLES["StaffFeedback"], event_time=2**62)
    with pytest.raises(SerializationError, match="corrupt body: OverflowError") as caught:
        codec_for("StaffFeedback").decode(data + b"\x00")
    assert caught.value.reason == "undecodable"


def test_an_int_beyond_32_bits_decodes_for_the_checks_to_name() -> None:
    """fastavro reads an int as the long it is on the wire: no overflow; the score's check names it."""
    record = codec_for("SurveyResponse").decode(wire("SurveyResponse", EXAMPLES["SurveyResponse"], score=2**40))
    assert record["score"] == 2**40


# ------------------------------------------------------------ earlier versions

V1 = HISTORY_DIR / "StaffFeedback.v1.avsc"
V1_FINGERPRINT = bytes.fromhex("86417996deb8c2f0")  # in Kafka, and written by producers still on v1
V1_RECORD = {k: v for k, v in EXAMPLES["StaffFeedback"].items() if k != "step_id"} | {"schema_version": 1}


def written_with_v1(record: dict[str, Any], **longs: int) -> bytes:
    """`record` as a producer still on StaffFeedback v1 writes it (the fields in `longs` as raw longs)."""
    schema = json.loads(V1.read_text())
    for field in schema["fields"]:
        if field["name"] in longs:
            field["type"] = "long"
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), {**record, **longs})
    return MAGIC + V1_FINGERPRINT + body.getvalue()


def test_the_v1_file_is_the_schema_v1_producers_write() -> None:
    canonical = fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(json.loads(V1.read_text())))
    assert fastavro.schema.fingerprint(canonical, "CRC-64-AVRO") == V1_FINGERPRINT.hex()
    assert codec_for("StaffFeedback").fingerprint != V1_FINGERPRINT


def test_a_staff_feedback_written_with_v1_decodes_with_no_step() -> None:
    decoded = codec_for("StaffFeedback").decode(written_with_v1(V1_RECORD))
    assert decoded == {**V1_RECORD, "step_id": None}  # schema_version: the writer's, 1


def test_a_v1_timestamp_no_date_holds_is_named_too() -> None:
    with pytest.raises(SerializationError) as caught:
        codec_for("StaffFeedback").decode(written_with_v1(V1_RECORD, event_time=2**62))
    assert (caught.value.field, caught.value.reason) == ("event_time", "event_time_out_of_range")


@pytest.mark.parametrize("fingerprint", [bytes(8), codec_for("SurveyResponse").fingerprint, V1_FINGERPRINT[::-1]])
def test_a_fingerprint_of_no_version_is_still_refused(fingerprint: bytes) -> None:
    data = written_with_v1(V1_RECORD)
    with pytest.raises(SerializationError, match="written with another schema") as caught:
        codec_for("StaffFeedback").decode(data[:2] + fingerprint + data[HEADER_SIZE:])
    assert caught.value.reason == "undecodable"
    assert f"expected {codec_for('StaffFeedback').fingerprint.hex()}" in str(caught.value)
    with pytest.raises(SerializationError, match="written with another schema"):
        codec_for("SurveyResponse").decode(data)  # a v1 StaffFeedback is no SurveyResponse


HISTORY = [(name, path) for name in schema_names() for path in earlier_versions(name).values()]


@pytest.mark.parametrize(("name", "path"), HISTORY, ids=[path.name for _, path in HISTORY])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_record_of_an_earlier_version_decodes_into_the_current_one(
    name: str, path: Path, data: st.DataObject
) -> None:
    """Each history file resolves into its current schema: a field it lacks takes its default."""
    old = fastavro.parse_schema(json.loads(path.read_text()))
    canonical = fastavro.schema.to_parsing_canonical_form(old)
    record = data.draw(_strategy(old, {}))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, old, record)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    codec = codec_for(name)
    expected = {f["name"]: record.get(f["name"], f.get("default")) for f in codec.schema["fields"]}
    assert codec.decode(MAGIC + fingerprint + body.getvalue()) == expected

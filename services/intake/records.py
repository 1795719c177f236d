"""From a JSON item to a record the pipeline takes, or the field at fault and why. Pure: no I/O.

The request models are built from the `.avsc` files themselves (the wire contract
stays the one truth): each Avro field is a JSON field of the same name, enums
their symbols, times ISO 8601 with an offset. An item passes three gates, each
naming the field it stops at: the model (types, missing and unknown fields), the
Avro codec (what the model cannot say, e.g. an int over 32 bits) and the domain
checks the worker applies (`processors.validation`: a journey or step the
taxonomy lacks, a score off its scale, an empty or huge verbatim, an event time
far off), so that what the door accepts is never dead-lettered behind it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)

from processors.taxonomy import Taxonomy
from processors.validation import check_staff_feedback, check_survey_response
from schemas import INPUT_SCHEMAS, SerializationError, codec_for
from schemas.codec import SCHEMA_DIR

# The business id of each kind: the Kafka key, and the id a batch's answer gives back.
ID_FIELDS = {"survey": "response_id", "staff": "feedback_id"}
DOMAIN_CHECKS = {"survey": check_survey_response, "staff": check_staff_feedback}
# The field each of the worker's dead-letter reasons is about.
REASON_FIELDS = {
    "score_out_of_range": "score",
    "empty_verbatim": "verbatim",
    "verbatim_too_long": "verbatim",
    "event_time_out_of_range": "event_time",
    "unknown_journey": "journey_id",
    "unknown_step": "step_id",
}
PYDANTIC_REASONS = {"missing": "missing_field", "extra_forbidden": "unknown_field"}
AVRO_INT = (-(2**31), 2**31 - 1)
AVRO_LONG = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Problem:
    """Why an item is refused: the field at fault (None: the item as a whole), a short reason
    word, and a sentence for people."""

    field: str | None
    reason: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class Accepted:
    kind: str
    key: str
    record: dict[str, Any]


def _iso_time(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("expected an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z (not a number)")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_time)]
_PRIMITIVES: dict[str, Any] = {
    "string": StrictStr,
    "boolean": StrictBool,
    "int": Annotated[StrictInt, Field(ge=AVRO_INT[0], le=AVRO_INT[1])],
    "long": Annotated[StrictInt, Field(ge=AVRO_LONG[0], le=AVRO_LONG[1])],
    "float": StrictFloat | StrictInt,
    "double": StrictFloat | StrictInt,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _python_type(avro: Any, models: dict[str, type[BaseModel]]) -> Any:
    if isinstance(avro, list):  # a union: ["null", X] is an optional X
        branches = [_python_type(branch, models) for branch in avro if branch != "null"]
        union = branches[0] if len(branches) == 1 else Any
        return union | None if "null" in avro else union
    if isinstance(avro, str):
        if avro in models:
            return models[avro]
        return _PRIMITIVES[avro]
    if avro.get("logicalType") in ("timestamp-millis", "timestamp-micros"):
        return Timestamp
    kind = avro["type"]
    if kind == "enum":
        return Literal[tuple(avro["symbols"])]
    if kind == "record":
        return _model(avro, models)
    return _python_type(kind, models)


def _model(avro: dict[str, Any], models: dict[str, type[BaseModel]]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field in avro["fields"]:
        default = field.get("default", ...)
        fields[field["name"]] = (
            _python_type(field["type"], models),
            Field(default=default, description=field.get("doc")),
        )
    model = create_model(avro["name"], __base__=_Strict, __doc__=avro.get("doc"), **fields)
    models[avro["name"]] = model
    return model


@cache
def request_model(kind: str) -> type[BaseModel]:
    """The JSON body of one record of `kind` ("survey", "staff"), from its `.avsc`."""
    name = INPUT_SCHEMAS[kind]
    return _model(json.loads((SCHEMA_DIR / f"{name}.avsc").read_text()), {})


def _from_pydantic(error: ValidationError) -> Problem:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return Problem(field, PYDANTIC_REASONS.get(first["type"], "invalid_field"), first["msg"])


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: _utc(v) for k, v in value.items()}
    return value


def check_item(kind: str, item: Any, taxonomy: Taxonomy, now: float) -> Accepted | Problem:
    """One JSON item of `kind` -> the record to send, keyed by its business id, or the Problem."""
    if not isinstance(item, dict):
        return Problem(None, "not_an_object", f"expected a JSON object, got {type(item).__name__}")
    try:
        record = _utc(request_model(kind).model_validate(item).model_dump())
    except ValidationError as error:
        return _from_pydantic(error)
    id_field = ID_FIELDS[kind]
    if not record[id_field].strip():
        return Problem(id_field, "empty_id", f"{id_field} is empty: it is the key that makes resending safe")
    try:
        codec_for(INPUT_SCHEMAS[kind]).check(record)
    except SerializationError as error:
        return Problem(error.field, error.reason, str(error))
    rejection = DOMAIN_CHECKS[kind](record, taxonomy, now)
    if rejection is not None:
        return Problem(REASON_FIELDS.get(rejection.reason), rejection.reason, rejection.detail)
    return Accepted(kind, record[id_field], record)


def item_id(kind: str, item: Any) -> str | None:
    """The business id an item carries, if any (to name it in a batch's answer, valid or not)."""
    value = item.get(ID_FIELDS[kind]) if isinstance(item, dict) else None
    return value if isinstance(value, str) else None

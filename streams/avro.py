"""Faust codecs built on `schemas.codec`, registered by name (`avro_<snake_name>`)."""

from __future__ import annotations

import re
from typing import Any

from faust.serializers import codecs

from schemas.codec import AvroCodec, codec_for, schema_names


def codec_name(schema: str) -> str:
    """'SurveyResponse' -> 'avro_survey_response'."""
    return "avro_" + re.sub(r"(?<!^)(?=[A-Z])", "_", schema).lower()


class FaustAvroCodec(codecs.Codec):
    def __init__(self, avro: AvroCodec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.avro = avro

    def _dumps(self, obj: Any) -> bytes:
        return self.avro.encode(obj)

    def _loads(self, s: bytes) -> Any:
        return self.avro.decode(s)


def register_avro_codecs() -> None:
    for schema in schema_names():
        codecs.register(codec_name(schema), FaustAvroCodec(codec_for(schema)))

"""Avro schemas (`*.avsc`, the single source of truth) and the codec that reads them."""

from schemas.catalog import INPUT_SCHEMAS, TOPIC_SCHEMAS
from schemas.codec import AvroCodec, SerializationError, codec_for, schema_names

__all__ = [
    "INPUT_SCHEMAS",
    "TOPIC_SCHEMAS",
    "AvroCodec",
    "SerializationError",
    "codec_for",
    "schema_names",
]

"""Avro schemas (`*.avsc`, the single source of truth) and the codec that reads them."""

from schemas.catalog import TOPIC_SCHEMAS, codec_for_topic
from schemas.codec import AvroCodec, SerializationError, codec_for, schema_names

__all__ = [
    "TOPIC_SCHEMAS",
    "AvroCodec",
    "SerializationError",
    "codec_for",
    "codec_for_topic",
    "schema_names",
]

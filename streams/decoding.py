"""Bytes from an input topic -> a decoded record, or the Rejection that sends them to dead-letters."""

from __future__ import annotations

from typing import Any

from processors.validation import Rejection
from schemas import AvroCodec, SerializationError


def decode_input(raw: Any, codec: AvroCodec) -> dict[str, Any] | Rejection:
    """Never raises: bytes that are not a record of the codec's schema come back as a Rejection
    naming why (undecodable, a field out of range, ...)."""
    try:
        return codec.decode(raw)
    except SerializationError as error:
        return Rejection(error.reason, str(error))

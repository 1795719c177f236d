"""Bytes from an input topic -> a decoded record, or the Rejection that sends them to dead-letters."""

from __future__ import annotations

import logging
from typing import Any

from processors.validation import Rejection
from schemas import AvroCodec, SerializationError

log = logging.getLogger(__name__)


def decode_input(raw: Any, codec: AvroCodec) -> dict[str, Any] | Rejection:
    """Never raises: bytes that are not a record of the codec's schema come back as a Rejection
    naming why (undecodable, a field out of range such as event_time_out_of_range, ...)."""
    try:
        return codec.decode(raw)
    except SerializationError as error:
        return Rejection(error.reason, str(error))
    except Exception as error:  # the codec names what it knows; anything else is still bytes it cannot read
        log.exception("could not decode an input")
        return Rejection("undecodable", f"{codec.name}: {type(error).__name__}: {error}")

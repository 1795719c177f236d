"""The intake's limits: requests per token (a token bucket each) and the size of a body."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class TooLarge(Exception):
    """A body over the limit: refused (413) before it is read whole."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the body is over {limit} bytes")


async def read_limited(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """The body, or TooLarge as soon as the declared length or the bytes read pass `limit`
    (a chunked body has no declared length: it is counted as it comes)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise TooLarge(limit)
    return bytes(body)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`rate` requests per second per key, in bursts of up to `burst`: one bucket per token name,
    in this process (each intake process counts its own requests)."""

    rate: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float) -> float:
        """0 when the request may go on, else the seconds until it may (for Retry-After)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def retry_after(seconds: float, at_least: int = 1) -> str:
    """A Retry-After header's value: whole seconds, rounded up."""
    return str(max(at_least, math.ceil(seconds)))

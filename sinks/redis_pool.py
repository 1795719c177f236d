"""One way to get an async Redis client for a service that answers bursts of requests."""

from __future__ import annotations

import redis.asyncio as aioredis


def blocking_client(url: str, size: int) -> aioredis.Redis:
    """A client over a blocking pool: under a burst, a request waits (up to 5 s) for one of `size`
    connections; redis-py's default pool refuses the 101st at once ("Too many connections"), which
    the intake answered with 503s for most of a burst of 600 requests. Closing the client closes
    its pool."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=size, timeout=5, decode_responses=True, socket_timeout=5, socket_connect_timeout=5
    )
    return aioredis.Redis.from_pool(pool)

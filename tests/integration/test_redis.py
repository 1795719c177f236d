"""The real Redis started by the stack."""

from __future__ import annotations

from typing import Any

import redis

from config.settings import Settings


def test_redis_round_trip_and_streams(stack: Settings) -> None:
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:
        client.set("test:redis:key", "valeur é", ex=60)
        assert client.get("test:redis:key") == "valeur é"

        stream = "test:redis:stream"
        client.delete(stream)
        first = client.xadd(stream, {"callback_id": "cb-1"})
        client.xadd(stream, {"callback_id": "cb-2"})
        assert [fields["callback_id"] for _, fields in client.xrange(stream)] == ["cb-1", "cb-2"]
        assert client.xrange(stream)[0][0] == first
        client.delete(stream, "test:redis:key")
    finally:
        client.close()


def test_redis_keeps_an_append_only_file(stack: Settings) -> None:
    client = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
    finally:
        client.close()

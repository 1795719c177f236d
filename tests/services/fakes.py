"""Stand-ins for the intake's Kafka producer and token store, for tests without the stack."""

from __future__ import annotations

from typing import Any

from services.intake.sender import BrokerUnavailable
from sinks.intake_tokens import TokenInfo

GOOD = "mir_good-token"
REVOKED = "mir_revoked-token"


class FakeSender:
    def __init__(self, down: bool = False, unconfirmed: frozenset[str] = frozenset()) -> None:
        self.down = down
        self.unconfirmed = unconfirmed  # keys Kafka does not confirm
        self.sent: list[tuple[str, str, bytes]] = []

    async def start(self) -> None:
        return None

    async def send_many(self, records: list[tuple[str, str, bytes]]) -> list[Any]:
        if self.down:
            raise BrokerUnavailable("Kafka at localhost:1 cannot be reached (KafkaConnectionError)")
        errors: list[Any] = []
        for record in records:
            if record[1] in self.unconfirmed:
                errors.append(BrokerUnavailable("Kafka did not confirm within 10s"))
            else:
                self.sent.append(record)
                errors.append(None)
        return errors

    async def problem(self, topics: list[str]) -> str | None:
        return "Kafka at localhost:1 cannot be reached" if self.down else None


class FakeTokens:
    def __init__(self) -> None:
        self.infos = {GOOD: TokenInfo("survey-tool", 0.0, None), REVOKED: TokenInfo("old-tool", 0.0, 5.0)}

    async def lookup(self, token: str) -> TokenInfo | None:
        return self.infos.get(token)

    async def ping(self) -> None:
        return None


class FakeErasures:
    """Nobody erased (the real check: tests/services/test_privacy.py, against Redis)."""

    async def secret(self, privacy: Any) -> bytes:
        return b"k" * 32

    async def erased_among(self, keys: set[str]) -> set[str]:
        return set()

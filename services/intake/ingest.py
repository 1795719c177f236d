"""What a POST does with its JSON: check every item, send the good ones, answer for each.

Nothing is half-written: a refused item never reaches Kafka, and an item is
reported accepted (202) only once Kafka confirmed it. A batch (a JSON array)
answers item by item: 202 when all were accepted, 422 when none was and all
were refused, 207 otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.exceptions import RedisError

from config.settings import IntakeSettings, PrivacySettings
from config.topics import Topics
from processors.privacy import pseudonym, subjects_of
from processors.taxonomy import Taxonomy
from schemas import INPUT_SCHEMAS, codec_for
from services.intake.metrics import IntakeMetrics
from services.intake.records import Accepted, Problem, check_item, item_id
from services.intake.sender import BrokerUnavailable
from sinks.intake_tokens import TokenInfo

MULTI_STATUS = 207
REDIS_DOWN = (RedisError, OSError)  # as the token check (services/intake/app.py)
ERASED = (
    "this person asked to be forgotten (an erasure under the GDPR): Miroir takes nothing more about them; "
    "do not send it again"
)


class Refusal(Exception):
    """The whole request is refused: its status, a reason word, a sentence, and headers to add."""

    def __init__(
        self, status: int, reason: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = Problem(field, reason, message)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.problem.as_json()}


class Sender(Protocol):
    async def send_many(self, records: list[tuple[str, str, bytes]]) -> list[Any]: ...
    async def problem(self, topics: list[str]) -> str | None: ...
    async def start(self) -> None: ...


class Tokens(Protocol):
    async def lookup(self, token: str) -> TokenInfo | None: ...
    async def ping(self) -> None: ...


class Erasures(Protocol):
    """Who asked to be forgotten (sinks.privacy.PrivacyStore)."""

    async def secret(self, privacy: PrivacySettings) -> bytes: ...
    async def erased_among(self, keys: set[str]) -> set[str]: ...


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as error:
        raise Refusal(422, "invalid_json", f"the body is not UTF-8: {error}") from None
    except json.JSONDecodeError as error:
        raise Refusal(422, "invalid_json", f"the body is not JSON: {error}") from None
    except RecursionError:
        raise Refusal(422, "invalid_json", "the body nests too deep") from None


# A transformation applied to each item before it is checked (a webhook's mapping), or None.
Transform = Callable[[Any], Accepted | Problem | dict[str, Any]]


@dataclass
class Intake:
    """The app's state: its settings, topics, clients, limits and metrics."""

    settings: IntakeSettings
    topics: Topics
    taxonomy: Taxonomy
    sender: Sender
    tokens: Tokens
    metrics: IntakeMetrics
    clock: Callable[[], float]
    erasures: Erasures | None = None  # None: nothing refused as erased (unit tests)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)

    def retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self.settings.retry_after)}

    def topic(self, kind: str) -> str:
        return self.topics.of_kind(kind)

    async def accept(self, kind: str, payload: Any, transform: Transform | None = None) -> Answer:
        batch = isinstance(payload, list)
        items = payload if batch else [payload]
        if batch and not items:
            raise Refusal(422, "empty_batch", "the batch is empty: send an object or an array of 1 or more")
        if len(items) > self.settings.batch_max:
            raise Refusal(
                413, "batch_too_large", f"{len(items)} records in one batch; at most {self.settings.batch_max}"
            )
        now = self.clock()
        results: list[Accepted | Problem] = []
        for item in items:
            mapped = transform(item) if transform else item
            results.append(
                mapped if isinstance(mapped, Accepted | Problem) else check_item(kind, mapped, self.taxonomy, now)
            )
        await self._privacy(kind, results)
        good = [(i, r) for i, r in enumerate(results) if isinstance(r, Accepted)]
        codec = codec_for(INPUT_SCHEMAS[kind])
        errors: list[Any] = []
        if good:
            try:
                errors = await self.sender.send_many(
                    [(self.topic(kind), r.key, codec.encode(r.record)) for _, r in good]
                )
            except BrokerUnavailable as error:  # the producer could not start: nothing was sent
                self.metrics.records.labels(kind, "unavailable").inc(len(good))
                raise Refusal(
                    503, "kafka_unavailable", f"{error}; nothing was accepted", headers=self.retry_after()
                ) from None
        unconfirmed = {i: e for (i, _), e in zip(good, errors, strict=True) if e is not None}
        return self._answer(kind, items, results, unconfirmed, batch)

    async def _privacy(self, kind: str, results: list[Accepted | Problem]) -> None:
        """Refuse (422 `erased`) what is about a person who asked to be forgotten, whoever resends
        it; put a staff member's ref under its keyed pseudonym before it reaches Kafka."""
        if self.erasures is None:
            return
        try:
            await self._screen(kind, results, self.erasures)
        except REDIS_DOWN as error:  # whom to refuse cannot be told: nothing is taken, try again
            raise Refusal(
                503,
                "redis_unavailable",
                f"Redis cannot be reached ({error}); nothing was accepted",
                headers=self.retry_after(),
            ) from None

    async def _screen(self, kind: str, results: list[Accepted | Problem], erasures: Erasures) -> None:
        secret = await erasures.secret(self.privacy)
        if kind == "staff":
            for result in results:
                if isinstance(result, Accepted):
                    result.record["staff_ref"] = pseudonym(result.record["staff_ref"], secret)
            return
        subjects = {i: subjects_of(r.record, secret) for i, r in enumerate(results) if isinstance(r, Accepted)}
        erased = await erasures.erased_among(set().union(*subjects.values()))
        for i, keys in subjects.items():
            if keys & erased:
                results[i] = Problem(None, "erased", ERASED)

    def _answer(
        self, kind: str, items: list[Any], results: list[Accepted | Problem], unconfirmed: dict[int, Any], batch: bool
    ) -> Answer:
        rows: list[dict[str, Any]] = []
        for index, (item, result) in enumerate(zip(items, results, strict=True)):
            if isinstance(result, Problem):
                rows.append({"index": index, "status": 422, "id": item_id(kind, item), "error": result.as_json()})
            elif index in unconfirmed:
                problem = Problem(None, "kafka_unavailable", f"{unconfirmed[index]}; resend it with the same id")
                rows.append({"index": index, "status": 503, "id": result.key, "error": problem.as_json()})
            else:
                rows.append({"index": index, "status": 202, "id": result.key, "error": None})
        counts = {
            outcome: sum(1 for row in rows if row["status"] == status)
            for outcome, status in (("accepted", 202), ("rejected", 422), ("unavailable", 503))
        }
        for outcome, n in counts.items():
            if n:
                self.metrics.records.labels(kind, outcome).inc(n)
        headers = self.retry_after() if counts["unavailable"] else {}
        if not batch:
            row = rows[0]
            body = (
                {"id": row["id"], "status": "accepted"}
                if row["status"] == 202
                else {"id": row["id"], "error": row["error"]}
            )
            return Answer(int(row["status"]), body, headers)
        if counts["accepted"] == len(rows):
            status = 202
        elif counts["accepted"] == 0 and counts["rejected"] == len(rows):
            status = 422
        elif counts["accepted"] == 0 and counts["rejected"] == 0:
            status = 503
        else:
            status = MULTI_STATUS
        return Answer(status, {**counts, "items": rows}, headers)

"""Erasures and access requests (the GDPR's articles 17 and 15), for admins only, audited.

`POST /v1/privacy/erasures` with one of customer_ref, email or phone: every callback about that
person (matched by any of the three, so answers with no customer ref are found by their contact)
loses its personal fields; the person's subject keys go to the erased list, which the intake and the
pipeline check, so a replay or a retried webhook cannot bring them back; the answer says what could
not be erased and when it will be gone. `POST /v1/privacy/exports`: every record Miroir's Redis
holds about the person, as JSON. Both are written to the privacy audit (who, when, from where, how
many records), never with the identifier itself. `miroir privacy` calls them with a personal token.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from processors.privacy import DAY, KINDS, Kind, PrivacyError, ref_spellings, subject_key
from services.managers.api import REFUSALS
from services.managers.auth import Acting, Caller
from services.managers.context import Managers, Refusal, client_address, managers
from sinks.privacy import PrivacyStore

router = APIRouter(prefix="/v1/privacy")
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
ADMINS_ONLY = {**REFUSALS, 403: {"description": "Not an admin"}}


class Subject(BaseModel):
    """Who: exactly one of the three."""

    model_config = ConfigDict(extra="forbid")
    customer_ref: Value | None = None
    email: Value | None = None
    phone: Value | None = None

    @model_validator(mode="after")
    def _one(self) -> Subject:
        if sum(v is not None for v in (self.customer_ref, self.email, self.phone)) != 1:
            raise ValueError("give exactly one of customer_ref, email, phone")
        return self

    def named(self) -> tuple[Kind, str]:
        return next((kind, value) for kind in KINDS if (value := getattr(self, kind)) is not None)


class Erased(BaseModel):
    subjects: int = Field(description="Subject keys refused from now on (the person's ref, e-mail, phone)")
    callbacks: list[str] = Field(description="Callbacks whose personal fields were removed")
    not_erased: list[dict[str, str]] = Field(description="What Miroir cannot erase now (where, what) and when it goes")
    audit_id: str


def _admin(caller: Caller) -> None:
    if caller.user.role != "admin":
        raise Refusal(403, "admins_only", "erasures and exports of personal data are for admins")


async def _found(app: Managers, subject: Subject, refuse: bool) -> tuple[PrivacyStore, set[str], list[dict[str, Any]]]:
    """The store, the person's subject keys (those given and those of every callback found) and
    their callbacks. `refuse`: an erasure, whose keys are refused before the search begins (an
    answer or a callback arriving meanwhile is refused, not missed)."""
    store = app.privacy
    assert store is not None  # built by create_app
    secret = await store.secret(app.privacy_settings)
    kind, value = subject.named()
    try:
        given = {subject_key(kind, v, secret) for v in (ref_spellings(value) if kind == "customer_ref" else {value})}
    except PrivacyError as error:
        raise Refusal(422, "invalid_request", str(error)) from None
    if refuse:
        await store.refuse(given, app.clock())
    keys, callbacks = await store.callbacks_of(given, secret)
    if refuse:
        await store.refuse(keys - given, app.clock())
    return store, keys, callbacks


def not_erased(app: Managers, now: float) -> list[dict[str, str]]:
    """Copies Miroir cannot cut now: Kafka keeps a record until its topic's retention ends."""
    p, topics = app.privacy_settings, app.topics

    def by(days: float) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(now + days * DAY))

    inputs = ", ".join((topics.survey_responses, topics.callback_requests, topics.callback_outcomes))
    return [
        {"where": f"Kafka topics {inputs}", "what": "the answers, callback requests and outcomes as sent",
         "when": f"gone by {by(p.input_days)} (their retention)"},
        {"where": f"Kafka topic {topics.dead_letters}", "what": "rejected inputs' original bytes",
         "when": f"gone by {by(p.dead_letter_days)} (its retention)"},
        {"where": "the mirror's table changelogs in Kafka", "what": "older copies of the evidence excerpts "
         "(the workers' tables drop them within seconds)",
         "when": f"gone when Kafka compacts them, not before {by(7)} with Kafka's default segment.ms"},
        {"where": "backups of Redis or Kafka you keep", "what": "whatever they hold", "when": "as your backups expire"},
    ]  # fmt: skip


@router.post("/erasures", summary="Erase a person (admins): their callbacks' personal fields now, and refuse "
             "anything about them from now on", responses=ADMINS_ONLY)  # fmt: skip
async def erase(request: Request, caller: Acting, body: Subject) -> Erased:
    _admin(caller)
    app = managers(request)
    store, keys, callbacks = await _found(app, body, refuse=True)
    now, who, source = app.clock(), caller.user.name, client_address(request)
    await store.erase(callbacks, who, now)
    for callback in callbacks:
        await app.accounts.audit(callback["callback_id"], who, "erased", source, now)
    audit_id = await store.record("erase", keys, who, source, now, callbacks=len(callbacks))
    return Erased(
        subjects=len(keys),
        callbacks=sorted(c["callback_id"] for c in callbacks),
        not_erased=not_erased(app, now),
        audit_id=audit_id,
    )


@router.post("/exports", summary="Every record Miroir holds about a person (admins), as JSON", responses=ADMINS_ONLY)
async def export(request: Request, caller: Acting, body: Subject) -> dict[str, Any]:
    _admin(caller)
    app = managers(request)
    store, keys, callbacks = await _found(app, body, refuse=False)
    now = app.clock()
    for callback in callbacks:
        callback["audit"] = await app.accounts.audit_trail(callback["callback_id"])
    erased = await store.erased_among(keys)
    audit_id = await store.record(
        "export", keys, caller.user.name, client_address(request), now, callbacks=len(callbacks)
    )
    kind, value = body.named()
    return {
        "subject": {kind: value},
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "erased": bool(erased),
        "callbacks": callbacks,
        # For the workers' evidence (miroir privacy export asks them): hashes, naming nobody without the secret.
        "subject_keys": sorted(keys),
        "elsewhere": "the input topics keep the answers as sent until their retention ends (README: Your data)",
        "audit_id": audit_id,
    }


@router.get("/audit", summary="The latest erasures and exports (admins): who, when, from where", responses=ADMINS_ONLY)
async def audit(request: Request, caller: Acting) -> dict[str, Any]:
    _admin(caller)
    store = managers(request).privacy
    assert store is not None
    return {"entries": await store.audit()}

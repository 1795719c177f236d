"""Personal data's rules: who a record is about, how long each kind of it is kept, what a case keeps
once anonymised. Pure: the callback queue (sinks/callback_queue.py), the privacy store
(sinks/privacy.py), the worker's purge and the intake apply them.

Who a record is about is said by *subject keys*: a keyed hash (HMAC-SHA256 with the privacy secret)
of its customer ref, e-mail address and phone number, each normalised first (so `Jean@X.fr ` and
`jean@x.fr`, `06 12 34 56 78` and `+33612345678` are one person). An erasure is kept as those keys,
never as the values: the record of who asked to be forgotten names nobody to whoever reads Redis
without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from config.settings import PrivacySettings
from processors.mapping import load_mapping, shipped_mappings
from processors.mapping import pseudonym as mapped_ref

DAY = 86400.0
Kind = Literal["customer_ref", "email", "phone"]
KINDS: tuple[Kind, ...] = ("customer_ref", "email", "phone")
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
# What an anonymised case loses: whatever says or leads to who the customer is (the queue's hash).
PERSONAL_FIELDS = (*CONTACT_FIELDS, "verbatim", "customer_ref", "note")
CLOSED = ("resolved", "erased")
ERASED = "erased"  # an input's counter: about a person who asked to be forgotten, nothing kept


class PrivacyError(ValueError):
    """An identifier that cannot name anybody (empty, or no digits in a phone number)."""


def normalise(kind: Kind, value: str) -> str:
    """One spelling per person: e-mail lower-cased; phone as digits with a French national number
    put in international form (0612345678 -> 33612345678); a customer ref as given, trimmed."""
    value = value.strip()
    if kind == "email":
        value = value.lower()
    elif kind == "phone":
        digits = re.sub(r"\D", "", value)
        if digits.startswith("00"):
            digits = digits[2:]
        elif len(digits) == 10 and digits.startswith("0"):
            digits = "33" + digits[1:]
        value = digits
    if not value:
        raise PrivacyError(f"an empty {kind} names nobody")
    return value


def subject_key(kind: Kind, value: str, secret: bytes) -> str:
    """`<kind>:<hex>`: the keyed hash of the normalised value (32 hex digits: 128 bits)."""
    digest = hmac.new(secret, f"{kind}\0{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:32]}"


def ref_spellings(ref: str) -> set[str]:
    """A customer ref as the survey tool sent it, and as each shipped mapping (and `miroir replay`'s
    default) stored it: `<id_prefix>-<hash>` (processors/mapping.py), so that erasing or exporting
    by the tool's ref finds the answers that came through a webhook or an import."""
    return {ref.strip()} | {mapped_ref(ref.strip(), prefix) for prefix in _mapping_prefixes()}


@cache
def _mapping_prefixes() -> frozenset[str]:
    """Read once: the shipped mappings do not change while a process runs."""
    return frozenset({load_mapping(name).id_prefix for name in shipped_mappings()} | {"replay"})


def subjects_of(record: dict[str, Any], secret: bytes) -> set[str]:
    """The subject keys of a survey response, a callback request (contact nested) or a callback as
    the queue keeps it (contact_* fields); none for what names nobody."""
    contact = record.get("contact") or {}
    values: list[tuple[Kind, Any]] = [
        ("customer_ref", record.get("customer_ref")),
        ("email", contact.get("email") or record.get("contact_email")),
        ("phone", contact.get("phone") or record.get("contact_phone")),
    ]
    keys = set()
    for kind, value in values:
        if isinstance(value, str):
            try:
                keys.add(subject_key(kind, value, secret))
            except PrivacyError:
                continue
    return keys


def pseudonym(staff_ref: str, secret: bytes) -> str:
    """A staff member's stable pseudonym: the same person counts once, and nobody can tell who."""
    return "staff-" + hmac.new(secret, f"staff\0{staff_ref.strip()}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Retention:
    """How long each kind of personal data is kept (config.settings.PrivacySettings, in days)."""

    contact_days: float
    case_days: float
    dead_letter_days: float
    input_days: float

    def cut(self, fields: dict[str, str], now: float) -> tuple[str, list[str]] | None:
        """What the purge removes from a callback (the queue's hash) at `now`: ("case", fields) once
        it has been closed `case_days` (anonymised: nothing personal stays), ("contact", fields) once
        closed `contact_days` (nobody calls back a closed case); None while open or nothing is left."""
        if fields.get("status") not in CLOSED:
            return None
        closed_at = float(fields.get("resolved_at") or fields.get("erased_at") or 0.0)
        if not closed_at:
            return None
        age = now - closed_at
        for kind, days, names in (
            ("case", self.case_days, PERSONAL_FIELDS),
            ("contact", self.contact_days, CONTACT_FIELDS),
        ):
            present = [name for name in names if fields.get(name)]
            if age >= days * DAY and present:
                return kind, present
        return None

    def topic_retention_ms(self) -> dict[str, int]:
        """`retention.ms` for the input topics and dead-letters (names: config.topics's kinds)."""
        return {
            "inputs": int(self.input_days * DAY * 1000),
            "dead_letters": int(self.dead_letter_days * DAY * 1000),
            "dead_letter_log": int(self.case_days * DAY * 1000),
        }


def retention(privacy: PrivacySettings) -> Retention:
    return Retention(privacy.contact_days, privacy.case_days, privacy.dead_letter_days, privacy.input_days)

"""What a notification says: e-mail subject and text (French, English), the Slack, Teams and signed
JSON webhook payloads, and the JSON webhook's HMAC-SHA256 signature.

**No contact details and no free text.** A notification names the case (site, journey and step,
score, priority, due time) and links to its page; the customer's name, phone and e-mail stay in the
callback queue, shown to the manager who claims the callback. The verbatim is left out too: it is
the customer's own words and may hold a name, a phone number or an address the redaction misses,
and a copy in a mailbox or a chat room is out of Miroir's reach (kept, forwarded, searched). The
case page shows it, behind sign-in. `Case` is built from a whitelist of the callback's fields, so
a field added to the queue later stays out until someone adds it here.

**The JSON webhook** (version 1): a POST of `json_body(...)` with the headers of `json_headers`:
`X-Miroir-Timestamp` (Unix seconds), `X-Miroir-Signature: sha256=<hex>` (HMAC-SHA256 with the
channel's secret over `<timestamp>.<body bytes>`), `X-Miroir-Delivery` (stable per case, event and
channel: a receiver drops a repeat by it) and `X-Miroir-Event`. `verify` is the receiver's check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

JSON_VERSION = 1
SIGNATURE_TOLERANCE = 300.0  # seconds a receiver accepts between the timestamp and its clock


@dataclass(frozen=True)
class Case:
    """What a notification may say of a callback: nothing that identifies the customer."""

    callback_id: str
    site: str
    journey_id: str
    step_id: str | None
    score: str
    score_scale: str
    priority: str
    due_at: float


def case_of(callback_id: str, fields: Mapping[str, str]) -> Case:
    """From the callback queue's fields, taking only the whitelisted ones (never contact_*, never the verbatim)."""
    return Case(
        callback_id=callback_id,
        site=fields.get("site", ""),
        journey_id=fields.get("journey_id", ""),
        step_id=fields.get("step_id") or None,
        score=fields.get("score", ""),
        score_scale=fields.get("score_scale", ""),
        priority=fields.get("priority", "normal"),
        due_at=float(fields.get("due_at") or 0.0),
    )


def case_link(base_url: str, callback_id: str) -> str:
    return f"{base_url.rstrip('/')}/callbacks/{callback_id}"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


_WORDS = {
    "fr": {
        "created": "Nouveau rappel client",
        "escalated": "Rappel client en retard : escalade",
        "created_lead": "Un client insatisfait a demandé à être rappelé.",
        "escalated_lead": "Ce rappel a dépassé son échéance sans être résolu ; il est escaladé.",
        "site": "Site",
        "journey": "Parcours / étape",
        "score": "Note",
        "priority": "Priorité",
        "due": "À rappeler avant",
        "open": "Ouvrir le dossier",
        "high": "haute",
        "normal": "normale",
        "privacy": "Les coordonnées du client n'apparaissent que sur la page du dossier, pour qui prend le rappel.",
        "digest": "{n} nouveaux rappels clients",
        "digest_lead": "Rappels clients demandés depuis le dernier récapitulatif :",
        "date": "%d/%m/%Y %H:%M",
    },
    "en": {
        "created": "New customer callback",
        "escalated": "Customer callback overdue: escalated",
        "created_lead": "A dissatisfied customer asked to be called back.",
        "escalated_lead": "This callback is past its due time and unresolved; it is escalated.",
        "site": "Site",
        "journey": "Journey / step",
        "score": "Score",
        "priority": "Priority",
        "due": "Call back by",
        "open": "Open the case",
        "high": "high",
        "normal": "normal",
        "privacy": "The customer's contact details are only on the case page, for whoever claims the callback.",
        "digest": "{n} new customer callbacks",
        "digest_lead": "Callbacks asked for since the last digest:",
        "date": "%Y-%m-%d %H:%M",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["fr"])


def _due(case: Case, words: Mapping[str, str], zone: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(case.due_at, tz=zone).strftime(words['date'])} ({zone.key})"


def facts(case: Case, language: str, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The case as (label, value) lines, in `language`."""
    w = _words(language)
    return [
        (w["site"], case.site),
        (w["journey"], f"{case.journey_id} / {case.step_id or '-'}"),
        (w["score"], f"{case.score} ({case.score_scale})"),
        (w["priority"], w.get(case.priority, case.priority)),
        (w["due"], _due(case, w, zone)),
    ]


def email_text(case: Case, action: str, link: str, language: str, zone: ZoneInfo) -> Text:
    w = _words(language)
    lines = [
        w[f"{action}_lead"],
        "",
        *(f"{k} : {v}" if language == "fr" else f"{k}: {v}" for k, v in facts(case, language, zone)),
    ]
    lines += ["", f"{w['open']} : {link}" if language == "fr" else f"{w['open']}: {link}", "", w["privacy"]]
    subject = f"Miroir · {w[action]} · {case.site} ({w.get(case.priority, case.priority)})"
    return Text(subject, "\n".join(lines) + "\n")


def digest_text(cases: Sequence[tuple[Case, str]], language: str, zone: ZoneInfo) -> Text:
    """One e-mail for several admissions: (case, link) each."""
    w = _words(language)
    lines = [w["digest_lead"], ""]
    for case, link in cases:
        lines.append(f"- {case.site} · {case.journey_id} / {case.step_id or '-'} · {case.score} ({case.score_scale})")
        lines.append(f"  {w['priority']} {w.get(case.priority, case.priority)} · {w['due']} {_due(case, w, zone)}")
        lines.append(f"  {link}")
    lines += ["", w["privacy"]]
    return Text(f"Miroir · {w['digest'].format(n=len(cases))}", "\n".join(lines) + "\n")


def slack_payload(case: Case, action: str, link: str, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """Slack incoming webhook: Block Kit blocks, with `text` as the notification's fallback."""
    w = _words(language)
    title = f"{w[action]} · {case.site}"
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts(case, language, zone)]
    return {
        "text": f"{title}: {link}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": w[f"{action}_lead"]}, "fields": fields},
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": w["open"]}, "url": link}],
            },
        ],
    }


def teams_payload(case: Case, action: str, link: str, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """Microsoft Teams: a message with one Adaptive Card attachment, the format both Teams incoming
    webhooks and Workflows' "when a Teams webhook request is received" take."""
    w = _words(language)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": f"{w[action]} · {case.site}"},
            {"type": "TextBlock", "wrap": True, "text": w[f"{action}_lead"]},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts(case, language, zone)]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": w["open"], "url": link}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def json_payload(case: Case, action: str, link: str, delivery: str, occurred_at: float) -> dict[str, Any]:
    """The generic webhook's document, version 1 (README: the JSON webhook)."""
    return {
        "version": JSON_VERSION,
        "delivery_id": delivery,
        "event": f"callback.{action}",
        "occurred_at": _iso(occurred_at),
        "callback": {
            "id": case.callback_id,
            "url": link,
            "site": case.site,
            "journey_id": case.journey_id,
            "step_id": case.step_id,
            "score": int(case.score) if case.score.lstrip("-").isdigit() else case.score,
            "score_scale": case.score_scale,
            "priority": case.priority,
            "due_at": _iso(case.due_at),
        },
    }


def json_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes posted (and signed): compact, keys sorted, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def json_headers(secret: str, timestamp: int, body: bytes, delivery: str, action: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Miroir-Timestamp": str(timestamp),
        "X-Miroir-Signature": sign(secret, timestamp, body),
        "X-Miroir-Delivery": delivery,
        "X-Miroir-Event": f"callback.{action}",
    }


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = SIGNATURE_TOLERANCE
) -> bool:
    """A receiver's check: the signature is ours, over this body and timestamp, and the timestamp is
    recent (a captured request replayed later is refused)."""
    # ASCII digits only ("²".isdigit() holds), and bytes compared: any header a client sends is a
    # refusal, never an exception (compare_digest raises on non-ASCII str).
    if not re.fullmatch(r"[0-9]{1,12}", timestamp) or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body).encode(), signature.encode("utf-8", "replace"))

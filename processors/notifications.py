"""Who is told of an admitted or escalated callback, on which channel, when, and how often to retry.

Pure rules (no clock, no store): the notifier (sinks/notify/) passes the time, the accounts, the
sites hierarchy and the chat channels in. What the messages say: `processors/notify_messages.py`.

- **Who.** An admission (`created`) goes to the site's managers; an escalation (`escalated`) to the
  site's managers and its escalation group: the regional leads of its region. A site no lead covers
  (in no region, or a region without a lead) falls back to the admins, and so does an admission at a
  site without a manager: somebody hears of every case. Disabled accounts hear nothing.
- **Chat channels** (`config/channels.yaml`): a Slack, Teams or signed JSON webhook per site or per
  region, told of the events it lists; they are shared rooms, so no quiet hours and no digest.
- **When** (e-mail, per user): at once; during the user's quiet hours (e.g. 20:00-08:00 in the
  configured time zone), at their end; with a digest (hourly: the next full hour; daily: the next
  `digest_hour`), admissions wait for it and go out together in one e-mail. Escalations skip the
  digest: a late callback needs someone now (quiet hours still hold).
- **Delivery ids** are stable, from (case, event, channel, recipient): expanding an event twice
  makes the same deliveries, and a receiver can drop a repeat by id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from processors.access import AccessError, Hierarchy, User, check_name

Action = Literal["created", "escalated"]
ACTIONS: tuple[str, ...] = get_args(Action)
ChatKind = Literal["slack", "teams", "json"]
CHAT_KINDS: tuple[str, ...] = get_args(ChatKind)
Digest = Literal["off", "hourly", "daily"]
DIGESTS: tuple[str, ...] = get_args(Digest)
Language = Literal["fr", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
EMAIL = "email"
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class NotifyError(ValueError):
    """A preference or a channels file that does not hold together; the message says why."""


# ---------------------------------------------------------------- preferences


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time  # before start: the quiet hours span midnight (20:00-08:00)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet(text: str | None) -> QuietHours | None:
    """'20:00-08:00' -> QuietHours; '', 'off' or None -> None."""
    if not text or text.strip().lower() in ("off", "none", "-"):
        return None
    parts = [p.strip() for p in text.split("-")]
    matches = [_CLOCK.match(p) for p in parts]
    if len(parts) != 2 or not all(matches) or parts[0] == parts[1]:
        raise NotifyError(f"quiet hours {text!r}: expected HH:MM-HH:MM, e.g. 20:00-08:00, or off")
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
    return QuietHours(start, end)


@dataclass(frozen=True)
class Preferences:
    """A user's choice: e-mails on or off, quiet hours, digest, language of the messages."""

    email: bool = True
    quiet: QuietHours | None = None
    digest: Digest = "off"
    language: Language = "fr"

    def fields(self) -> dict[str, str]:
        """As stored with the account (strings)."""
        return {
            "notify_email": "on" if self.email else "off",
            "notify_quiet": str(self.quiet) if self.quiet else "off",
            "notify_digest": self.digest,
            "notify_language": self.language,
        }


def preferences(fields: Mapping[str, str]) -> Preferences:
    """From an account's stored fields; absent ones at their defaults (e-mail on, no quiet, no digest)."""
    digest = fields.get("notify_digest", "off")
    language = fields.get("notify_language", "fr")
    if digest not in DIGESTS:
        raise NotifyError(f"digest {digest!r}: expected one of {', '.join(DIGESTS)}")
    if language not in LANGUAGES:
        raise NotifyError(f"language {language!r}: expected one of {', '.join(LANGUAGES)}")
    return Preferences(
        email=fields.get("notify_email", "on") != "off",
        quiet=parse_quiet(fields.get("notify_quiet")),
        digest=digest,  # type: ignore[arg-type]  # checked above
        language=language,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- who


def recipients(site: str, action: str, users: Iterable[User], hierarchy: Hierarchy) -> list[User]:
    """The people told of `action` on a callback of `site` (see the module's rules), by name."""
    active = [u for u in users if not u.disabled]
    managers = [u for u in active if u.role == "manager" and site in u.sites]
    region = next((r for r, sites in hierarchy.regions.items() if site in sites), None)
    leads = [u for u in active if u.role == "regional" and region is not None and u.region == region]
    admins = [u for u in active if u.role == "admin"]
    chosen = managers + leads if action == "escalated" else managers
    if action == "escalated" and not leads:
        chosen += admins  # the escalation group of a site no lead covers
    if not chosen:
        chosen = admins
    return sorted({u.name: u for u in chosen}.values(), key=lambda u: u.name)


@dataclass(frozen=True)
class ChatChannel:
    name: str
    kind: ChatKind
    url: SecretStr = field(repr=False)
    sites: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset(ACTIONS)
    secret: SecretStr | None = field(default=None, repr=False)  # the json kind's signing key
    language: Language = "fr"

    def covers(self, site: str, hierarchy: Hierarchy) -> bool:
        return site in self.sites or any(site in hierarchy.sites_of(r) for r in self.regions)


def parse_channels(data: Any, env: Mapping[str, str], source: str = "channels file") -> list[ChatChannel]:
    """`{"channels": [{name, kind, sites|regions, events?, url_env, secret_env?, language?}]}`.
    URLs and secrets are never in the file: it names the environment variables holding them."""
    items = (data or {}).get("channels") if isinstance(data, dict | None) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise NotifyError(f"{source}: 'channels' is a list")
    found: dict[str, ChatChannel] = {}
    for item in items:
        if not isinstance(item, dict):
            raise NotifyError(f"{source}: each channel is a mapping (name, kind, sites or regions, url_env)")
        name = str(item.get("name", ""))
        try:
            check_name(name, f"{source}: channel name")
        except AccessError as error:
            raise NotifyError(str(error)) from None
        where = f"{source}: channel {name!r}"
        kind, events = item.get("kind"), frozenset(item.get("events") or ACTIONS)
        if kind not in CHAT_KINDS:
            raise NotifyError(f"{where}: kind {kind!r}, expected one of {', '.join(CHAT_KINDS)}")
        if not events <= set(ACTIONS):
            raise NotifyError(f"{where}: events are among {', '.join(ACTIONS)}")
        sites, regions = frozenset(item.get("sites") or ()), frozenset(item.get("regions") or ())
        if not sites and not regions:
            raise NotifyError(f"{where}: give its 'sites' or 'regions'")
        url = env.get(str(item.get("url_env", "")))
        if not url:
            raise NotifyError(f"{where}: set the environment variable named by its url_env ({item.get('url_env')})")
        secret = env.get(str(item.get("secret_env", ""))) if kind == "json" else None
        if kind == "json" and not secret:
            raise NotifyError(f"{where}: a json channel signs its posts: set the variable named by its secret_env")
        if name in found:
            raise NotifyError(f"{where}: named twice")
        language = item.get("language", "fr")
        if language not in LANGUAGES:
            raise NotifyError(f"{where}: language {language!r}, expected one of {', '.join(LANGUAGES)}")
        found[name] = ChatChannel(
            name, kind, SecretStr(url), sites, regions, events, SecretStr(secret) if secret else None, language
        )
    return list(found.values())


def chat_channels(site: str, action: str, channels: Iterable[ChatChannel], hierarchy: Hierarchy) -> list[ChatChannel]:
    return [c for c in channels if action in c.events and c.covers(site, hierarchy)]


# ---------------------------------------------------------------- deliveries and when


def delivery_id(callback_id: str, action: str, channel: str, target: str) -> str:
    """Stable: the same case, event, channel and recipient always give the same id."""
    digest = hashlib.sha256(f"{callback_id}\x1f{action}\x1f{channel}\x1f{target}".encode()).hexdigest()
    return f"nd-{digest[:32]}"


def _local(epoch: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz=zone)


def after_quiet(now: float, quiet: QuietHours | None, zone: ZoneInfo) -> float:
    """`now`, or the end of the quiet hours `now` falls in."""
    if quiet is None:
        return now
    local = _local(now, zone)
    clock = local.time()
    spans_midnight = quiet.end < quiet.start
    inside = (clock >= quiet.start or clock < quiet.end) if spans_midnight else quiet.start <= clock < quiet.end
    if not inside:
        return now
    end_day = local.date() + timedelta(days=1) if spans_midnight and clock >= quiet.start else local.date()
    return datetime.combine(end_day, quiet.end, tzinfo=zone).timestamp()


def next_digest(now: float, digest: Digest, zone: ZoneInfo, digest_hour: int) -> float:
    """When a digest started at `now` goes out: the next full hour, or the next `digest_hour` o'clock."""
    local = _local(now, zone)
    if digest == "hourly":
        return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).timestamp()
    if digest == "daily":
        at = datetime.combine(local.date(), time(digest_hour), tzinfo=zone)
        if at <= local:
            at = datetime.combine(local.date() + timedelta(days=1), time(digest_hour), tzinfo=zone)
        return at.timestamp()
    return now


def email_due(now: float, action: str, prefs: Preferences, zone: ZoneInfo, digest_hour: int) -> tuple[float, bool]:
    """When an e-mail about `action` goes to a user with `prefs`, and whether it waits for a digest."""
    digested = prefs.digest != "off" and action == "created"
    at = next_digest(now, prefs.digest, zone, digest_hour) if digested else now
    return after_quiet(at, prefs.quiet, zone), digested


# ---------------------------------------------------------------- retries


@dataclass(frozen=True)
class Backoff:
    """Retry after `first` seconds, doubling up to `cap`; give up once `give_up_after` seconds have
    passed since the delivery was first due (an endpoint down for a day is a case for a person)."""

    first: float = 5.0
    cap: float = 600.0
    give_up_after: float = 86400.0

    def delay(self, attempts: int, jitter: float = 0.0) -> float:
        """Seconds before attempt `attempts + 1`; `jitter` in [0, 1) spreads a crowd of retries by up to 20 %."""
        return min(self.first * 2 ** max(attempts - 1, 0), self.cap) * (1 + 0.2 * jitter)

    def gives_up(self, first_due: float, now: float) -> bool:
        return now - first_due >= self.give_up_after

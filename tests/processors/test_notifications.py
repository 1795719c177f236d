"""Who is told of a callback, when, how often retried, and what the messages say: the pure rules."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from processors.access import User, parse_hierarchy
from processors.notifications import (
    Backoff,
    NotifyError,
    Preferences,
    after_quiet,
    chat_channels,
    delivery_id,
    email_due,
    next_digest,
    parse_channels,
    parse_quiet,
    preferences,
    recipients,
)
from processors.notify_messages import (
    case_of,
    digest_text,
    email_text,
    json_body,
    json_headers,
    json_payload,
    sign,
    slack_payload,
    teams_payload,
    verify,
)

PARIS = ZoneInfo("Europe/Paris")
HIERARCHY = parse_hierarchy({"regions": {"nord": {"sites": ["paris-bercy", "lille"]}, "sud-est": {"sites": ["lyon"]}}})
LYON = User("m.lyon", "m.lyon@example.org", "manager", frozenset({"lyon"}))
LYON_AND_PARIS = User("m.two", "m.two@example.org", "manager", frozenset({"lyon", "paris-bercy"}))
NORD = User("r.nord", "r.nord@example.org", "regional", region="nord")
SUD = User("r.sud", "r.sud@example.org", "regional", region="sud-est")
ADMIN = User("a.admin", "a.admin@example.org", "admin")
GONE = User("m.gone", "m.gone@example.org", "manager", frozenset({"lyon"}), disabled=True)
EVERYONE = [LYON, LYON_AND_PARIS, NORD, SUD, ADMIN, GONE]
CALLBACK = {
    "site": "lyon",
    "journey_id": "home_delivery",
    "step_id": "delivery",
    "score": "2",
    "score_scale": "NPS",
    "priority": "high",
    "due_at": "1795000000.0",
    "verbatim": "Appelez-moi au 06 11 22 33 44, Jeanne Martin",
    "contact_phone": "+33611223344",
    "contact_email": "jeanne.martin@example.org",
    "contact_name": "Jeanne Martin",
    "customer_ref": "cust-42",
}


def local(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def names(users: list[User]) -> list[str]:
    return [u.name for u in users]


# ---------------------------------------------------------------- who


def test_an_admission_goes_to_the_sites_managers_an_escalation_to_its_regional_lead_too() -> None:
    assert names(recipients("lyon", "created", EVERYONE, HIERARCHY)) == ["m.lyon", "m.two"]
    assert names(recipients("lyon", "escalated", EVERYONE, HIERARCHY)) == ["m.lyon", "m.two", "r.sud"]
    assert names(recipients("lille", "escalated", EVERYONE, HIERARCHY)) == ["r.nord"]


def test_somebody_hears_of_every_case_admins_when_no_manager_or_lead_covers_the_site() -> None:
    assert names(recipients("lille", "created", EVERYONE, HIERARCHY)) == ["a.admin"]  # no manager there
    assert names(recipients("new-site", "escalated", EVERYONE, HIERARCHY)) == ["a.admin"]  # in no region
    assert recipients("lyon", "created", [GONE], HIERARCHY) == []  # disabled: nobody, not even them


# ---------------------------------------------------------------- preferences and when


def test_preferences_round_trip_through_their_stored_fields_and_default_to_email_now() -> None:
    prefs = Preferences(email=False, quiet=parse_quiet("20:00-08:00"), digest="daily", language="en")
    assert preferences(prefs.fields()) == prefs
    assert preferences({}) == Preferences()


@pytest.mark.parametrize("bad", ["20-08", "25:00-08:00", "08:00-08:00", "8h-20h"])
def test_quiet_hours_that_do_not_parse_say_how_to_write_them(bad: str) -> None:
    with pytest.raises(NotifyError, match="HH:MM-HH:MM"):
        parse_quiet(bad)


def test_quiet_hours_over_midnight_hold_an_email_until_they_end_in_the_local_time_zone() -> None:
    quiet = parse_quiet("20:00-08:00")
    assert after_quiet(local("2026-11-23T14:00"), quiet, PARIS) == local("2026-11-23T14:00")
    assert after_quiet(local("2026-11-23T21:30"), quiet, PARIS) == local("2026-11-24T08:00")
    assert after_quiet(local("2026-11-24T06:00"), quiet, PARIS) == local("2026-11-24T08:00")
    # Across the switch to summer time (29 March 2026): still 08:00 on the wall clock.
    assert after_quiet(local("2026-03-28T23:00"), quiet, PARIS) == local("2026-03-29T08:00")
    lunch = parse_quiet("12:00-14:00")
    assert after_quiet(local("2026-11-23T12:30"), lunch, PARIS) == local("2026-11-23T14:00")


def test_a_digest_gathers_admissions_until_the_next_hour_or_morning_but_escalations_go_at_once() -> None:
    now = local("2026-11-23T10:17")
    assert next_digest(now, "hourly", PARIS, 8) == local("2026-11-23T11:00")
    assert next_digest(now, "daily", PARIS, 8) == local("2026-11-24T08:00")
    assert next_digest(local("2026-11-23T07:00"), "daily", PARIS, 8) == local("2026-11-23T08:00")
    daily = Preferences(digest="daily")
    assert email_due(now, "created", daily, PARIS, 8) == (local("2026-11-24T08:00"), True)
    assert email_due(now, "escalated", daily, PARIS, 8) == (now, False)
    night = Preferences(digest="hourly", quiet=parse_quiet("20:00-08:00"))
    assert email_due(local("2026-11-23T19:30"), "created", night, PARIS, 8) == (local("2026-11-24T08:00"), True)


def test_delivery_ids_are_stable_and_differ_per_case_event_channel_and_recipient() -> None:
    one = delivery_id("cb-r1", "created", "email", "m.lyon")
    assert one == delivery_id("cb-r1", "created", "email", "m.lyon")
    others = {
        delivery_id("cb-r2", "created", "email", "m.lyon"),
        delivery_id("cb-r1", "escalated", "email", "m.lyon"),
        delivery_id("cb-r1", "created", "slack", "m.lyon"),
        delivery_id("cb-r1", "created", "email", "m.two"),
    }
    assert one not in others and len(others) == 4


def test_retries_back_off_doubling_to_a_cap_then_give_up() -> None:
    backoff = Backoff(first=5, cap=60, give_up_after=3600)
    assert [backoff.delay(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert 5 <= backoff.delay(1, jitter=0.99) < 6
    assert not backoff.gives_up(1000.0, 1000.0 + 3599) and backoff.gives_up(1000.0, 1000.0 + 3600)


# ---------------------------------------------------------------- chat channels


def test_chat_channels_take_their_url_and_secret_from_the_environment_and_cover_sites_or_regions() -> None:
    data = {
        "channels": [
            {"name": "lyon-slack", "kind": "slack", "sites": ["lyon"], "url_env": "HOOK_A"},
            {"name": "nord", "kind": "teams", "regions": ["nord"], "events": ["escalated"], "url_env": "HOOK_B"},
            {"name": "crm", "kind": "json", "regions": ["nord", "sud-est"], "url_env": "HOOK_C", "secret_env": "KEY"},
        ]
    }
    env = {
        "HOOK_A": "https://hooks.slack.test/a",
        "HOOK_B": "https://teams.test/b",
        "HOOK_C": "https://crm/c",
        "KEY": "k",
    }
    channels = parse_channels(data, env)
    assert "hooks.slack.test" not in repr(channels)  # URLs are secrets: never in a log line
    assert [c.name for c in chat_channels("lyon", "created", channels, HIERARCHY)] == ["lyon-slack", "crm"]
    assert [c.name for c in chat_channels("lille", "created", channels, HIERARCHY)] == ["crm"]
    assert [c.name for c in chat_channels("lille", "escalated", channels, HIERARCHY)] == ["nord", "crm"]
    assert parse_channels({"channels": []}, env) == [] and parse_channels(None, env) == []


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({"name": "x", "kind": "sms", "sites": ["lyon"], "url_env": "U"}, "kind 'sms'"),
        ({"name": "x", "kind": "slack", "url_env": "U"}, "sites' or 'regions"),
        ({"name": "x", "kind": "slack", "sites": ["lyon"], "url_env": "UNSET"}, "url_env"),
        ({"name": "x", "kind": "json", "sites": ["lyon"], "url_env": "U"}, "secret_env"),
        ({"name": "x", "kind": "slack", "sites": ["lyon"], "url_env": "U", "events": ["claimed"]}, "events"),
    ],
)
def test_a_channel_that_does_not_hold_together_is_refused_with_why(item: dict[str, object], says: str) -> None:
    with pytest.raises(NotifyError, match=says):
        parse_channels({"channels": [item]}, {"U": "https://example.test/hook"})


# ---------------------------------------------------------------- what they say


def everything_sent(case_fields: dict[str, str]) -> str:
    case = case_of("cb-r1", case_fields)
    link = "https://managers.example.org/callbacks/cb-r1"
    texts = [email_text(case, a, link, lang, PARIS) for a in ("created", "escalated") for lang in ("fr", "en")]
    payloads = [
        slack_payload(case, "created", link, "fr", PARIS),
        teams_payload(case, "escalated", link, "en", PARIS),
        json_payload(case, "created", link, "nd-1", 1795000000.0),
    ]
    digest = digest_text([(case, link), (case, link)], "fr", PARIS)
    return "\n".join([*(t.subject + t.body for t in texts), digest.subject + digest.body, json.dumps(payloads)])


def test_no_contact_detail_no_verbatim_no_customer_ref_in_anything_sent_but_the_link_is() -> None:
    sent = everything_sent(CALLBACK)
    for secret in ("+33611223344", "06 11 22 33 44", "jeanne", "Jeanne", "cust-42", "Appelez"):
        assert secret not in sent
    assert "https://managers.example.org/callbacks/cb-r1" in sent
    assert "lyon" in sent and "home_delivery / delivery" in sent and "2 (NPS)" in sent


def test_the_email_says_it_in_french_or_english_with_the_due_time_in_the_local_zone() -> None:
    case = case_of("cb-r1", {**CALLBACK, "due_at": str(local("2026-11-25T11:07"))})
    fr = email_text(case, "created", "https://m/callbacks/cb-r1", "fr", PARIS)
    en = email_text(case, "escalated", "https://m/callbacks/cb-r1", "en", PARIS)
    assert "Nouveau rappel client" in fr.subject and "25/11/2026 11:07 (Europe/Paris)" in fr.body
    assert "Priorité : haute" in fr.body and "Ouvrir le dossier : https://m/callbacks/cb-r1" in fr.body
    assert "overdue" in en.subject and "Call back by: 2026-11-25 11:07 (Europe/Paris)" in en.body


def test_slack_and_teams_payloads_have_their_incoming_webhook_shapes() -> None:
    case, link = case_of("cb-r1", CALLBACK), "https://m/callbacks/cb-r1"
    slack = slack_payload(case, "created", link, "en", PARIS)
    assert link in slack["text"] and [b["type"] for b in slack["blocks"]] == ["header", "section", "actions"]
    assert slack["blocks"][2]["elements"][0]["url"] == link
    teams = teams_payload(case, "created", link, "fr", PARIS)
    assert teams["type"] == "message"
    (attachment,) = teams["attachments"]
    card = attachment["content"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Ouvrir le dossier", "url": link}
    ]


def test_the_json_webhook_is_versioned_and_signed_over_timestamp_and_body() -> None:
    case = case_of("cb-r1", CALLBACK)
    payload = json_payload(case, "escalated", "https://m/callbacks/cb-r1", "nd-1", 1795000000.0)
    assert payload["version"] == 1 and payload["event"] == "callback.escalated" and payload["delivery_id"] == "nd-1"
    assert payload["callback"]["score"] == 2 and payload["callback"]["due_at"].endswith("Z")
    body = json_body(payload)
    headers = json_headers("s3cret", 1795000000, body, "nd-1", "escalated")
    assert headers["X-Miroir-Signature"] == sign("s3cret", 1795000000, body)
    assert headers["X-Miroir-Signature"].startswith("sha256=") and headers["X-Miroir-Delivery"] == "nd-1"
    assert verify("s3cret", headers["X-Miroir-Timestamp"], body, headers["X-Miroir-Signature"], 1795000010.0)
    assert not verify("other", headers["X-Miroir-Timestamp"], body, headers["X-Miroir-Signature"], 1795000010.0)
    assert not verify("s3cret", headers["X-Miroir-Timestamp"], body + b" ", headers["X-Miroir-Signature"], 1795000010.0)
    assert not verify("s3cret", headers["X-Miroir-Timestamp"], body, headers["X-Miroir-Signature"], 1795001000.0)
    assert not verify("s3cret", "²", body, headers["X-Miroir-Signature"], 1795000010.0)  # a digit, not ASCII
    assert not verify("s3cret", headers["X-Miroir-Timestamp"], body, "sha256=é", 1795000010.0)  # no exception

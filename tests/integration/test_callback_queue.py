"""The callback queue against the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from config.settings import Settings
from sinks.callback_queue import (
    BACKFILLED,
    CallbackError,
    CallbackQueue,
    callback_key,
    escalation_stream,
    site_stream,
    unclaimed_key,
)
from tests.examples import EXAMPLES

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC).timestamp()


@pytest.fixture
def site(stack: Settings) -> Iterator[str]:
    name = f"site-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(stack.redis.dsn)
    client.delete(site_stream(name), escalation_stream(name))
    client.close()


def request(site: str, customer: str | None = None, due_in: float = 3600, **change: Any) -> dict[str, Any]:
    rid = uuid.uuid4().hex[:10]
    return {
        **EXAMPLES["CallbackRequest"],
        "callback_id": f"cb-{rid}",
        "response_id": rid,
        "site": site,
        "customer_ref": customer or f"cust-{rid}",
        "created_at": datetime.fromtimestamp(NOW, UTC),
        "due_at": datetime.fromtimestamp(NOW + due_in, UTC),
        **change,
    }


def run(stack: Settings, action: Any) -> Any:
    async def go() -> Any:
        queue = CallbackQueue.from_url(stack.redis.dsn, quiet_days=30)
        try:
            return await action(queue)
        finally:
            await queue.close()

    return asyncio.run(go())


def stream_ids(stack: Settings, site: str) -> list[str]:
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:
        return [fields["callback_id"] for _, fields in client.xrange(site_stream(site))]
    finally:
        client.close()


def test_admission_is_idempotent_and_one_open_callback_per_customer(stack: Settings, site: str) -> None:
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    first, same_customer = request(site, customer), request(site, customer)
    other = request(site)
    decisions = run(stack, lambda q: q.admit_batch([first, same_customer, other, first], NOW))
    assert decisions == ["admit", "customer_has_open_callback", "admit", "duplicate"]
    assert run(stack, lambda q: q.admit_batch([first, other], NOW)) == ["duplicate", "duplicate"]
    assert stream_ids(stack, site) == [first["callback_id"], other["callback_id"]]


def test_claim_gives_the_oldest_unclaimed_then_resolve_closes_the_loop(stack: Settings, site: str) -> None:
    older, newer = request(site), request(site)
    run(stack, lambda q: q.admit_batch([older, newer], NOW))
    claimed = run(stack, lambda q: q.claim(site, "m.martin", NOW + 60))
    assert claimed["callback_id"] == older["callback_id"] and claimed["contact_phone"] == "+33600000000"
    assert run(stack, lambda q: q.claim(site, "m.durand", NOW + 61))["callback_id"] == newer["callback_id"]
    assert run(stack, lambda q: q.claim(site, "m.durand", NOW + 62)) is None

    outcome = run(stack, lambda q: q.resolve(older["callback_id"], "resolved", "ok", "m.martin", NOW + 600))
    assert outcome["within_sla"] and outcome["manager"] == "m.martin" and outcome["outcome"] == "resolved"
    shown = run(stack, lambda q: q.get(older["callback_id"]))
    assert [h["action"] for h in shown["history"]] == ["created", "claimed", "resolved"]
    assert [h["by"] for h in shown["history"]][1:] == ["m.martin", "m.martin"]
    with pytest.raises(CallbackError, match="already resolved"):
        run(stack, lambda q: q.resolve(older["callback_id"], "resolved", None, "m.x", NOW + 700))
    with pytest.raises(CallbackError, match="already resolved"):
        run(stack, lambda q: q.resolve(older["callback_id"], "refused", None, "m.martin", NOW + 700))
    assert site in run(stack, lambda q: q.sites())


def test_resolving_again_the_same_way_gives_the_same_outcome_to_publish_and_changes_nothing(
    stack: Settings, site: str
) -> None:
    """Whoever resolved a callback but could not publish its outcome (Kafka away) tries again."""
    callback = request(site)
    run(stack, lambda q: q.admit_batch([callback], NOW))
    run(stack, lambda q: q.claim(site, "m.martin", NOW + 60))
    first = run(stack, lambda q: q.resolve(callback["callback_id"], "reached", "rappelée", "m.martin", NOW + 600))
    again = run(stack, lambda q: q.resolve(callback["callback_id"], "reached", "autre note", "m.martin", NOW + 900))
    assert again == first and again["note"] == "rappelée" and again["resolved_at"] == first["resolved_at"]
    history = run(stack, lambda q: q.get(callback["callback_id"]))["history"]
    assert [h["action"] for h in history] == ["created", "claimed", "resolved"]


def test_the_quiet_period_follows_a_closed_callback(stack: Settings, site: str) -> None:
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    first = request(site, customer)
    run(stack, lambda q: q.admit_batch([first], NOW))
    run(stack, lambda q: q.resolve(first["callback_id"], "reached", None, "m", NOW + 100))
    assert run(stack, lambda q: q.admit_batch([request(site, customer)], NOW + 86400)) == ["quiet_period"]
    assert run(stack, lambda q: q.admit_batch([request(site, customer)], NOW + 31 * 86400)) == ["admit"]


def test_an_overdue_callback_escalates_once(stack: Settings, site: str) -> None:
    late, on_time = request(site, due_in=60), request(site, due_in=10**6)
    run(stack, lambda q: q.admit_batch([late, on_time], NOW))
    run(stack, lambda q: q.claim(site, "m.lent", NOW + 10))
    escalated = run(stack, lambda q: q.escalate_overdue(NOW + 120))
    assert late["callback_id"] in escalated and on_time["callback_id"] not in escalated
    assert late["callback_id"] not in run(stack, lambda q: q.escalate_overdue(NOW + 240))
    listed = {r["callback_id"]: r for r in run(stack, lambda q: q.listing(site, NOW + 240))}
    assert listed[late["callback_id"]]["overdue"] and listed[late["callback_id"]]["escalated"]
    assert not listed[on_time["callback_id"]]["overdue"]
    assert not any(k.startswith("contact_") for r in listed.values() for k in r)  # no PII in listings
    assert [e["callback_id"] for e in run(stack, lambda q: q.escalations(site))] == [late["callback_id"]]
    counts = run(stack, lambda q: q.open_counts(NOW + 240))
    assert counts[f"{site}|delivery"] == {"open": 2, "overdue": 1}
    run(stack, lambda q: q.resolve(late["callback_id"], "reached", None, "m.lent", NOW + 300))
    assert run(stack, lambda q: q.open_counts(NOW + 300))[f"{site}|delivery"] == {"open": 1, "overdue": 0}


def test_a_busy_sites_listings_are_bounded_unresolved_due_first(stack: Settings, site: str) -> None:
    later, sooner, soonest = request(site, due_in=9000), request(site, due_in=5000), request(site, due_in=100)
    other_step = request(site, due_in=3000, step_id="pickup")
    run(stack, lambda q: q.admit_batch([later, sooner, soonest, other_step], NOW))
    run(stack, lambda q: q.claim(site, "m.martin", NOW + 10))  # `later`, the oldest: claimed is unresolved too
    run(stack, lambda q: q.resolve(soonest["callback_id"], "reached", None, "m.martin", NOW + 20))
    total, rows = run(stack, lambda q: q.unresolved(site, NOW + 30, 2))
    assert total == 3 and [r["callback_id"] for r in rows] == [other_step["callback_id"], sooner["callback_id"]]
    assert not any(k.startswith("contact_") for r in rows for k in r)
    newest = run(stack, lambda q: q.listing(site, NOW + 30, limit=2))
    assert [r["callback_id"] for r in newest] == [soonest["callback_id"], other_step["callback_id"]]
    assert newest[0]["status"] == "resolved" and run(stack, lambda q: q.size(site)) == 4


def test_every_change_is_an_event_and_admissions_and_escalations_wait_in_the_outbox(stack: Settings, site: str) -> None:
    since = run(stack, lambda q: q.last_event())
    late, other = request(site, due_in=60), request(site)
    run(stack, lambda q: q.admit_batch([late, other, late], NOW))
    run(stack, lambda q: q.claim(site, "m.lent", NOW + 10))
    run(stack, lambda q: q.escalate_overdue(NOW + 120))
    run(stack, lambda q: q.resolve(late["callback_id"], "reached", None, "m.lent", NOW + 130))
    events = [f for _, f in run(stack, lambda q: q.events_after(since, 100, 1000)) if f["site"] == site]
    assert [(e["action"], e["callback_id"], e["by"]) for e in events] == [
        ("created", late["callback_id"], "pipeline"),
        ("created", other["callback_id"], "pipeline"),
        ("claimed", late["callback_id"], "m.lent"),
        ("escalated", late["callback_id"], "pipeline"),
        ("resolved", late["callback_id"], "m.lent"),
    ]

    consumer = f"test-{uuid.uuid4().hex[:6]}"

    async def take(q: CallbackQueue) -> list[tuple[str, dict[str, str]]]:
        mine = []
        while entries := await q.outbox(consumer, 1000, 100):
            mine += [(i, f) for i, f in entries if f["site"] == site]
            await q.outbox_done([i for i, f in entries if f["site"] != site])  # earlier tests' leftovers
            if mine:
                break
        return mine

    taken = run(stack, take)
    assert [(f["action"], f["callback_id"]) for _, f in taken] == [
        ("created", late["callback_id"]),
        ("created", other["callback_id"]),
        ("escalated", late["callback_id"]),
    ]
    # Not done: a restarted notifier of the same name is given them again, a second one only when idle.
    assert [i for i, _ in run(stack, lambda q: q.outbox(consumer, 1000, 100))] == [i for i, _ in taken]
    assert run(stack, lambda q: q.outbox_orphans("another", 60_000, 1000)) == []
    orphans = run(stack, lambda q: q.outbox_orphans("another", 0, 1000))
    assert {i for i, _ in taken} <= {i for i, _ in orphans}
    run(stack, lambda q: q.outbox_done([i for i, _ in orphans]))
    assert run(stack, lambda q: q.outbox_orphans("another", 0, 1000)) == []


# ---------------------------------------------------------------- the inbox's actions


def test_concurrent_claims_never_give_one_case_twice_and_next_skips_one_claimed_by_id(
    stack: Settings, site: str
) -> None:
    cases = [request(site) for _ in range(8)]
    run(stack, lambda q: q.admit_batch(cases, NOW))
    by_id = cases[0]["callback_id"]  # the oldest, taken from its page before anyone asks for "next"
    assert run(stack, lambda q: q.claim_id(by_id, "m.page", NOW + 1))["claimed_by"] == "m.page"

    async def race(q: CallbackQueue) -> list[Any]:
        return list(await asyncio.gather(*(q.claim(site, f"m.{i}", NOW + 2) for i in range(12))))

    got = [c["callback_id"] for c in run(stack, race) if c is not None]
    assert sorted(got) == sorted(c["callback_id"] for c in cases[1:])  # each once, none twice, not by_id
    with pytest.raises(CallbackError, match=r"claimed by m\.page") as caught:
        run(stack, lambda q: q.claim_id(by_id, "m.other", NOW + 3))
    assert caught.value.reason == "claimed"
    assert run(stack, lambda q: q.claim_id(by_id, "m.page", NOW + 3))["claimed_by"] == "m.page"  # again: no-op


def test_a_released_case_can_be_claimed_again_next_or_by_id_in_its_place(stack: Settings, site: str) -> None:
    older, newer = request(site), request(site)
    run(stack, lambda q: q.admit_batch([older, newer], NOW))
    run(stack, lambda q: q.claim(site, "m.martin", NOW + 1))
    with pytest.raises(CallbackError) as caught:
        run(stack, lambda q: q.release(older["callback_id"], "m.durand", NOW + 2))
    assert caught.value.reason == "not_yours"
    released = run(stack, lambda q: q.release(older["callback_id"], "m.martin", NOW + 2))
    assert released["status"] == "open" and "claimed_by" not in released
    assert run(stack, lambda q: q.claim(site, "m.durand", NOW + 3))["callback_id"] == older["callback_id"]
    run(stack, lambda q: q.release(older["callback_id"], "r.lead", NOW + 4, elevated=True))  # the escalation group
    assert run(stack, lambda q: q.claim_id(older["callback_id"], "m.martin", NOW + 5))["claimed_by"] == "m.martin"
    assert run(stack, lambda q: q.claim(site, "m.x", NOW + 6))["callback_id"] == newer["callback_id"]
    assert run(stack, lambda q: q.claim(site, "m.y", NOW + 7)) is None
    history = run(stack, lambda q: q.get(older["callback_id"]))["history"]
    assert [(h["action"], h["by"]) for h in history] == [
        ("created", "pipeline"),
        ("claimed", "m.martin"),
        ("released", "m.martin"),
        ("claimed", "m.durand"),
        ("released", "r.lead"),
        ("claimed", "m.martin"),
    ]


def test_reassign_gives_the_case_to_someone_else_and_resolve_keeps_the_root_cause(stack: Settings, site: str) -> None:
    case = request(site)
    run(stack, lambda q: q.admit_batch([case], NOW))
    cid = case["callback_id"]
    run(stack, lambda q: q.claim(site, "m.martin", NOW + 1))
    with pytest.raises(CallbackError, match="only they"):
        run(stack, lambda q: q.reassign(cid, "m.x", "m.durand", NOW + 2))
    moved = run(stack, lambda q: q.reassign(cid, "m.durand", "m.martin", NOW + 2))
    assert (moved["status"], moved["claimed_by"]) == ("claimed", "m.durand")
    assert run(stack, lambda q: q.claim(site, "m.y", NOW + 3)) is None  # still claimed: not "next"
    with pytest.raises(CallbackError) as caught:
        run(stack, lambda q: q.resolve(cid, "reached", "x", "m.martin", NOW + 4))
    assert caught.value.reason == "not_yours"
    record = run(stack, lambda q: q.resolve(cid, "reached", "ok", "m.durand", NOW + 5, "late_delivery"))
    assert record["root_cause"] == "late_delivery" and record["manager"] == "m.durand"
    again = run(stack, lambda q: q.resolve(cid, "reached", "other note", "m.durand", NOW + 9))
    assert again == record  # published again as it was
    last = run(stack, lambda q: q.get(cid))["history"][-1]
    assert (last["action"], last["outcome"], last["root_cause"]) == ("resolved", "reached", "late_delivery")


def test_reopen_brings_a_case_back_open_with_its_due_time_and_the_next_resolve_counts_again(
    stack: Settings, site: str
) -> None:
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    case = request(site, customer, due_in=3600)
    cid = case["callback_id"]
    run(stack, lambda q: q.admit_batch([case], NOW))
    with pytest.raises(CallbackError) as caught:
        run(stack, lambda q: q.reopen(cid, "m.martin", NOW + 1))
    assert caught.value.reason == "not_resolved"
    run(stack, lambda q: q.claim(site, "m.martin", NOW + 10))
    run(stack, lambda q: q.resolve(cid, "reached", "ok", "m.martin", NOW + 1800))
    first = run(stack, lambda q: q.site_figures(site, NOW + 1800))
    assert first == {"open": 0, "overdue": 0, "resolved": 1, "within_sla": 1, "durations": [1800.0]}

    reopened = run(stack, lambda q: q.reopen(cid, "m.martin", NOW + 7200, "toujours pas livré"))
    assert reopened["status"] == "open" and reopened["reopened"] == "1"
    assert not {"claimed_by", "resolved_by", "outcome", "root_cause"} & set(reopened)
    assert reopened["history"][-1] | {"at": 0} == {
        "at": 0,
        "action": "reopened",
        "by": "m.martin",
        "note": "toujours pas livré",
    }
    after = run(stack, lambda q: q.site_figures(site, NOW + 7200))
    assert (after["open"], after["overdue"], after["resolved"]) == (1, 1, 1)  # its due time kept: overdue now
    assert run(stack, lambda q: q.admit_batch([request(site, customer)], NOW + 40 * 86400)) == [
        "customer_has_open_callback"
    ]
    assert run(stack, lambda q: q.claim(site, "m.durand", NOW + 7300))["callback_id"] == cid
    second = run(stack, lambda q: q.resolve(cid, "resolved", "geste", "m.durand", NOW + 9000, "late_delivery"))
    assert not second["within_sla"] and second["resolved_at"] > second["due_at"]
    figures = run(stack, lambda q: q.site_figures(site, NOW + 9000))
    assert figures == {"open": 0, "overdue": 0, "resolved": 2, "within_sla": 1, "durations": [9000.0, 1800.0]}


def test_a_case_is_not_reopened_while_its_customer_has_another_open(stack: Settings, site: str) -> None:
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    later = NOW + 31 * 86400
    old = request(site, customer)
    new = request(
        site,
        customer,
        created_at=datetime.fromtimestamp(later, UTC),
        due_at=datetime.fromtimestamp(later + 3600, UTC),
    )
    run(stack, lambda q: q.admit_batch([old], NOW))
    run(stack, lambda q: q.resolve(old["callback_id"], "reached", "ok", "m", NOW + 10))
    run(stack, lambda q: q.admit_batch([new], NOW + 31 * 86400))
    with pytest.raises(CallbackError, match="another open callback") as caught:
        run(stack, lambda q: q.reopen(old["callback_id"], "m", NOW + 31 * 86400 + 5))
    assert caught.value.reason == "customer_has_open"
    assert run(stack, lambda q: q.get(old["callback_id"]))["status"] == "resolved"
    history = run(stack, lambda q: q.customer_callbacks(customer, NOW + 32 * 86400))
    assert [c["callback_id"] for c in history] == [new["callback_id"], old["callback_id"]]  # newest first
    assert not any(k.startswith("contact_") for c in history for k in c)


def test_every_inbox_action_is_an_event(stack: Settings, site: str) -> None:
    since = run(stack, lambda q: q.last_event())
    case = request(site)
    cid = case["callback_id"]
    run(stack, lambda q: q.admit_batch([case], NOW))
    run(stack, lambda q: q.claim_id(cid, "m.a", NOW + 1))
    run(stack, lambda q: q.release(cid, "m.a", NOW + 2))
    run(stack, lambda q: q.reassign(cid, "m.b", "m.a", NOW + 3))
    run(stack, lambda q: q.resolve(cid, "reached", "ok", "m.b", NOW + 4))
    run(stack, lambda q: q.reopen(cid, "m.b", NOW + 5))
    events = [f for _, f in run(stack, lambda q: q.events_after(since, 100, 1000)) if f["callback_id"] == cid]
    assert [(e["action"], e["by"], e["site"]) for e in events] == [
        ("created", "pipeline", site),
        ("claimed", "m.a", site),
        ("released", "m.a", site),
        ("reassigned", "m.a", site),
        ("resolved", "m.b", site),
        ("reopened", "m.b", site),
    ]


def test_callbacks_of_an_earlier_version_come_into_the_claim_order_first_once(stack: Settings, site: str) -> None:
    older, newer = request(site), request(site)
    run(stack, lambda q: q.admit_batch([older, newer], NOW))
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:  # `older` as an earlier version left it: no claim-order number, not in the unclaimed set
        client.zrem(unclaimed_key(site), older["callback_id"])
        client.hdel(callback_key(older["callback_id"]), "seq")
        client.delete(BACKFILLED)
        assert run(stack, lambda q: q.backfill_unclaimed()) >= 1
        assert run(stack, lambda q: q.backfill_unclaimed()) == 0  # once
        assert client.exists(BACKFILLED)
    finally:
        client.close()
    first = run(stack, lambda q: q.claim(site, "m.a", NOW + 10))
    assert first["callback_id"] == older["callback_id"]
    run(stack, lambda q: q.release(older["callback_id"], "m.a", NOW + 20))  # back at its place: first again
    assert run(stack, lambda q: q.claim(site, "m.b", NOW + 30))["callback_id"] == older["callback_id"]
    assert run(stack, lambda q: q.claim(site, "m.b", NOW + 40))["callback_id"] == newer["callback_id"]


def test_next_never_gives_a_case_someone_holds_even_if_it_is_back_in_the_claim_order(
    stack: Settings, site: str
) -> None:
    held, free = request(site), request(site)
    run(stack, lambda q: q.admit_batch([held, free], NOW))
    run(stack, lambda q: q.claim_id(held["callback_id"], "m.a", NOW + 1))
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:  # as a backfill racing that claim would leave it
        client.zadd(unclaimed_key(site), {held["callback_id"]: 0})
    finally:
        client.close()
    assert run(stack, lambda q: q.claim(site, "m.b", NOW + 2))["callback_id"] == free["callback_id"]
    assert run(stack, lambda q: q.get(held["callback_id"]))["claimed_by"] == "m.a"
    assert run(stack, lambda q: q.claim(site, "m.b", NOW + 3)) is None

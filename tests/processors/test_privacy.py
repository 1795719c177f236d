"""Personal data's rules (processors/privacy.py): who a record is about, what the purge cuts and when."""

from __future__ import annotations

from typing import Any

import pytest

from processors.mapping import pseudonym as mapped_ref
from processors.privacy import (
    CONTACT_FIELDS,
    DAY,
    PERSONAL_FIELDS,
    PrivacyError,
    Retention,
    normalise,
    pseudonym,
    ref_spellings,
    subject_key,
    subjects_of,
)
from processors.windows import JourneyTally, WindowSpec

SECRET = b"k" * 32
RETENTION = Retention(contact_days=30, case_days=365, dead_letter_days=14, input_days=35)
CLOSED_AT = 1_700_000_000.0


def closed_case(**extra: str) -> dict[str, str]:
    return {
        "callback_id": "cb-1",
        "status": "resolved",
        "resolved_at": repr(CLOSED_AT),
        "customer_ref": "C-1",
        "verbatim": "Livraison ratée",
        "note": "rappelée, s'excuse",
        "contact_name": "Jeanne Martin",
        "contact_email": "jeanne@example.org",
        "contact_phone": "06 12 34 56 78",
        "site": "lyon",
        "score": "2",
        **extra,
    }


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("email", " Jeanne.Martin@Example.ORG", "jeanne.martin@example.org"),
        ("phone", "06 12 34 56 78", "+33 6 12 34 56 78"),
        ("phone", "0033612345678", "33612345678"),
        ("customer_ref", " C-1 ", "C-1"),
    ],
)
def test_one_person_one_key_however_it_is_spelled(kind: str, a: str, b: str) -> None:
    assert subject_key(kind, a, SECRET) == subject_key(kind, b, SECRET)  # type: ignore[arg-type]


def test_keys_name_nobody_without_the_secret_and_differ_by_kind() -> None:
    key = subject_key("email", "jeanne@example.org", SECRET)
    assert key.startswith("email:") and "jeanne" not in key
    assert key != subject_key("email", "jeanne@example.org", b"another secret")
    assert subject_key("customer_ref", "33612345678", SECRET) != subject_key("phone", "33612345678", SECRET)
    with pytest.raises(PrivacyError):
        normalise("phone", "pas de numéro")


def test_a_response_a_request_and_a_queued_callback_name_the_same_subjects() -> None:
    contact = {"name": "Jeanne", "email": "jeanne@example.org", "phone": "0612345678"}
    response = {"customer_ref": "C-1", "contact": contact}
    queued = {"customer_ref": "C-1", "contact_email": "JEANNE@example.org", "contact_phone": "+33612345678"}
    assert subjects_of(response, SECRET) == subjects_of(queued, SECRET)
    assert len(subjects_of(response, SECRET)) == 3
    assert subjects_of({"customer_ref": "C-1", "contact": None}, SECRET) == {subject_key("customer_ref", "C-1", SECRET)}


def test_staff_pseudonyms_are_stable_keyed_and_name_nobody() -> None:
    assert pseudonym("Jean Dupont", SECRET) == pseudonym(" Jean Dupont", SECRET)
    assert pseudonym("Jean Dupont", SECRET) != pseudonym("Marie Curie", SECRET)
    assert "Jean" not in pseudonym("Jean Dupont", SECRET)
    assert pseudonym("Jean Dupont", SECRET) != pseudonym("Jean Dupont", b"other")


def test_contacts_go_after_their_retention_the_whole_case_after_its_own() -> None:
    case = closed_case()
    assert RETENTION.cut(case, CLOSED_AT + 29 * DAY) is None
    kind, names = RETENTION.cut(case, CLOSED_AT + 30 * DAY) or ("", [])
    assert kind == "contact" and sorted(names) == sorted(CONTACT_FIELDS)
    kind, names = RETENTION.cut(case, CLOSED_AT + 365 * DAY) or ("", [])
    assert kind == "case" and sorted(names) == sorted(PERSONAL_FIELDS)


def test_the_purge_is_idempotent_and_spares_open_cases() -> None:
    case = closed_case()
    _, names = RETENTION.cut(case, CLOSED_AT + 31 * DAY) or ("", [])
    cut = {k: v for k, v in case.items() if k not in names}
    assert RETENTION.cut(cut, CLOSED_AT + 31 * DAY) is None  # nothing left to cut: nothing done
    assert RETENTION.cut(cut, CLOSED_AT + 400 * DAY) == ("case", ["verbatim", "customer_ref", "note"])
    for status in ("open", "claimed"):
        assert RETENTION.cut(closed_case(status=status), CLOSED_AT + 1000 * DAY) is None  # still to call back
    erased = closed_case(status="erased", resolved_at="", erased_at=repr(CLOSED_AT))
    assert RETENTION.cut(erased, CLOSED_AT + 30 * DAY) is not None


def test_topic_retention_in_milliseconds() -> None:
    assert RETENTION.topic_retention_ms() == {
        "inputs": 35 * 86_400_000,
        "dead_letters": 14 * 86_400_000,
        "dead_letter_log": 365 * 86_400_000,
    }


def test_an_erasure_drops_the_persons_evidence_and_keeps_the_counts() -> None:
    windows = (WindowSpec("live", 3600, 300),)
    tally = JourneyTally()
    tally.observe(windows, "customer", 1000.0, "r-1", {"pickup": -0.8}, 5, {"pickup": "retrait raté"}, ["email:aa"])
    tally.observe(windows, "customer", 1001.0, "r-2", {"pickup": 0.5}, 5, {"pickup": "retrait rapide"}, ["email:bb"])
    tally.evidence["customer|pickup"].insert(0, ["r-0", "written before subjects were kept"])
    before = tally.view(windows[0], "customer", "pickup")
    assert tally.forget({"email:aa"}) == 1
    assert [entry[0] for entry in tally.evidence["customer|pickup"]] == ["r-0", "r-2"]
    assert tally.view(windows[0], "customer", "pickup") == before
    assert tally.forget({"email:aa"}) == 0
    again = JourneyTally.from_dict(tally.to_dict())
    assert again.evidence == tally.evidence


def test_a_sighting_of_someone_erased_on_its_way_is_counted_but_never_evidence() -> None:
    windows = (WindowSpec("live", 3600, 300),)
    sighting = {
        "source": "s:0",
        "offset": 7,
        "side": "customer",
        "at": 1000.0,
        "id": "r-1",
        "steps": {"pickup": -0.8},
        "texts": {"pickup": "retrait raté"},
        "subjects": ["email:aa"],
    }
    tally = JourneyTally()
    assert tally.apply(windows, [sighting], 5, forgotten={"email:aa"}) == 1  # type: ignore[list-item]
    assert tally.view(windows[0], "customer", "pickup").n == 1 and tally.evidence == {}


def test_a_tools_ref_is_also_looked_for_as_a_mapping_stored_it() -> None:
    spellings = ref_spellings(" R-77 ")
    assert (
        "R-77" in spellings
        and mapped_ref("R-77", "qualtrics") in spellings
        and mapped_ref("R-77", "replay") in spellings
    )


def test_a_staff_story_is_evidence_only_once_its_site_has_enough_tellers() -> None:
    windows = (WindowSpec("live", 3600, 300),)

    def story(n: int, site: str, teller: str) -> dict[str, Any]:
        return {
            "source": "staff:0",
            "offset": n,
            "side": "staff",
            "at": 1000.0 + n,
            "id": f"f-{n}",
            "steps": {"pickup": -0.5},
            "texts": {"pickup": f"histoire {n}"},
            "site": site,
            "staff": teller,
        }

    tally = JourneyTally()
    small = [story(n, "village", f"staff-{n % 2}") for n in range(6)]  # two people, six stories
    assert tally.apply(windows, small, 5, min_staff=3) == 6  # type: ignore[arg-type]
    assert tally.view(windows[0], "staff", "pickup").n == 6 and tally.evidence == {}  # counted, never shown
    big = [story(10 + n, "ville", f"staff-v{n}") for n in range(4)]  # the third teller makes it a team
    tally.apply(windows, big, 5, min_staff=3)  # type: ignore[arg-type]
    assert [e[0] for e in tally.evidence["staff|pickup"]] == ["f-12", "f-13"]
    assert JourneyTally.from_dict(tally.to_dict()).staff_seen == {
        "village": ["staff-0", "staff-1"],
        "ville": [
            "staff-v0",
            "staff-v1",
            "staff-v2",
        ],
    }

"""Declarative mappings: a CSV row or a webhook's JSON to a record the codec takes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from processors.mapping import (
    DEFAULT_DIR,
    TARGETS,
    Mapping,
    MappingError,
    MappingFileError,
    apply_mapping,
    load_mapping,
    parse_mapping,
    parse_time,
    shipped_mappings,
)
from schemas import codec_for

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SURVEY = codec_for("SurveyResponse")
STAFF = codec_for("StaffFeedback")

# A CRM export of the furniture store, every field of the schema in a column of its own.
EXPORT = parse_mapping(
    {
        "kind": "survey",
        "fields": {
            "response_id": "id",
            "customer_ref": "client",
            "journey_id": {"from": "parcours", "default": "home_delivery"},
            "step_id": "etape",
            "score": "nps",
            "score_scale": {"default": "NPS"},
            "verbatim": "commentaire",
            "language": "langue",
            "channel": {"from": "canal", "values": {"courriel": "email", "téléphone": "voice"}},
            "segment": "segment",
            "site": "magasin",
            "callback_consent": "rappel",
            "contact.name": "nom",
            "contact.phone": "tel",
            "contact.email": "mail",
            "event_time": "date",
        },
    },
    "crm",
)
ROW = {
    "id": "R-1",
    "client": "Jeanne Martin",
    "parcours": "",
    "etape": "delivery",
    "nps": "0",
    "commentaire": "Livreur en retard de quatre heures.",
    "langue": "fr-FR",
    "canal": "Courriel",
    "segment": "VIP",
    "magasin": "lyon",
    "rappel": "Oui",
    "nom": "Jeanne Martin",
    "tel": "+33611111111",
    "mail": "",
    "date": "14 janvier 2025",
}


DEFAULTS = {"journey_id": "home_delivery", "score_scale": "NPS", "site": "lyon", "score": 5}


def mapped(row: dict[str, Any], mapping: Mapping = EXPORT) -> dict[str, Any]:
    record = apply_mapping(row, mapping, NOW)
    (SURVEY if mapping.kind == "survey" else STAFF).encode(record)  # a valid record
    return record


def test_every_field_of_a_flat_row_is_mapped() -> None:
    record = mapped(ROW)
    assert record["response_id"] == "R-1" and record["score"] == 0 and record["score_scale"] == "NPS"
    assert record["customer_ref"].startswith("replay-") and "Jeanne" not in record["customer_ref"]
    assert (record["journey_id"], record["step_id"], record["site"]) == ("home_delivery", "delivery", "lyon")
    assert (record["channel"], record["segment"], record["language"]) == ("email", "VIP", "fr")
    assert record["callback_consent"] is True
    assert record["contact"] == {"name": "Jeanne Martin", "email": None, "phone": "+33611111111"}
    assert record["event_time"] == datetime(2025, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize("score", ["0", 0, 0.0, "0.0", " 0 "])
def test_a_score_of_zero_is_kept(score: Any) -> None:
    assert mapped({**ROW, "nps": score})["score"] == 0


@pytest.mark.parametrize(
    ("score", "reason"),
    [("", "'nps' is empty"), (None, "'nps' is empty"), ("n/a", "'n/a' is not a number"), ("4.5", "whole number")],
)
def test_a_score_that_is_no_whole_number_names_the_score(score: Any, reason: str) -> None:
    with pytest.raises(MappingError, match=reason) as error:
        mapped({**ROW, "nps": score})
    assert error.value.field == "score" and str(error.value).startswith("score: ")


def test_a_missing_required_field_is_named() -> None:
    row = {k: v for k, v in ROW.items() if k != "magasin"}
    with pytest.raises(MappingError, match="no 'magasin' in the payload") as error:
        mapped(row)
    assert error.value.field == "site"
    no_journey = EXPORT.with_defaults({"journey_id": None})
    with pytest.raises(MappingError) as error:
        mapped(ROW, no_journey)
    assert (error.value.field, error.value.reason) == ("journey_id", "'parcours' is empty")
    bare = parse_mapping({"kind": "survey", "fields": {"score": "nps", "verbatim": "commentaire"}}, "bare")
    assert bare.unfilled() == ["journey_id", "score_scale", "site"]
    with pytest.raises(MappingError, match=r"^journey_id: no source and no default in the mapping$"):
        apply_mapping(ROW, bare, NOW)


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [("canal", "fax", "channel"), ("rappel", "peut-être", "callback_consent"), ("date", "hier", "event_time")],
)
def test_a_value_out_of_its_type_names_its_field(column: str, value: str, field: str) -> None:
    with pytest.raises(MappingError) as error:
        mapped({**ROW, column: value})
    assert error.value.field == field and repr(value) in error.value.reason


def test_a_bad_enum_value_names_the_field_and_the_symbols() -> None:
    with pytest.raises(MappingError, match=r"^channel: 'fax' is not one of email, sms, voice, web, other$"):
        mapped({**ROW, "canal": "fax"})
    with pytest.raises(MappingError, match="score_scale: 'stars' is not one of NPS, CSAT"):
        EXPORT.with_defaults({"score_scale": "stars"})


def test_consent_words_and_its_schema_default() -> None:
    for yes in ("oui", "YES", "1", 1, True, "true"):
        assert mapped({**ROW, "rappel": yes})["callback_consent"] is True
    for no in ("non", "No", "0", 0, False):
        assert mapped({**ROW, "rappel": no})["callback_consent"] is False
    assert mapped({**ROW, "rappel": ""})["callback_consent"] is False  # the schema's default
    assert mapped({**ROW, "mail": "", "tel": "", "nom": ""})["contact"] is None


def test_ids_are_stable_across_runs_and_differ_between_payloads() -> None:
    no_ids = parse_mapping({"kind": "survey", "fields": {"score": "nps", "verbatim": "commentaire"}}, "x")
    no_ids = no_ids.with_defaults({"journey_id": "home_delivery", "score_scale": "NPS", "site": "lyon"})
    first = apply_mapping(dict(ROW), no_ids, NOW)
    again = apply_mapping(dict(reversed(list(ROW.items()))), no_ids, NOW + timedelta(days=3))
    assert first["response_id"] == again["response_id"] and first["response_id"].startswith("replay-")
    assert first["customer_ref"] == again["customer_ref"]
    other = apply_mapping({**ROW, "commentaire": "Parfait."}, no_ids, NOW)
    assert other["response_id"] != first["response_id"]
    assert first["event_time"] == NOW  # no source: now


def test_joins_paths_alternatives_and_values_mapped_to_nothing() -> None:
    mapping = parse_mapping(
        {
            "kind": "staff",
            "fields": {
                "verbatim": "a.title+a.body",
                "site": {"from": ["team.site", "team.name"]},
                "prompt": {"from": "kind", "values": {"good": "most_positive", "bad": "most_frustrating"}},
                "language": {"from": "lang", "values": {"default": None}},
                "staff_ref": "people.0",
            },
        },
        "staff-json",
    )
    payload = {
        "a": {"title": "Super équipe…", "body": "On s'entraide."},
        "team": {"name": "Nantes"},
        "kind": "BAD",
        "lang": "default",
        "people": ["e.durand"],
    }
    record = mapped(payload, mapping)
    assert record["verbatim"] == "Super équipe. On s'entraide."
    assert (record["site"], record["prompt"], record["language"]) == ("Nantes", "most_frustrating", None)
    assert record["staff_ref"].startswith("replay-") and "durand" not in record["staff_ref"]


def test_dates() -> None:
    assert parse_time("14 janvier 2025") == datetime(2025, 1, 14, tzinfo=UTC)
    assert parse_time("3 août 2024") == parse_time("03/08/2024") == datetime(2024, 8, 3, tzinfo=UTC)
    assert parse_time("1er mars 2025") == parse_time("1 March 2025") == datetime(2025, 3, 1, tzinfo=UTC)
    assert parse_time("31-05-2025") == datetime(2025, 5, 31, tzinfo=UTC)
    assert parse_time("2025-02-14T10:00:00Z") == datetime(2025, 2, 14, 10, tzinfo=UTC)
    assert parse_time("2025-02-14 10:00:00") == datetime(2025, 2, 14, 10, tzinfo=UTC)
    for wrong in ("yesterday", "31 février 2025", "2025-13-01"):
        with pytest.raises(ValueError, match="expected ISO 8601"):
            parse_time(wrong)
    epoch = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    assert mapped({**ROW, "date": epoch})["event_time"] == mapped({**ROW, "date": epoch * 1000})["event_time"]
    formatted = parse_mapping({"kind": "survey", "fields": {"event_time": {"from": "date", "format": "%Y%m%d"}}}, "f")
    assert apply_mapping({"date": "20250102"}, formatted.with_defaults(DEFAULTS), NOW)["event_time"] == datetime(
        2025, 1, 2, tzinfo=UTC
    )
    with pytest.raises(MappingError, match="does not match '%Y%m%d'"):
        apply_mapping({"date": "2025-01-02"}, formatted.with_defaults(DEFAULTS), NOW)


def test_the_targets_are_the_schemas_fields() -> None:
    """processors may not read the schemas: its table of fields is checked against them here."""
    for kind, schema in (("survey", "SurveyResponse"), ("staff", "StaffFeedback")):
        fields = json.loads((ROOT / "schemas" / f"{schema}.avsc").read_text())["fields"]
        expected: dict[str, Any] = {}
        for spec in fields:
            kind_of = spec["type"]
            if spec["name"] == "contact":
                expected.update({f"contact.{f['name']}": (False, (), None) for f in kind_of[1]["fields"]})
                continue
            symbols = tuple(kind_of.get("symbols", ())) if isinstance(kind_of, dict) else ()
            expected[spec["name"]] = ("default" not in spec, symbols, spec.get("default"))
        expected.pop("schema_version")
        built_in = {"response_id", "feedback_id", "customer_ref", "staff_ref", "event_time", "verbatim"}
        actual = {
            t.name: (t.required or t.name in built_in, t.symbols, None if t.name in built_in else t.default)
            for t in TARGETS[kind]
        }
        assert actual == expected


def test_the_shipped_mappings_load() -> None:
    assert {"certideal", "glassdoor-pros", "glassdoor-cons", "qualtrics-json-event"} <= set(shipped_mappings())
    for name in shipped_mappings():
        mapping = load_mapping(name)
        assert mapping.name == name and mapping.kind in ("survey", "staff")
    assert load_mapping(DEFAULT_DIR / "certideal.yaml") == load_mapping("certideal")


def test_the_certideal_and_glassdoor_exports() -> None:
    row = {
        "Titre commentaire": "Super expérience…",
        "Commentaire": "Livraison rapide",
        "Note client": "5",
        "Date de publication": "09 janvier 2025",
        "Nom du client": "Harka Singh",
    }
    record = mapped(row, load_mapping("certideal"))
    assert record["verbatim"] == "Super expérience. Livraison rapide"
    assert (record["score"], record["score_scale"], record["journey_id"]) == (5, "CSAT", "phone_shop")
    assert record["event_time"] == datetime(2025, 1, 9, tzinfo=UTC) and "Harka" not in record["customer_ref"]
    review = {"pros": "Great team", "Cons": "Long hours", "reviewdate": "31-05-2025", "Employeer Name": "Acme"}
    pros, cons = mapped(review, load_mapping("glassdoor-pros")), mapped(review, load_mapping("glassdoor-cons"))
    assert (pros["verbatim"], pros["prompt"], pros["site"]) == ("Great team", "most_positive", "Acme")
    assert (cons["verbatim"], cons["prompt"]) == ("Long hours", "most_frustrating")
    assert pros["event_time"] == datetime(2025, 5, 31, tzinfo=UTC)


def test_a_qualtrics_json_event() -> None:
    payload = json.loads((FIXTURES / "qualtrics_json_event.json").read_text())
    record = mapped(payload, load_mapping("qualtrics-json-event"))
    assert (record["response_id"], record["score"], record["score_scale"]) == (payload["responseId"], 0, "NPS")
    assert record["callback_consent"] is True and record["contact"]["phone"] == payload["contact"]["phone"]
    assert record["contact"]["name"] == "Camille Roussel"
    assert (record["channel"], record["language"], record["step_id"]) == ("email", "fr", "delivery")
    assert record["event_time"] == datetime(2025, 3, 18, 14, 2, 37, tzinfo=UTC)
    anonymous = {**payload, "channel": "anonymous", "answers": {**payload["answers"], "callback": "Non merci"}}
    record = mapped(anonymous, load_mapping("qualtrics-json-event"))
    assert (record["channel"], record["callback_consent"]) == ("web", False)


def test_a_formbricks_response_finished_webhook() -> None:
    payload = json.loads((FIXTURES / "formbricks_response_finished.json").read_text())
    record = mapped(payload, load_mapping("formbricks-response-finished"))
    assert (record["response_id"], record["score"], record["score_scale"]) == (payload["data"]["id"], 0, "NPS")
    assert record["callback_consent"] is True
    assert record["contact"] == {
        "name": "Jordan Blake",
        "email": "jordan.blake@example.com",
        "phone": "+44 7700 900431",
    }
    assert (record["site"], record["segment"], record["language"]) == ("manchester", "newcomer", None)
    assert record["event_time"] == datetime(2025, 6, 2, 8, 43, 52, 27000, tzinfo=UTC)
    assert apply_mapping(payload, load_mapping("formbricks-response-finished"), NOW) == record  # re-delivered


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"kind": "customer"}, "kind must be survey or staff"),
        ({"kind": "survey", "fields": {"nps": "x"}}, "fields.nps: not a field of survey records"),
        ({"kind": "survey", "fields": {"score": {"column": "x"}}}, "unknown key 'column'"),
        ({"kind": "survey", "fields": {"score": {}}}, "needs from:"),
        ({"kind": "survey", "fields": {"channel": {"default": "fax"}}}, "'fax' is not one of"),
        ({"kind": "staff", "fields": {"prompt": {"from": "p", "values": {"x": "worst"}}}}, "'worst' is not one of"),
        ({"kind": "survey", "colums": {}}, "unknown key 'colums'"),
    ],
)
def test_a_wrong_mapping_file_says_where(document: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingFileError, match=message):
        parse_mapping(document, "wrong", "wrong.yaml")


def test_an_unknown_mapping_lists_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="certideal"):  # a MappingFileError is a MappingError
        load_mapping("no-such-mapping")
    own = tmp_path / "mine.yaml"
    own.write_text(
        "kind: staff\nfields:\n  verbatim: story\n  site: {default: hq}\n  prompt: {default: most_positive}\n"
    )
    assert load_mapping(own).name == "mine" and load_mapping(str(own)).kind == "staff"
    own.write_text("kind: [staff\n")
    with pytest.raises(MappingFileError, match=r"mine\.yaml: not YAML"):
        load_mapping(own)

"""One valid record per schema, for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

EXAMPLES: dict[str, dict[str, Any]] = {
    "SurveyResponse": {
        "schema_version": 1, "response_id": "r-1", "customer_ref": "cust-42",
        "journey_id": "home_delivery", "step_id": "delivery", "score": 3, "score_scale": "NPS",
        "verbatim": "Livraison rapide mais SAV injoignable.", "language": "fr", "channel": "email",
        "segment": "VIP", "site": "lyon", "callback_consent": True,
        "contact": {"name": "A. Martin", "email": "a.martin@example.org", "phone": "+33600000000"},
        "event_time": T0,
    },
    "StaffFeedback": {
        "schema_version": 1, "feedback_id": "f-1", "staff_ref": "staff-7", "site": "lyon",
        "journey_id": None, "prompt": "most_frustrating",
        "verbatim": "Le client attendait depuis une heure au retrait.", "language": "fr",
        "event_time": T0,
    },
    "MirrorState": {
        "schema_version": 1, "journey_id": "home_delivery", "step_id": "pickup", "window": "live",
        "window_start": T0, "window_end": T0,
        "customer": {"n": 12, "share": 0.4, "positive_impact": 0.1, "negative_impact": -0.5,
                     "net_impact": -0.4, "state": "dissatisfied"},
        "staff": {"n": 5, "share": 0.3, "positive_impact": 0.0, "negative_impact": -0.6,
                  "net_impact": -0.6, "state": "frustrated"},
        "mirror_type": "dead_end", "moment_of_truth": True, "evidence_ids": ["r-1", "f-1"],
        "reason": "change", "computed_at": T0,
    },
    "StepAlert": {
        "schema_version": 1, "alert_id": "a-1", "journey_id": "home_delivery", "step_id": "pickup",
        "window": "live", "kind": "entered", "mirror_type": "dead_end", "previous_type": "pain",
        "customer_net_impact": -0.4, "customer_n": 12, "staff_n": 5, "at": T0,
    },
    "CallbackRequest": {
        "schema_version": 1, "callback_id": "cb-r-1", "response_id": "r-1",
        "customer_ref": "cust-42",
        "contact": {"name": "A. Martin", "email": None, "phone": "+33600000000"},
        "site": "lyon", "journey_id": "home_delivery", "step_id": "delivery", "score": 3,
        "score_scale": "NPS", "verbatim": "SAV injoignable", "priority": "high",
        "created_at": T0, "due_at": T0,
    },
    "CallbackOutcome": {
        "schema_version": 1, "callback_id": "cb-r-1", "response_id": "r-1", "site": "lyon",
        "journey_id": "home_delivery", "step_id": None, "manager": "m.dupont",
        "outcome": "resolved", "note": "Geste commercial", "created_at": T0, "claimed_at": T0,
        "resolved_at": T0, "due_at": T0, "within_sla": True,
    },
    "DeadLetter": {
        "schema_version": 1, "source_topic": "survey-responses", "source_partition": 0,
        "source_offset": 17, "reason": "score_out_of_range", "detail": "score 11 not in 0..10",
        "original": b"\xc3\x01garbage", "received_at": T0,
    },
}

"""A synthetic pilot: realistic FR/EN customer responses and staff stories, seeded.

The default scenario gives the furniture store's steps deliberately different
fates so that the live demo shows all six mirror types:

| step (journey)                 | customers   | staff        | type        |
|--------------------------------|-------------|--------------|-------------|
| store_visit (home delivery)    | delighted   | proud        | win_win     |
| purchase (home delivery)       | delighted   | silent       | lucky_break |
| delivery (home delivery)       | delighted   | exhausted    | pain        |
| assembly (home delivery)       | unhappy     | proud        | wrong_fight |
| delivery_booking (home deliv.) | unhappy     | silent       | blindness   |
| pickup (both journeys)         | unhappy     | exhausted    | dead_end    |
| online_order (click & collect) | delighted   | proud        | win_win     |
| ready_notice (click & collect) | delighted   | silent       | lucky_break |

No I/O and no clock: the caller passes the start time and gets records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

POSITIVE, NEGATIVE = 1, -1

# (journey, step): customer tone, staff tone (None: staff never speak of it), weight in traffic
SCENARIO: dict[tuple[str, str], tuple[int, int | None, float]] = {
    ("home_delivery", "store_visit"): (POSITIVE, POSITIVE, 1.0),
    ("home_delivery", "purchase"): (POSITIVE, None, 1.0),
    ("home_delivery", "delivery"): (POSITIVE, NEGATIVE, 1.2),
    ("home_delivery", "assembly"): (NEGATIVE, POSITIVE, 1.0),
    ("home_delivery", "delivery_booking"): (NEGATIVE, None, 1.0),
    ("home_delivery", "pickup"): (NEGATIVE, NEGATIVE, 0.8),
    ("click_collect", "online_order"): (POSITIVE, POSITIVE, 1.0),
    ("click_collect", "ready_notice"): (POSITIVE, None, 1.0),
    ("click_collect", "pickup"): (NEGATIVE, NEGATIVE, 1.0),
}
SITES = ("lyon-part-dieu", "paris-bercy", "lille-centre")

CUSTOMER_PHRASES: dict[str, dict[int, dict[str, tuple[str, ...]]]] = {
    "store_visit": {
        POSITIVE: {
            "fr": (
                "Le vendeur était super, de très bons conseils",
                "Accueil en magasin parfait et vendeuse très agréable",
                "Excellents conseils en magasin, merci",
            ),
            "en": (
                "The salesperson was great and gave excellent advice",
                "Lovely store and very helpful staff",
            ),
        },
    },
    "purchase": {
        POSITIVE: {
            "fr": ("Passage en caisse rapide et simple", "Paiement facile, prix correct, très satisfait"),
            "en": ("Checkout was quick and easy", "Payment was simple, great price"),
        },
    },
    "delivery": {
        POSITIVE: {
            "fr": (
                "Livraison rapide et livreurs très sympathiques",
                "Livraison parfaite, à l'heure, livreurs au top",
                "Les livreurs ont été super, livraison impeccable",
            ),
            "en": (
                "Delivery was fast and the drivers were lovely",
                "Perfect delivery, on time, great drivers",
            ),
        },
    },
    "assembly": {
        NEGATIVE: {
            "fr": (
                "Montage raté, meuble abîmé et aucune explication",
                "Le monteur a tout cassé, très déçu du montage",
                "Montage catastrophique, porte de travers, déçu",
            ),
            "en": (
                "The assembly was terrible and the wardrobe is damaged",
                "Awful assembly, the door is broken",
            ),
        },
    },
    "delivery_booking": {
        NEGATIVE: {
            "fr": (
                "Impossible d'obtenir un rendez-vous, créneau annulé deux fois, inadmissible",
                "Rendez-vous de livraison annulé sans prévenir, honteux",
                "Aucun créneau disponible avant un mois, très déçu",
            ),
            "en": (
                "The delivery appointment was cancelled twice, terrible",
                "No time slot for a month, awful",
            ),
        },
    },
    "pickup": {
        NEGATIVE: {
            "fr": (
                "Attente interminable au retrait, personne au comptoir, honteux",
                "Retrait catastrophique, une heure d'attente, très déçu",
                "Le retrait est une honte, aucun employé, inadmissible",
            ),
            "en": (
                "Pickup was a nightmare, an hour of waiting, terrible",
                "Awful pickup, nobody at the counter",
            ),
        },
    },
    "online_order": {
        POSITIVE: {
            "fr": (
                "Commande en ligne très simple, site parfait",
                "Site internet clair, commande rapide, super",
            ),
            "en": ("Ordering online was easy, great website", "The website is great and the order was quick"),
        },
    },
    "ready_notice": {
        POSITIVE: {
            "fr": (
                "SMS reçu rapidement quand la commande était prête, parfait",
                "Prévenu par mail très vite, commande prête, top",
            ),
            "en": (
                "I was notified quickly that my order was ready, great",
                "Fast email when it was ready, perfect",
            ),
        },
    },
}

STAFF_PHRASES: dict[str, dict[int, dict[str, tuple[str, ...]]]] = {
    "store_visit": {
        POSITIVE: {
            "fr": (
                "Une cliente m'a remercié pour mes conseils en magasin, un vrai plaisir",
                "Super moment en magasin, le client est reparti ravi de nos conseils",
            ),
            "en": ("A customer thanked me for my advice in the store, a great moment",),
        }
    },
    "delivery": {
        NEGATIVE: {
            "fr": (
                "Trop de livraisons dans la journée, camion surchargé, on est épuisés",
                "Livraison au cinquième sans ascenseur, tournée intenable, épuisant",
            ),
            "en": ("Far too many deliveries a day, the van is overloaded, exhausting",),
        }
    },
    "assembly": {
        POSITIVE: {
            "fr": (
                "Fier du montage de la cuisine, travail impeccable de toute l'équipe",
                "Montage parfait d'une grande armoire, très content du résultat",
            ),
            "en": ("Proud of the kitchen assembly, great teamwork",),
        }
    },
    "pickup": {
        NEGATIVE: {
            "fr": (
                "Seul au comptoir de retrait avec vingt clients mécontents, horrible et épuisant",
                "Au retrait on est débordés et épuisés, aucun renfort, horrible",
            ),
            "en": ("Alone at the pickup counter with twenty angry customers, awful",),
        }
    },
    "online_order": {
        POSITIVE: {
            "fr": ("Les commandes en ligne arrivent bien préparées, super travail de l'équipe",),
            "en": ("Online orders come in clean, great work from the team",),
        }
    },
}


@dataclass(frozen=True)
class Simulated:
    kind: str  # "survey" or "staff"
    record: dict[str, Any]


def _tone_score(tone: int, scale: str, rng: random.Random) -> int:
    if scale == "NPS":
        return rng.choice((9, 10, 10)) if tone > 0 else rng.choice((0, 2, 3, 4, 5))
    return rng.choice((4, 5, 5)) if tone > 0 else rng.choice((1, 1, 2))


def _customer_response(i: int, rng: random.Random, at: datetime) -> dict[str, Any]:
    keys = list(SCENARIO)
    weights = [SCENARIO[k][2] for k in keys]
    journey, step = rng.choices(keys, weights)[0]
    tone = SCENARIO[(journey, step)][0]
    language = "fr" if rng.random() < 0.8 else "en"
    text = rng.choice(CUSTOMER_PHRASES[step][tone][language])
    scale = "NPS" if rng.random() < 0.8 else "CSAT"
    site = rng.choice(SITES)
    consent = rng.random() < 0.6
    return {
        "response_id": f"sim-r-{i}",
        "customer_ref": f"cust-{rng.randrange(10**6):06d}",
        "journey_id": journey,
        "step_id": step if rng.random() < 0.3 else None,
        "score": _tone_score(tone, scale, rng),
        "score_scale": scale,
        "verbatim": text + ".",
        "language": language if rng.random() < 0.5 else None,
        "channel": rng.choice(("email", "sms", "web", "voice")),
        "segment": rng.choice((None, "VIP", "newcomer")),
        "site": site,
        "callback_consent": consent,
        "contact": {
            "name": None,
            "email": f"client{i}@example.org",
            "phone": f"+336{rng.randrange(10**8):08d}",
        }
        if consent
        else None,
        "event_time": at,
    }


def _staff_story(i: int, rng: random.Random, at: datetime) -> dict[str, Any]:
    step = rng.choice(list(STAFF_PHRASES))
    tone = next(iter(STAFF_PHRASES[step]))
    journeys = [journey for journey, s in SCENARIO if s == step]
    language = "fr" if rng.random() < 0.85 else "en"
    return {
        "feedback_id": f"sim-f-{i}",
        "staff_ref": f"staff-{rng.randrange(40):02d}",
        "site": rng.choice(SITES),
        "journey_id": rng.choice(journeys),
        "prompt": "most_positive" if tone > 0 else "most_frustrating",
        "verbatim": rng.choice(STAFF_PHRASES[step][tone][language]) + ".",
        "language": None,
        "event_time": at,
    }


def simulate(seed: int, start: float, count: int, rate: float, staff_share: float = 0.3) -> Iterator[Simulated]:
    """`count` events, one every 1/rate seconds of event time from `start` (epoch seconds)."""
    rng = random.Random(seed)
    for i in range(count):
        at = datetime.fromtimestamp(start + i / rate, tz=UTC)
        if rng.random() < staff_share:
            yield Simulated("staff", _staff_story(i, rng, at))
        else:
            yield Simulated("survey", _customer_response(i, rng, at))


def survey_responses(count: int, prefix: str, seed: int, start: float, rate: float) -> list[dict[str, Any]]:
    """`count` survey responses of the synthetic pilot (its staff stories left out), with the ids
    `<prefix>-0`, `<prefix>-1`…: a run's own, so that what it finds in Kafka is its own."""
    out: list[dict[str, Any]] = []
    for event in simulate(seed, start, count, rate, staff_share=0.0):
        out.append({**event.record, "response_id": f"{prefix}-{len(out)}"})
    return out

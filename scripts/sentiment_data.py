"""Long on purpose: 23 files, each with its own scale, columns and traps, are read side by side here.

Typed loaders for every review file of shared/data, for training and judging the sentiment model.

    .venv/bin/python scripts/sentiment_data.py [--data ../shared/data]   # counts per file and domain

The files stay where they are (their text is never copied into this repository); this module knows
only their columns, scales and traps (shared/data/README.md and fr/README.md). Each row becomes a
`Review`: one 3-class label, its domain (for leave-one-domain-out evaluation) and its source entity
(for group splits: a restaurant's or an employer's words must not sit on both sides of a split).
Files with pros/cons columns also give one polar row per pros or cons cell (part="pros"/"cons").
"""

from __future__ import annotations

import argparse
import csv
import html
import re
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

NEG, NEU, POS = 0, 1, 2
LABEL_NAMES = ("neg", "neu", "pos")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PSEUDO_BUCKETS = 20  # files without an entity column: entity = a stable hash bucket of the text
MIN_CHARS = 3

DOMAINS: dict[str, str] = {
    "ecommerce": "French e-commerce and tech brands: Trustpilot shops and brands, Amazon.fr book reviews",
    "public_services": "French public services: Services Publics+ experiences, Pôle emploi agencies",
    "healthcare": "French pharmacies (Google Maps, Grand Est)",
    "hotels": "French hotel reviews: Booking.com, TripAdvisor",
    "restaurants": "French restaurant reviews: TripAdvisor, Lyon",
    "food_delivery": "French food and delivery brands (Trustpilot)",
    "employees": "French employee reviews of their employer (Glassdoor): the staff side",
    "general": "French general polarity: books, films and TV series, tweets",
    "en_airline": "English airline reviews (airlinequality.com)",
    "en_employees": "English employee reviews of their employer (Glassdoor)",
}


@dataclass(frozen=True)
class Review:
    """One training row: a review, or one pros/cons cell of it."""

    text: str  # the text columns joined with ". " (placeholders and Booking's score words left out)
    label: int  # NEG, NEU or POS
    binary_only: bool  # the source knows no neutral class (binary sets, pros/cons rows)
    domain: str  # a key of DOMAINS
    entity: str  # what is reviewed, for group splits: "<file stem or shared prefix>:<name>"
    language: str  # "fr" or "en": the file's language
    source: str  # file stem
    part: str = "review"  # "review", or "pros"/"cons" for the rows drawn from those cells


# ---------------------------------------------------------------- labels


def _number(raw: str) -> float | None:
    """The first number of a rating cell: "4.0", "8,0", "Avec une note de 8,0", "1 étoile"."""
    match = re.search(r"\d+(?:[.,]\d+)?", raw)
    return float(match.group().replace(",", ".")) if match else None


def stars5(raw: str) -> int | None:
    """1-5 stars: 1-2 NEG, 3 NEU, 4-5 POS, the usual reading (3 is the reviewer's "average").
    Anything but a whole number from 1 to 5 is invalid."""
    x = _number(raw)
    if x is None or x not in (1, 2, 3, 4, 5):
        return None
    return NEG if x <= 2 else NEU if x == 3 else POS


def half_stars(raw: str) -> int | None:
    """0.5-5 in half steps (Babelio, Allociné): <=2 NEG, 2.5-3.5 NEU, >=4 POS, a neutral band
    centred on 3 as on the whole-star scale. 5.5 (3 Babelio rows) is invalid."""
    x = _number(raw)
    if x is None or not 0.5 <= x <= 5 or not (2 * x).is_integer():
        return None
    return NEG if x <= 2 else NEU if x <= 3.5 else POS


def booking10(raw: str) -> int | None:
    """Booking.com 1-10 with a decimal comma: <=5 NEG, 5 < s < 8 NEU, >=8 POS.

    Booking scores skew high (Paris file: median 8.3, 72% of rows at 8 or more; a 5-star reading
    of 1-10 would call most lukewarm stays good). The cuts follow Booking's own words, seen in
    the score-derived titles: up to 5 "Décevant"/"Passable", 6 "Agréable", 7 "Bien" (mixed stays,
    pros and cons alike), from 8 "Très bien", then "Fabuleux", "Exceptionnel"."""
    x = _number(raw)
    if x is None or not 1 <= x <= 10:
        return None
    return NEG if x <= 5 else NEU if x < 8 else POS


def airline10(raw: str) -> int | None:
    """airlinequality.com 1-10 overall: 1-4 NEG, 5-7 NEU, 8-10 POS.

    The file's distribution is bimodal (1 is the commonest score) and its own `recommended`
    column places the cuts: 1-4 are recommended by under 7% of reviewers, 8-10 by over 96%,
    while 5, 6 and 7 are where it turns (about 24%, 67%, 88%): the mixed band."""
    x = _number(raw)
    if x is None or x not in range(1, 11):
        return None
    return NEG if x <= 4 else NEU if x <= 7 else POS


def classes(table: dict[str, int]) -> Callable[[str], int | None]:
    """A categorical label (tweets 0/1/2, Services Publics+ `Ressenti usager`, binary 0/1 or
    True/False): the cell's value as the source gives it, anything else invalid."""
    return lambda raw: table.get(raw.strip())


BINARY_01 = classes({"0": NEG, "1": POS})

# ---------------------------------------------------------------- text

_C1 = re.compile(r"[\x80-\x9f]")  # cp1252 bytes read as Latin-1 (SP+ exports: \x92 for ’)
_QUOTES = "\"'“”«»"
# The airline's bodies open with a verification badge ("Verified Review |"), not the reviewer's words.
_BADGE = re.compile(r"^\W*(?:verified review|trip verified|not verified|unverified)\s*\|\s*", re.I)
# A cell that says nothing ("RAS", "None" from a scraper, Excel's "#NAME?", "-"): left out of joins.
_PLACEHOLDER = re.compile(
    r"ras|rien|n[ée]ant|n/?a|none|nothing|aucun[es]?|nada|nulla|niets|nil|#name|rien (?:à|a) signaler"
    r"|rien (?:de|en) (?:particulier|sp[ée]cial)|(?:absolument )?rien du tout|british airways customer review"
)
# A pros or cons cell that denies its own column ("Aucun inconvénient" as a con, "Rien de bien" as a pro,
# "none that I can think of"): real text inside the joined review, but no clean polar pros/cons row.
_NOTHING = r"(?:rien|aucun[es]*|none|nothing|nada|nulla|niets)"
_AFTER_NOTHING = (  # "Rien à signaler", "Aucun mais...", "None that I can think of", "Nothing good"
    r"du ?tout|[àa]|de|d|en|pour|mais|sauf|si|vu|que|vraiment|so|really|whatsoever|that|i|at|to|as|for|from"
    r"|comes?|much|yet|but|except|good|bad|positive|negative|important|significant|major|serious"
)
_CON_NOUN = r"(?:avantages?|inconv[ée]nients?|pros?|cons?|negatives?|downsides?|issues?|complaints?|probl[èe]mes?|avis)"
_DENIAL = re.compile(
    rf"{_NOTHING}(?: (?:{_AFTER_NOTHING})\b.*)?|(?:{_NOTHING}|no)(?: \w+)? {_CON_NOUN}\b.*"
    rf"|there (?:are|is) (?:none\b.*|(?:no|not (?:many|any|too many)) (?:\w+ )?{_CON_NOUN}\b.*)"
    r"|(?:not many pros|i (?:can[’']?t|cannot|could ?n[’']?t) think"
    r"|i (?:don[’']?t|do not) (?:have|find|see|know))(?: .*)?"
    rf"|{_NOTHING}\b.* (?:parfait|bien|top|nickel|impeccable|perfect|great|d[ée]plu)\b.*"
)
# A con that praises ("Tout était parfait"): the guest had nothing to put there.
_PRAISE = re.compile(r"tout (?:est|était|etait|a été|s.est) (?:\w+ )?(?:parfait|bien|top|nickel|super|impeccable)\b.*")


def clean(raw: str) -> str:
    """cp1252 slips repaired, HTML entities (&amp;, &nbsp; in Glassdoor) decoded, whitespace runs
    collapsed to one space, ends stripped, wrapping quotes (airline titles) removed."""
    text = _C1.sub(lambda m: bytes([ord(m.group())]).decode("cp1252", "ignore"), raw)
    text = html.unescape(html.unescape(text))  # twice: a few tweets were escaped twice ("&amp;amp;")
    text = _BADGE.sub("", re.sub(r"\s+", " ", text).strip())
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def is_placeholder(cell: str) -> bool:
    """Nothing but placeholder words ("RAS", "None None None", "Aucun, aucun") or punctuation."""
    core = cell.strip(" .!?…-/*_\"'“”").casefold()
    if not any(c.isalnum() or unicodedata.category(c) == "So" for c in core):  # emoji do say something
        return True
    words = [w for w in re.split(r"[\s,;.!?…]+", core) if w]
    return bool(_PLACEHOLDER.fullmatch(core)) or all(_PLACEHOLDER.fullmatch(w) for w in words)


def denies(cell: str, part: str) -> bool:
    """Whether a pros/cons cell's first clause says there is nothing to put in its column."""
    clause = re.split(r"[.,;:!?(…]| - ", cell.casefold().lstrip(" -*•\"'“”"))[0].strip()
    return bool(_DENIAL.fullmatch(clause) or (part == "cons" and _PRAISE.fullmatch(clause)))


def join_parts(cells: list[str]) -> str:
    """Cells joined with ". " (a space after end punctuation); placeholders, repeats and titles that
    are only the truncated start of the next cell (Trustpilot cuts a missing title from the body,
    ending it with "…") left out."""
    parts = [c for c in map(clean, cells) if not is_placeholder(c)]
    kept: list[str] = []
    for i, cell in enumerate(parts):
        start = cell.rstrip("…. ")
        truncated = cell.endswith(("…", "...")) and i + 1 < len(parts) and parts[i + 1].startswith(start)
        if not truncated and cell.casefold() not in {k.casefold() for k in kept}:
            kept.append(cell)
    text = ""
    for cell in kept:
        text += cell if not text else (" " if text[-1] in ".!?…" else ". ") + cell
    return text


# ---------------------------------------------------------------- the files


@dataclass(frozen=True)
class Spec:
    """How to read one file."""

    stem: str
    domain: str
    rating: str  # the label's column
    label: Callable[[str], int | None]
    text: tuple[str, ...]  # joined in this order (a title first)
    entity: tuple[str, ...] = ()  # the first non-empty of these columns names the entity
    const: str = ""  # the entity when the whole file reviews one hotel, shop or airline
    ns: str = ""  # entity prefix (default: the stem); shared by files reviewing the same places
    pros: str = ""
    cons: str = ""
    flag: str = ""  # "1" in this column: text[0] is Booking's score word, derived from the label
    binary: bool = False
    language: str = "fr"
    folder: str = "fr"
    note: str = ""  # why the entity is what it is, when it needs saying

    def entity_doc(self) -> str:
        ns = self.ns or self.stem
        buckets = f"{PSEUDO_BUCKETS} pseudo-entities {ns}:bucketNN (crc32 of the text)"
        if self.entity:
            how = f"{ns}:<{' or '.join(self.entity)}>, else {buckets}"
        else:
            how = f"{ns}:{self.const}" if self.const else f"no entity column: {buckets}"
        return how + (f"; {self.note}" if self.note else "")


STARS = stars5
TRIANON = "paris_hotel"  # Booking and TripAdvisor reviews of the same hotel: one entity for both
LYON = "lyon_restaurant"  # restaurants named in two files (11 in both): one entity per restaurant
SPECS: tuple[Spec, ...] = (
    Spec("fr_ecommerce_reviews_certideal", "ecommerce", "Note client", STARS, ("Titre commentaire", "Commentaire"),
         ("Nom entreprise",), folder=""),
    Spec("en_airline_reviews_ba", "en_airline", "rating", airline10, ("header", "content"), const="british airways",
         language="en", folder=""),
    Spec("en_employee_reviews_glassdoor", "en_employees", "rating Overall", STARS, ("summary", "pros", "Cons"),
         ("Employeer Name",), pros="pros", cons="Cons", language="en", folder=""),
    Spec("glassdoor_fr_big4_employees", "employees", "rating", STARS, ("title", "pros", "cons"), ("source",),
         pros="pros", cons="cons", note="the firm is in `source`; `group` is a Deloitte-only number"),
    Spec("glassdoor_fr_datalake_employees", "employees", "rating_overall", STARS,
         ("title", "pros", "cons", "advice"), ("company",), pros="pros", cons="cons"),
    Spec("servicespublicsplus_fr_experiences_balanced", "public_services", "Ressenti usager",
         classes({"Négatif": NEG, "Neutre": NEU, "Positif": POS}), ("Titre", "Description"),
         ("Intitulé Typologie 1", "Intitulé structure 1"), note="the service's type (CAF, préfecture, consulates...)"),
    Spec("google_maps_fr_pole_emploi_idf", "public_services", "Etoile", STARS, ("Commentaires",), ("Localisation",)),
    Spec("google_maps_fr_pharmacies_grandest", "healthcare", "note_avis", STARS, ("avis_texte",), ("pharmacie",),
         note="same-name pharmacies of different towns share one entity (stricter, never leaky)"),
    Spec("trustpilot_fr_bigbrands_vrmelox", "ecommerce", "rating", STARS, ("comment",), ("company",)),
    Spec("trustpilot_fr_mixed_feniou_topredict", "ecommerce", "rating", STARS, ("review",)),
    Spec("trustpilot_fr_food_delivery_artus", "food_delivery", "Grade", STARS, ("Headline", "Review"), ("Brand",)),
    Spec("booking_fr_paris_hotels_nohossat", "hotels", "note", booking10, ("titre", "bons_points", "mauvais_points"),
         ("note_etablissement",), pros="bons_points", cons="mauvais_points", flag="title_is_booking_score_label",
         note="no hotel column (`lieu` is always Paris): the hotel's overall score `note_etablissement`, constant "
         "per hotel, stands for it (15 values; hotels sharing a score share an entity, stricter than buckets)"),
    Spec("booking_fr_trianon_hotel", "hotels", "Score", booking10, ("Content", "Positive", "Negative"), const="trianon",
         ns=TRIANON, pros="Positive", cons="Negative", flag="title_is_booking_score_label"),
    Spec("tripadvisor_fr_trianon_hotel", "hotels", "Rating", STARS, ("Review",), const="trianon", ns=TRIANON),
    Spec("tripadvisor_fr_lyon_restaurants", "restaurants", "note_restaurant", STARS, ("titre_avis", "contenu_avis"),
         ("id_restaurant",), note="ids only: cannot be matched with the named restaurants of the other two files"),
    Spec("tripadvisor_fr_lyon_restaurants_hugocollin", "restaurants", "rating", STARS, ("title", "review"),
         ("restaurant",), ns=LYON),
    Spec("tripadvisor_fr_lyon_restaurants_adjaro", "restaurants", "nb_etoiles", STARS, ("titre_review", "review"),
         ("restaurant",), ns=LYON),
    Spec("amazon_fr_books_cls10_test", "ecommerce", "polarity_positive", classes({"False": NEG, "True": POS}),
         ("text",), binary=True),
    Spec("books_fr_babelio_critiqueslibres", "general", "rating", half_stars, ("reader_review",), ("book_title",),
         note="the author's `label` column is ignored: the rating is the source's own"),
    Spec("allocine_fr_scraped_10titles_martins", "general", "note", half_stars, ("titre_avis", "texte"),
         ("content_name",)),
    Spec("allocine_fr_movies_blard_sample", "general", "label", BINARY_01, ("text",), binary=True),
    Spec("allocine_fr_tvseries_dongdemelo", "general", "label", BINARY_01, ("text",), binary=True),
    Spec("tweets_fr_deft2017_umsab_xlmt", "general", "label", classes({"0": NEG, "1": NEU, "2": POS}), ("text",)),
)  # fmt: skip


def _entity(spec: Spec, row: dict[str, str], text: str) -> str:
    ns = spec.ns or spec.stem
    for column in spec.entity:
        if name := clean(row[column]).replace("’", "'").casefold():
            return f"{ns}:{name}"
    return f"{ns}:{spec.const}" if spec.const else f"{ns}:bucket{zlib.crc32(text.encode()) % PSEUDO_BUCKETS:02d}"


def load_file(spec: Spec, path: Path, skipped: Counter[str] | None = None) -> Iterator[Review]:
    """The file's reviews, then its pros/cons rows; `path` is the data folder or the CSV itself.
    Rows left out are counted by reason in `skipped`; an exact (text, label) repeat is kept once."""
    skipped = Counter() if skipped is None else skipped
    if path.is_dir():
        path = path / spec.folder / f"{spec.stem}.csv"
    seen: set[tuple[str, int]] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            raw = row[spec.rating].strip()
            label = spec.label(raw) if raw else None
            if label is None:
                skipped["empty rating" if not raw else "invalid rating"] += 1
                continue
            cells = [row[column] for column in spec.text]
            if spec.flag and row[spec.flag].strip() == "1":
                cells[0] = ""  # Booking wrote it from the score: it would teach the label itself
            text = join_parts(cells)
            if len(text) < MIN_CHARS:
                skipped["empty or placeholder text" if not text else "short text"] += 1
                continue
            review = Review(text, label, spec.binary, spec.domain, _entity(spec, row, text), spec.language, spec.stem)
            found = [review]
            for part, column, polar in (("pros", spec.pros, POS), ("cons", spec.cons, NEG)):
                if not column:
                    continue
                cell = clean(row[column])
                why = "placeholder" if is_placeholder(cell) else "denial" if denies(cell, part) else ""
                if why := why or ("short text" if len(cell) < MIN_CHARS else ""):
                    skipped[f"{part} row: {why}"] += 1
                else:
                    found.append(replace(review, text=cell, label=polar, binary_only=True, part=part))
            for one in found:
                if (one.text, one.label) in seen:
                    skipped["duplicate" if one.part == "review" else f"{one.part} row: duplicate"] += 1
                    continue
                seen.add((one.text, one.label))
                yield one


def _loader(spec: Spec) -> Callable[[Path], Iterator[Review]]:
    def load(path: Path, skipped: Counter[str] | None = None) -> Iterator[Review]:
        return load_file(spec, path, skipped)

    load.__name__ = f"load_{spec.stem}"
    load.__doc__ = f"{spec.stem}.csv: domain {spec.domain}, {spec.language}; entity {spec.entity_doc()}."
    return load


def loaders() -> dict[str, Callable[[Path], Iterator[Review]]]:
    """File stem -> loader; a loader takes the data folder (or the CSV) and an optional skip Counter."""
    return {spec.stem: _loader(spec) for spec in SPECS}


def load_all(data: Path, skipped: dict[str, Counter[str]] | None = None) -> list[Review]:
    """Every file's rows; `skipped`, when given, receives each file's skip counts by reason."""
    out: list[Review] = []
    for spec in SPECS:
        counts = Counter[str]()
        out += load_file(spec, data, counts)
        if skipped is not None:
            skipped[spec.stem] = counts
    return out


def summary(name: str, rows: list[Review], skipped: Counter[str]) -> str:
    """Counts only, never text."""
    labels = Counter(r.label for r in rows if r.part == "review")
    total = sum(labels.values()) or 1
    shares = " ".join(f"{LABEL_NAMES[k]} {labels[k]} {labels[k] / total:.0%}" for k in (NEG, NEU, POS))
    extra = Counter(r.part for r in rows if r.part != "review")
    skips = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) or "none"
    return (
        f"{name}: {labels.total()} reviews ({shares}), {len({r.entity for r in rows})} entities, "
        f"pros rows {extra['pros']}, cons rows {extra['cons']}; skipped: {skips}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    args = parser.parse_args(argv)
    by_domain: dict[str, list[Review]] = defaultdict(list)
    domain_skips: dict[str, Counter[str]] = defaultdict(Counter)
    print("per file")
    for spec in SPECS:
        skipped = Counter[str]()
        rows = list(load_file(spec, args.data, skipped))
        by_domain[spec.domain] += rows
        domain_skips[spec.domain] += skipped
        print(" ", summary(spec.stem, rows, skipped))
    print("per domain")
    for domain in DOMAINS:
        print(" ", summary(domain, by_domain[domain], domain_skips[domain]))


if __name__ == "__main__":
    main()

"""Mappings: a payload (a CSV row, or nested JSON such as a webhook body) to an input record.

Long on purpose: the format, its reader and the conversions it promises are one contract,
shared by `miroir replay` and the HTTP intake, and read in one place.

A mapping is a YAML file: `processors/mappings/<name>.yaml` (shipped: the exports `certideal`,
`glassdoor-pros`, `glassdoor-cons`; the webhooks `qualtrics-json-event`,
`formbricks-response-finished`; `survey` and `staff`, the bases `miroir replay --map` adds to)
or any path. It fills the fields of `schemas/SurveyResponse.avsc` (kind: survey) or
`schemas/StaffFeedback.avsc` (kind: staff), the contact's as `contact.name|email|phone`:

    kind: survey                      # survey or staff
    description: Qualtrics, NPS       # optional, as `name:` (default: the file's stem)
    id_prefix: qualtrics              # of derived ids and pseudonyms (default: replay)
    fields:
      response_id: responseId                     # a source alone: a column or a key
      score: {from: data.data.nps}                # long form; a dotted path into nested JSON
      verbatim: {from: "Titre+Commentaire"}       # '+' joins texts with ". " (`join:` another)
      journey_id: {default: home_delivery}        # no source: a fixed value
      site: {from: embedded.site, default: web}   # the value when the source is missing
      callback_consent: {from: consent, values: {accepted: true}}   # source value -> value
      event_time: {from: date, format: "%d/%m/%Y %H:%M"}           # strptime, else the below
      contact.email: {from: [contact.2, contactAttributes.email]}   # the first one present
      contact.phone: contact.3                    # list items by index

A source is looked up as a key first (a column may hold dots), then as a path. A source that
is absent, null or blank is missing: the field takes its `default`, else the schema's default
(null; channel other; callback_consent false), an empty verbatim (the worker dead-letters it,
with its reason), event_time `now`, or for ids (response_id, feedback_id) `<id_prefix>-<hash of
the whole payload>`: the same payload always gets the same id, so a re-import or a re-delivery
is recognised as a duplicate. Else MappingError names the field and why. A `values:` entry
mapped to null (`~`) makes the value missing.

Values are converted by the field's type: score an int ("0", 0 and 0.0 kept as 0; "4.5",
"n/a" rejected); enums (score_scale, channel, prompt) matched whatever the case;
callback_consent from true/false, yes/no, oui/non, 1/0 (`values:` maps other words; its keys
compare trimmed and case-folded: quote 'yes'/'no', which YAML reads as booleans); language
'FR' or 'fr-FR' as 'fr'; event_time from ISO 8601 (naive: UTC), '14 janvier 2025',
'31-05-2025' or '31/05/2025' (day first), or epoch seconds or milliseconds; customer_ref and
staff_ref pseudonymised (`<id_prefix>-` and a hash of the value, or of the payload when
missing). A number becomes text as written; a list, its items joined with ", ".
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from processors.text import fold

DEFAULT_DIR = Path(__file__).parent / "mappings"
KINDS = ("survey", "staff")
_DOCUMENT_KEYS = {"name", "kind", "description", "id_prefix", "fields"}
_SPEC_KEYS = {"from", "default", "values", "join", "format"}
_TRUE = {"true", "yes", "y", "oui", "o", "1", "on", "vrai"}
_FALSE = {"false", "no", "n", "non", "0", "off", "faux"}
_MONTHS = {
    fold(name): number
    for names in (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "january february march april may june july august september october november december",
    )
    for number, name in enumerate(names.split(), start=1)
}
_ABSENT: Any = object()


class MappingError(ValueError):
    """A payload that does not map: `field` names the record's field, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class MappingFileError(MappingError):
    """A mapping that is absent or wrong; the message names the file and the entry. A
    MappingError too (field "mapping"), so one `except MappingError` serves both."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.field = "mapping"
        self.reason = message


@dataclass(frozen=True)
class Target:
    """A field of the kind's schema, as a mapping fills it."""

    name: str
    type: str  # id, ref, text, int, enum, bool, language, time
    required: bool = False  # neither the schema nor the mapping module has a default for it
    symbols: tuple[str, ...] = ()
    default: Any = None


TARGETS: dict[str, tuple[Target, ...]] = {
    "survey": (
        Target("response_id", "id"),
        Target("customer_ref", "ref"),
        Target("journey_id", "text", required=True),
        Target("step_id", "text"),
        Target("score", "int", required=True),
        Target("score_scale", "enum", required=True, symbols=("NPS", "CSAT")),
        Target("verbatim", "text", default=""),
        Target("language", "language"),
        Target("channel", "enum", symbols=("email", "sms", "voice", "web", "other"), default="other"),
        Target("segment", "text"),
        Target("site", "text", required=True),
        Target("callback_consent", "bool", default=False),
        Target("contact.name", "text"),
        Target("contact.email", "text"),
        Target("contact.phone", "text"),
        Target("event_time", "time"),
    ),
    "staff": (
        Target("feedback_id", "id"),
        Target("staff_ref", "ref"),
        Target("site", "text", required=True),
        Target("journey_id", "text"),
        Target("step_id", "text"),
        Target("prompt", "enum", required=True, symbols=("most_positive", "most_frustrating")),
        Target("verbatim", "text", default=""),
        Target("language", "language"),
        Target("event_time", "time"),
    ),
}


@dataclass(frozen=True)
class Rule:
    """How one field is filled: its source, default, value map, join and time format."""

    target: str
    sources: tuple[str, ...] = ()  # alternatives: the first one present gives the value
    default: Any = None
    values: tuple[tuple[str, Any], ...] = ()
    join: str = ". "
    format: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A loaded mapping file: the rules that fill a `kind` record from a payload."""

    name: str
    kind: str  # survey or staff
    rules: tuple[Rule, ...]
    id_prefix: str = "replay"
    description: str = ""

    @property
    def targets(self) -> tuple[Target, ...]:
        return TARGETS[self.kind]

    def target(self, name: str) -> Target:
        found = next((t for t in self.targets if t.name == name), None)
        if found is None:
            raise MappingError(name, f"not a field of {self.kind} records ({', '.join(self.names())})")
        return found

    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    def rule(self, target: str) -> Rule | None:
        return next((r for r in self.rules if r.target == target), None)

    def unfilled(self) -> list[str]:
        """Required fields with neither a source nor a default: no payload could fill them."""
        return [t.name for t in self.targets if t.required and not _filled(self.rule(t.name))]

    def with_sources(self, sources: dict[str, str]) -> Mapping:
        """`{source: field}` pairs (`miroir replay --map`) over this mapping's; defaults are kept."""
        rules = {r.target: r for r in self.rules}
        for source, name in sources.items():
            old = rules.get(self.target(name).name)
            rules[name] = Rule(name, (source,), old.default if old else None)
        return replace(self, rules=tuple(rules.values()))

    def with_defaults(self, defaults: dict[str, Any]) -> Mapping:
        """These fields' defaults replaced (`miroir replay --journey`, `--site`...); checked."""
        rules = {r.target: r for r in self.rules}
        for name, value in defaults.items():
            target, rule = self.target(name), replace(rules.get(name, Rule(name)), default=value)
            try:
                if value is not None:
                    _convert(value, target, rule, self.id_prefix)
            except ValueError as error:
                raise MappingError(name, str(error)) from None
            rules[name] = rule
        return replace(self, rules=tuple(rules.values()))


def _filled(rule: Rule | None) -> bool:
    return rule is not None and (bool(rule.sources) or rule.default is not None)


# ---------------------------------------------------------------- applying a mapping


def apply_mapping(payload: dict[str, Any], mapping: Mapping, now: datetime) -> dict[str, Any]:
    """The record of `mapping.kind` this payload maps to (ready for the kind's Avro codec), or a
    MappingError naming the first field that cannot be filled."""
    if not isinstance(payload, dict):
        raise MappingError("payload", f"expected an object, got {type(payload).__name__}")
    digest = payload_digest(payload)
    record = {t.name: _fill(payload, t, mapping.rule(t.name), mapping.id_prefix, digest, now) for t in mapping.targets}
    if mapping.kind == "survey":
        contact = {part: record.pop(f"contact.{part}") for part in ("name", "email", "phone")}
        record["contact"] = contact if any(v is not None for v in contact.values()) else None
    return record


def payload_digest(payload: dict[str, Any]) -> str:
    """A stable hash of the whole payload (key order aside): the seed of derived ids."""
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def pseudonym(value: str, prefix: str) -> str:
    return f"{prefix}-" + hashlib.sha1(value.encode()).hexdigest()[:10]


def _fill(payload: dict[str, Any], target: Target, rule: Rule | None, prefix: str, digest: str, now: datetime) -> Any:
    rule = rule or Rule(target.name)
    value, why = _ABSENT, "no source and no default in the mapping"
    try:
        if rule.sources:
            value, why = _extract(payload, rule)
        if value is not _ABSENT and rule.values:
            value = dict(rule.values).get(_key(value), value)
            value, why = (_ABSENT, f"{rule.sources[0]!r} maps to no value") if value is None else (value, why)
        if value is _ABSENT and rule.default is not None:
            value = rule.default
        if value is not _ABSENT:
            return _convert(value, target, rule, prefix)
    except ValueError as error:
        raise MappingError(target.name, str(error)) from None
    if target.type == "id":
        return f"{prefix}-{digest}"
    if target.type == "ref":
        return pseudonym(digest, prefix)
    if target.type == "time":
        return now
    if target.required:
        raise MappingError(target.name, why)
    return target.default


def _extract(payload: dict[str, Any], rule: Rule) -> tuple[Any, str]:
    """The first present source's value (or _ABSENT) and, when all are missing, why."""
    found = [_source(payload, source, rule.join) for source in rule.sources]
    return next((f for f in found if f[0] is not _ABSENT), found[0])


def _source(payload: dict[str, Any], source: str, join: str) -> tuple[Any, str]:
    parts = [source] if source in payload or "+" not in source else [p.strip() for p in source.split("+")]
    found = [_lookup(payload, part) for part in parts]
    if all(v is _ABSENT for v in found):
        return _ABSENT, f"no {parts[0]!r} in the payload (it has: {', '.join(list(payload)[:12])})"
    if len(parts) == 1:
        return (_ABSENT, f"{source!r} is empty") if _blank(found[0]) else (found[0], "")
    texts = [_text(v).strip().rstrip("…").strip('"“”') for v in found if v is not _ABSENT and not _blank(v)]
    joined = join.join(t for t in texts if t)
    return (joined, "") if joined else (_ABSENT, f"{source!r} is empty")


def _lookup(payload: dict[str, Any], source: str) -> Any:
    if source in payload:
        return payload[source]
    node: Any = payload
    for part in source.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _ABSENT
    return node


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(_blank(v) for v in value)
    return value is None or value == {}


def _key(value: Any) -> str:
    """A value as a `values:` key: trimmed, case-folded text."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip().casefold()


def _text(value: Any) -> str:
    if isinstance(value, dict):
        raise ValueError("expected text, got an object")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if not _blank(v))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _convert(value: Any, target: Target, rule: Rule, prefix: str) -> Any:
    kind = target.type
    if kind == "int":
        return _integer(value)
    if kind == "bool":
        return _boolean(value)
    if kind == "time":
        return _time(value, rule.format)
    text = _text(value)
    if kind == "enum":
        symbol = next((s for s in target.symbols if s.casefold() == text.casefold()), None)
        if symbol is None:
            raise ValueError(f"{text!r} is not one of {', '.join(target.symbols)}")
        return symbol
    if kind == "ref":
        return pseudonym(text, prefix)
    if kind == "language":
        return re.split(r"[-_]", text.lower())[0]
    return text


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, bool) or not isinstance(value, float | str):
        raise ValueError(f"{value!r} is not a number")
    number = value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if not float(number).is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = _key(value)
    if key in _TRUE or key in _FALSE:
        return key in _TRUE
    raise ValueError(f"{value!r} is neither yes nor no (map it with values:)")


def _time(value: Any, format: str | None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000 if abs(value) >= 1e11 else value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{value!r} is not a time") from None
    if format:
        try:
            parsed = datetime.strptime(_text(value), format)
        except ValueError:
            raise ValueError(f"{value!r} does not match {format!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parse_time(_text(value))


def parse_time(value: str) -> datetime:
    """ISO 8601 (naive: UTC), '14 janvier 2025' ('1er', English months too), '31-05-2025' or
    '31/05/2025' (day first); ValueError otherwise."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    words = re.fullmatch(r"(\d{1,2})(?:er)?\s+(\w+)\s+(\d{4})", fold(text))
    digits = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", text)
    try:
        if words and words.group(2) in _MONTHS:
            return datetime(int(words.group(3)), _MONTHS[words.group(2)], int(words.group(1)), tzinfo=UTC)
        if digits:
            return datetime(int(digits.group(4)), int(digits.group(3)), int(digits.group(1)), tzinfo=UTC)
    except ValueError:
        pass  # 31 février
    raise ValueError(f"{value!r} is not a time: expected ISO 8601, '14 janvier 2025' or '31-05-2025'")


# ---------------------------------------------------------------- reading a mapping file


def shipped_mappings() -> list[str]:
    return sorted(path.stem for path in DEFAULT_DIR.glob("*.yaml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A shipped mapping by name (`processors/mappings/<name>.yaml`), or the YAML file at a path."""
    shipped = DEFAULT_DIR / f"{name_or_path}.yaml"
    path = shipped if re.fullmatch(r"[\w-]+", str(name_or_path)) and shipped.is_file() else Path(name_or_path)
    if not path.is_file():
        raise MappingFileError(f"no mapping {str(name_or_path)!r}: a file, or one of {', '.join(shipped_mappings())}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingFileError(f"{path.name}: not YAML ({error})") from None
    return parse_mapping(document, path.stem, path.name)


def parse_mapping(document: Any, name: str, where: str = "mapping") -> Mapping:
    """A mapping from its YAML document (see the module's doc); MappingFileError naming the entry."""
    doc = _dict(document, where)
    unknown = sorted(set(doc) - _DOCUMENT_KEYS)
    if unknown:
        raise MappingFileError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_DOCUMENT_KEYS))}")
    if doc.get("kind") not in KINDS:
        raise MappingFileError(f"{where}: kind must be survey or staff, got {doc.get('kind')!r}")
    mapping = Mapping(str(doc.get("name") or name), doc["kind"], (), str(doc.get("id_prefix") or "replay"))
    rules = tuple(_rule(mapping, target, spec, where) for target, spec in _dict(doc.get("fields"), where).items())
    return replace(mapping, rules=rules, description=str(doc.get("description") or ""))


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingFileError(f"{where}: expected a mapping, got {value!r}")
    return value


def _rule(mapping: Mapping, name: str, spec: Any, where: str) -> Rule:
    where = f"{where}: fields.{name}"
    try:
        target = mapping.target(name)
    except MappingError as error:
        raise MappingFileError(f"{where}: {error.reason}") from None
    spec = {"from": spec} if isinstance(spec, str | list) else _dict(spec, where)
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown or not (spec.get("from") or spec.get("default") is not None):
        problem = f"unknown key {unknown[0]!r}" if unknown else "needs from: (a source) or default:"
        raise MappingFileError(f"{where}: {problem}; keys: {', '.join(sorted(_SPEC_KEYS))}")
    values = tuple((_key(k), v) for k, v in _dict(spec.get("values"), f"{where}.values").items())
    given = spec.get("from") if isinstance(spec.get("from"), list) else [spec.get("from")]
    sources = tuple(str(s) for s in given if s is not None)
    rule = Rule(name, sources, spec.get("default"), values, str(spec.get("join", ". ")), spec.get("format"))
    for value in ([rule.default] if rule.default is not None else []) + [v for _, v in values if v is not None]:
        try:
            _convert(value, target, rule, mapping.id_prefix)
        except ValueError as error:
            raise MappingFileError(f"{where}: {error}") from None
    return rule

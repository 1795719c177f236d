"""PII out of verbatims before they leave the pipeline (evidence, wallboards, annotations)."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French and international phone numbers: +33 6 12 34 56 78, 06.12.34.56.78, 0612345678, +44 20 7946 0958
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?|0)\d(?:[\s.-]?\d{2}){4}(?!\d)"  # French numbers
    r"|\+\d{1,3}(?:[\s.-]?\d{2,4}){2,5}(?!\d)"  # other international numbers
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def redact(text: str) -> str:
    """'Appelez-moi au 06 12 34 56 78 ou jean@x.fr' -> 'Appelez-moi au [phone] ou [email]'."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _PHONE.sub("[phone]", text)
    return _CARD.sub("[number]", text)

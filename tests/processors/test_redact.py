import pytest

from processors.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rappelez-moi au 06 12 34 56 78 svp", "Rappelez-moi au [phone] svp"),
        ("mon numéro : +33 6 12 34 56 78.", "mon numéro : [phone]."),
        ("tel 06.12.34.56.78 ou 0612345678", "tel [phone] ou [phone]"),
        ("call +44 20 7946 0958 now", "call [phone] now"),
        ("écrivez à jean.dupont+sav@exemple.fr merci", "écrivez à [email] merci"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", "IBAN [iban]"),
        ("carte 4970 1012 3456 7890", "carte [number]"),
    ],
)
def test_contact_details_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_ordinary_numbers_stay() -> None:
    text = "Livré en 3 jours, 2 colis, commande 12345, 10/10, 415 euros, le 14/01/2025"
    assert redact(text) == text

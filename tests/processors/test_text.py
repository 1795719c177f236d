from processors.text import clauses, detect_language, fold, split_between, tokens


def test_fold_removes_case_accents_and_ligatures() -> None:
    assert fold("Délai DÛ à l’œuvre") == "delai du a l'oeuvre"
    assert tokens(fold("Service Après-Vente!")) == ["service", "apres", "vente"]


def test_clauses_split_at_sentences_and_contrasts() -> None:
    found = [c.text for c in clauses("Livraison rapide mais SAV injoignable. Bon prix ; but the app crashed")]
    assert found == ["Livraison rapide", "SAV injoignable.", "Bon prix ;", "the app crashed"]


def test_clause_offsets_point_into_the_original_text() -> None:
    text = "Accueil chaleureux, cependant l'attente fut longue."
    for clause in clauses(text):
        assert text[clause.start : clause.end] == clause.text


def test_split_between_cuts_at_the_last_separator_between_cues() -> None:
    text = "livraison rapide, montage bacle et vendeur au top"
    spans = split_between(text, [0, 18, 35])
    assert [text[a:b] for a, b in spans] == ["livraison rapide, ", "montage bacle et ", "vendeur au top"]


def test_language_detection_on_short_and_long_texts() -> None:
    assert detect_language("Le livreur était en retard et très désagréable.") == "fr"
    assert detect_language("The driver was late and rude.") == "en"
    assert detect_language("Friendly people, good culture") == "en"
    assert detect_language("Parfait nickel") == "fr"
    assert detect_language("") == "fr"

from processors.text import clause_spans, detect_language, fold, read_words, split_between, tokens


def test_fold_removes_case_accents_and_ligatures() -> None:
    assert fold("Délai DÛ à l’œuvre") == "delai du a l'oeuvre"
    assert tokens(fold("Service Après-Vente!")) == ["service", "apres", "vente"]
    assert len(fold("Bien… vraiment")) == len("Bien… vraiment")  # offsets kept for evidence


def clauses(text: str) -> list[str]:
    w = read_words(fold(text))
    return [" ".join(w.words[a:b]) for a, b in clause_spans(w)]


def test_clauses_split_at_sentences_and_contrasts() -> None:
    found = clauses("Livraison rapide mais SAV injoignable. Bon prix ; but the app crashed")
    assert found == ["livraison rapide", "sav injoignable", "bon prix", "the app crashed"]


def test_an_adverb_of_contrast_inside_a_clause_does_not_cut_it() -> None:
    assert clauses("Les franchises sont en revanche élevées.") == ["les franchises sont en revanche elevees"]
    assert clauses("Accueil parfait. Par contre, la chambre était sale") == ["accueil parfait", "la chambre etait sale"]
    assert clauses("Service rapide par contre la cuisine est fade") == ["service rapide", "la cuisine est fade"]
    assert clauses("The room was great, however the staff were rude") == ["the room was great", "the staff were rude"]
    assert clauses("The front desk staff, however, were rude.") == ["the front desk staff however were rude"]
    assert clauses("Au retrait, en revanche, on m'a dit non.") == ["au retrait en revanche on m a dit non"]
    assert clauses("L'accueil laisse par contre à désirer") == ["l accueil laisse par contre a desirer"]


def test_split_between_cuts_at_the_last_separator_between_steps() -> None:
    w = read_words("livraison rapide, montage bacle et vendeur au top")
    spans = split_between(w, 0, len(w.words), [0, 2, 5])
    assert [" ".join(w.words[a:b]) for a, b in spans] == ["livraison rapide", "montage bacle et", "vendeur au top"]
    w = read_words("livraison rapide montage bacle")  # nothing between: cut at the second step's word
    assert split_between(w, 0, 4, [0, 2]) == [(0, 2), (2, 4)]
    w = read_words("service rapide par contre la cuisine est fade")  # a link between: cut before it
    assert split_between(w, 0, 8, [0, 5]) == [(0, 2), (2, 8)]


def test_language_detection_on_short_and_long_texts() -> None:
    assert detect_language("Le livreur était en retard et très désagréable.") == "fr"
    assert detect_language("The driver was late and rude.") == "en"
    assert detect_language("Friendly people, good culture") == "en"
    assert detect_language("Parfait nickel") == "fr"
    assert detect_language("") == "fr"

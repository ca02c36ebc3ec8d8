"""The matcher on news text: inflection, case and acronyms, scripts, language, spans, explain.

Headlines are written for these tests in English, Serbian (both scripts) and Russian.
"""

from __future__ import annotations

import unicodedata

import pytest

from monitor.match import Matcher
from monitor.match.text import EN, OTHER, RU, SR, guess_languages, words
from monitor.models import Span
from tests.support.matching import finds, spans

# --- inflection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "word", "language"),
    [
        ("relocant", "relocants", "en"),
        ("relocant", "Relocants", None),
        ("expel", "expels", "en"),
        ("expel", "expelled", "en"),
        ("expel", "expelling", None),
        ("proterivanje", "proterivanja", "sr"),
        ("proterivanje", "proterivanju", "sr"),
        ("proterivanje", "proterivanjem", None),
        ("Srbija", "Srbije", "sr"),
        ("Srbija", "Srbiji", "sr"),
        ("Srbija", "Srbiju", "sr"),
        ("Srbija", "Srbijom", None),
        ("aktivista", "aktivistima", "sr"),
        ("relokant", "relokanti", "sr"),
        ("relokant", "relokantima", "sr"),
        ("высылка", "высылки", "ru"),
        ("высылка", "высылке", "ru"),
        ("высылка", "высылок", "ru"),
        ("высылка", "высылкой", None),
        ("Сербия", "Сербии", "ru"),
        ("Сербия", "Сербию", "ru"),
        ("Сербия", "Сербией", None),
        ("релокант", "релоканты", "ru"),
        ("релокант", "релокантов", "ru"),
        ("релокант", "релокантами", None),
        ("выслать", "выслали", "ru"),
        ("выслать", "выслала", None),
        ("выслать", "высланы", "ru"),
    ],
)
def test_word_matches_its_inflected_forms(query, word, language):
    assert finds(query, word, language=language)


@pytest.mark.parametrize(
    ("query", "word", "language"),
    [
        ("relocant", "relocation", "en"),
        ("relocant", "relocate", "en"),
        ("relocant", "relocated", None),
        ("expel", "expulsion", "en"),
        ("Srbija", "Srbi", "sr"),
        ("Srbija", "srpski", "sr"),
        ("proterivanje", "proteran", "sr"),
        ("Сербия", "Сербы", "ru"),
        ("Сербия", "сербский", "ru"),
        ("релокант", "релокация", "ru"),
    ],
)
def test_word_does_not_match_other_words_of_its_family(query, word, language):
    assert not finds(query, word, language=language)


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("živeti", "žive"),  # the dictionary gives živi, žive to živ (alive)
        ("živeti", "živi"),
        ("živeti", "živim"),
        ("živeti", "Живе"),
        ("želeti", "žele"),  # and želi, žele to žeti (to reap)
        ("pitati", "pita"),  # to pita (a pie)
        ("dobiti", "dobio"),  # the word itself is a form of dobit (profit)
        ("dobiti", "dobije"),
        ("pasti", "pao"),  # of pasta
        ("izvesti", "izveo"),  # of izvestiti (to report)
    ],
)
def test_serbian_verb_finds_the_forms_the_dictionary_gives_another_word(query, word):
    assert finds(query, word, language="sr")


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("pokazati", "pokažim"),  # pokažimo, pokažite are its imperative, not an i-verb's present
        ("pokazati", "pokažiš"),
        ("živeti", "živ"),  # the adjective's own forms stay its own
    ],
)
def test_serbian_present_tense_is_completed_only_from_the_verbs_own_type(query, word):
    assert not finds(query, word, language="sr")


@pytest.mark.parametrize(
    ("query", "title", "language"),
    [
        ("time", "To je odluka BIA", "sr"),  # English "time" is also a form of Serbian "taj"
        ("time", "То је одлука БИА", None),
        ("one", "Od onog dana u Srbiji", "sr"),  # and "one" of "onaj"
        ("one", "Онима који су протерани", None),
    ],
)
def test_english_word_that_is_a_serbian_pronoun_form_does_not_find_the_pronoun(query, title, language):
    assert not finds(query, title, language=language)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("relokant", "Broj relokanata u Srbiji raste"),
        ("relokant", "Број релоканата у Србији расте"),
        ("relokanti", "Broj relokanata u Srbiji raste"),
        ("релоканти", "Број релоканата у Србији расте"),
        ("student", "Protest studenata ispred Skupštine"),
    ],
)
def test_serbian_word_matches_its_genitive_plural_with_an_inserted_a(query, title):
    assert finds(query, title, language="sr")


@pytest.mark.parametrize(
    "title",
    [
        "Skup ruske dijaspore u Beogradu",
        "O ruskoj dijaspori u Srbiji",
        "Скуп руске дијаспоре у Београду",
    ],
)
def test_phrase_words_match_in_any_inflected_form(title):
    assert finds('"ruska dijaspora"', title, language="sr")


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ('"Crna Gora"', "Proteran iz Crne Gore", True),  # gora is also "worse", of zao
        ('"Crna Gora"', "Живи у Црној Гори", True),
        ('"Црна Гора"', "Proteran iz Crne Gore", True),
        ('"Novi Sad"', "Koncert u Novom Sadu", True),
        ('"Novi Sad"', "Iz Novog Sada", True),  # sada is also "now"
        ('"Nikola Tesla"', "Na aerodromu Nikole Tesle", True),  # Tesle: not in the dictionary
        ('"Nikola Tesla"', "Аеродром Никола Тесла", True),
        ("Sad", "Sada je kasno", False),  # the regular endings are for names in phrases only
        ("Gora", "Sve je gore", False),
        ('"crna gora"', "crne gore", False),  # small letters: words, not a name
        ('"BIA Srbije"', "Bia Srbije", False),  # an acronym in a phrase keeps its capitals
        ('"BIA Srbije"', "BIA Srbije", True),
    ],
)
def test_a_name_in_a_phrase_is_found_in_every_case(query, title, expected):
    assert finds(query, title, language="sr") is expected


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("zabranjen", "Zabranjenog ulaska nije bilo"),
        ("proteran", "Proteranom novinaru je zabranjen ulazak"),
        ("odbijen", "Rešenje o odbijenom zahtevu"),
    ],
)
def test_serbian_participle_matches_its_long_adjective_forms(query, title):
    assert finds(query, title, language="sr")


@pytest.mark.parametrize("language", ["sr", None])
@pytest.mark.parametrize(
    "title",
    [
        "Da li bi to bilo moguće",
        "On je bio u Beogradu",
        "Ona je bila na skupu",
        "Они би били ту",
        "Он је био у Београду",
    ],
)
def test_serbian_bia_is_never_stemmed_into_the_verb_to_be(title, language):
    assert not finds("BIA", title, language=language)


# --- case and acronyms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("srbija", "SRBIJA PROTERALA AKTIVISTU"),
        ("Serbia", "serbia"),
        ("proterivanje", "PROTERIVANJU RUSA KRAJ NIJE NA VIDIKU"),
        ("bia", "BIA"),
        ("сербия", "СЕРБИЯ ВЫСЛАЛА АКТИВИСТА"),
    ],
)
def test_matching_ignores_case(query, title):
    assert finds(query, title)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("SERBIA", "Serbia expels Russian activist"),
        ("SRBIJA", "Srbija proterala aktivistu"),
        ("SRBIJA", "Rusi u Srbiji"),
        ("СЕРБИЯ", "Релоканты в Сербии"),
    ],
)
def test_longer_all_capitals_term_is_not_an_acronym(query, title):
    assert finds(query, title)


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("BIA", "BIA saslušala aktivistu", True),
        ("BIA", "Direktor BIA-e podneo ostavku", True),
        ("BIA", "Bezbednosno-informativna agencija (BIA) oglasila se", True),
        ("BIA", "Serbia expels Russian activist", False),
        ("BIA", "Editors deny media bias", False),
        ("BIA", "Bianca Andreescu withdraws", False),
        ("BIA", "Bia Ferreira plays Belgrade", False),
        ("BIA", "Colombia and Serbia sign deal", False),
        ("BIA", "bia", False),
        ("BIA", "BIAS", False),
        ("MUP", "Saopštenje MUP-a o skupu", True),
        ("MUP", "Mup", False),
        ("EU", "EU sanctions on Russia", True),
        ("EU", "Eu", False),
        ("БИА", "БИА саслушала активисту", True),
        ("БИА", "Биа", False),
        ("ФСБ", "ФСБ задержала журналиста", True),
        ("ФСБ", "фсб", False),
    ],
)
def test_short_all_capitals_term_is_an_acronym_matched_case_sensitively(query, title, expected):
    assert finds(query, title) is expected


@pytest.mark.parametrize("query", ["BIA", "=BIA"])
def test_full_width_acronym_matches(query):
    assert finds(query, "ＢＩＡ saslušala aktivistu")


# --- scripts and diacritics -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("БИА", "BIA saslušala aktivistu"),
        ("BIA", "БИА саслушала активисту"),
        ("BIA", "Директор БИА-е поднео оставку"),
        ("протеривање", "Proterivanje ruskih aktivista"),
        ("proterivanje", "Протеривање руских активиста"),
        ("proterivanje", "Наставак протеривања руских активиста"),
        ("Србија", "Rusi u Srbiji"),
        ("Srbija", "Руси у Србији"),
        ("Љубљана", "Samit u Ljubljani"),
        ("Ljubljana", "Самит у Љубљани"),
        ("Njegoš", "Његош"),
        ("džamija", "Нова џамија у Новом Пазару"),
        ("Đoković", "Ђоковић освојио турнир"),
        ("Ćuprija", "Поплаве у Ћуприји"),
        ("Vučić", "Vucic meets Putin"),
        ("Vucic", "Vučić o relokantima"),
        ("Vucic", "Вучић о релокантима"),
        ("izbačen", "Aktivista izbacen iz zemlje"),
        ("izbacen", "Aktivista izbačen iz zemlje"),
        ("Đoković", "Djokovic wins in Belgrade"),
        ("Djokovic", "Đoković pobedio"),
        ("Šabac", "Sabac"),
        ("Žabalj", "Zabalj"),
    ],
)
def test_serbian_scripts_and_latin_diacritics_are_one_text(query, title):
    assert finds(query, title)


@pytest.mark.parametrize(
    ("query", "title", "language"),
    [
        ("serbiya", "Сербия выслала активиста", None),
        ("serbiya", "Сербия", "ru"),
        ("relokant", "Число релокантов выросло", None),
        ("relokan*", "Релоканты в Белграде", None),
        ("protest", "Протест в Москве", "ru"),
        ("Сербия", "Serbiya", None),
        ("Сербия", "Србија и Русија", None),
    ],
)
def test_russian_is_not_transliterated(query, title, language):
    assert not finds(query, title, language=language)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("ёлка", "Елка на площади"),
        ("елка", "Ёлка на площади"),
        ("лётчик", "Летчики вернулись домой"),
        ("летчик", "Лётчики вернулись домой"),
        ("растёт", "Диаспора растет"),
    ],
)
def test_russian_yo_and_ye_are_one_letter(query, title):
    assert finds(query, title, language="ru")


# --- the item's language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "language", "expected"),
    [
        ("Протест у Београду", None, True),  # neither set of letters: all candidates
        ("Протест у Београду", "sr", True),
        ("Протест у Београду", "ru", False),
        ("Протест испред амбасаде, полиција је реаговала", None, True),  # ј: Serbian
        ("Протесты в Москве", None, False),  # ы: Russian
        ("Протест в Москве, задержан активист", "ru", False),
    ],
)
def test_item_language_decides_whether_cyrillic_is_read_as_serbian(title, language, expected):
    assert finds("protest", title, language=language) is expected


@pytest.mark.parametrize(
    ("query", "title", "language", "expected"),
    [
        ("Srbija", "Srbiji", "sr", True),
        ("Srbija", "Srbiji", "en", False),  # nothing in the text decides: the hint does
        ("Srbija", "Srbiji", "sr-RS", True),  # feeds write a region too
        ("Srbija", "Srbiji", "sr-Latn", True),
        ("Srbija", "Srbiji", "Serbian", True),
        ("Srbija", "Srbiji", "hr", True),  # read with the same Serbo-Croatian dictionary
        ("Srbija", "Srbija", "en", True),  # the form written matches in every language
        ("expel", "Expelled", "en-US", True),
        ("высылка", "Высылки", "ru-RU", True),
    ],
)
def test_language_hint_chooses_the_inflection(query, title, language, expected):
    assert finds(query, title, language=language) is expected


@pytest.mark.parametrize(
    ("query", "title", "language"),
    [
        ("Srbija", "Rusi u Srbiji", "en"),  # "u" is Serbian
        ("expel", "Serbia expelled an activist", "ru"),  # "an" is English; Latin is never Russian
        ("высылка", "Против высылки", "sr"),  # ы is Russian
        ("proterivanje", "Протеривање Руса из Србије", "ru"),  # ј is Serbian
        ("proterivanje", "Протеривање руских активиста се наставља", "ru"),  # се: Serbian
    ],
)
def test_the_text_decides_over_a_wrong_hint(query, title, language):
    assert finds(query, title, language=language)


@pytest.mark.parametrize(
    ("title", "hint", "expected"),
    [
        # Cyrillic: letters decide, then function words, then the hint
        ("После высылки нескольких активистов в Сербии", "sr", RU),  # ы
        ("Съезд в Белграде", "sr", RU),  # ъ
        ("Эмигранты в Белграде", None, RU),  # э
        ("Её выслали", "sr", RU),  # ё
        ("Протеривање Руса из Србије", "ru", SR),  # ј
        ("Ђоковић победио", "ru", SR),  # ђ
        ("Протест у Београду", None, SR | RU),  # neither: all candidates
        ("Протест у Београду", "sr", SR),  # the hint breaks the tie
        ("Протест у Београду", "ru", RU),
        ("Протест у Београду", "en", SR | RU),  # English is not written in Cyrillic
        ("Протест у Београду", "uk", OTHER),  # a language the matcher does not read
        ("Протест се наставља", "ru", SR),  # се is a Serbian function word
        ("Протест в Москве", "sr", RU),  # в is a Russian one
        ("Протест: что это было", "sr", RU),
        ("Вучић: Москва и Београд", "ru", SR),  # ћ, though the words would not decide
        # Latin: function words decide, then the hint, then Serbian diacritics
        ("Serbia expels Russian activist after BIA report, Vučić says", "sr", EN),
        ("Rusi u Srbiji", "en", SR),
        ("Srbija je proterala aktivistu", None, SR),
        ("Srbiji", "en", EN),
        ("Srbiji", "sr", SR),
        ("Srbiji", None, EN | SR | OTHER),
        ("Srbiji", "ru", EN | SR | OTHER),  # Russian is not written in Latin letters
        ("Vučić: Brussels talks", "en", EN),  # a Serbian name in an English feed's title
        ("Vučić: Brussels talks", None, SR),
    ],
)
def test_item_language_from_letters_function_words_and_hint(title, hint, expected):
    assert guess_languages(title, words(title), hint) == expected


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("expel", "Serbia expels Russian activist after BIA report, Vučić says"),
        ("expel", "The BIA expelled a Russian activist from Serbia, says Dačić"),
    ],
)
def test_english_item_naming_a_serbian_politician_keeps_english_inflection(query, title):
    assert finds(query, title)


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Proteri\u00advanje ruskih aktivista",
        "Proteri\u200bvanje ruskih aktivista",
        "Prote\u200criva\u200dnje ruskih aktivista",
        "Proterivan\u2060je ruskih aktivista",
        "\ufeffProterivanje ruskih aktivista",
    ],
)
def test_invisible_characters_inside_a_word_do_not_break_it(title):
    assert finds("proterivanje", title)


@pytest.mark.parametrize("query", ["proteri\u00advanje", "proteri\u200bvanje"])
def test_invisible_characters_inside_a_query_word_do_not_break_it(query):
    assert finds(query, "Proterivanje ruskih aktivista")


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("izbačen", "Aktivista izbačen iz Srbije"),
        ("Vučić", "Vučić o relokantima"),
        ("Сергей", "Сергей Лавров в Белграде"),
        ("йод", "Йод в аптеках"),
        ("proterivanje", "Протеривање руских активиста"),
    ],
)
def test_decomposed_input_matches(query, title):
    assert finds(query, unicodedata.normalize("NFD", title))


@pytest.mark.parametrize(
    ("query", "title", "summary"),
    [
        ("BIA", "Direktor BIA-e: „Relokanti nisu pretnja“", "Izjava je data posle sastanka u BIA-i."),
        ("relocant", "Straße, ﬁnal, İstanbul — and relocants 🇷🇸", "Großdemo: RELOCANTS march"),
        ('"ruska dijaspora"', "«Ruska dijaspora» — Vučić", "Sastanak ruske dijaspore, ćevapi i ﬁlm"),
        ("Сербия", "Ёжики 🦔 в Сербии", "Сербию покидают; «СЕРБИЯ» — заголовок"),
        ('"Russian diaspora" NEAR/3 Serbia', "In Serbia, the Russian diaspora…", "Serbia's Russian diaspora"),
        ("Vučić", "Vucic", "Вучићу су рекли, а Vučića"),
    ],
)
def test_spans_index_the_original_text(query, title, summary):
    found = spans(query, title, summary)
    assert found
    original = {"title": title, "summary": summary}
    for span in found:
        assert original[span.field][span.start : span.end] == span.text


# --- spans and terms ------------------------------------------------------------------------


def test_phrase_span_covers_the_whole_phrase():
    title = "Skup ruske dijaspore u Beogradu"
    assert spans('"ruska dijaspora"', title, language="sr") == [Span("title", 5, 20, "ruske dijaspore")]


def test_near_span_records_both_sides():
    title = "Russian diaspora in Serbia grows"
    assert spans('"Russian diaspora" NEAR/10 Serbia', title) == [
        Span("title", 0, 16, "Russian diaspora"),
        Span("title", 20, 26, "Serbia"),
    ]


def test_negated_term_gives_no_span_or_term():
    matcher = Matcher({"bezbednost": ["BIA NOT (MUP AND policija)"]})
    (match,) = matcher.match("BIA i MUP na granici", "")["bezbednost"]
    assert match.terms == ("BIA",)
    assert match.spans == (Span("title", 0, 3, "BIA"),)


def test_match_records_its_query_terms_and_spans_in_title_and_summary():
    matcher = Matcher({"proterivanja": ["proterivanje AND (BIA OR MUP)"]})
    (match,) = matcher.match(
        "Proterivanje ruskog aktiviste", "Odluku je doneo MUP na predlog BIA-e.", language="sr"
    )["proterivanja"]
    assert match.query == "proterivanje AND (BIA OR MUP)"
    assert set(match.terms) == {"proterivanje", "BIA", "MUP"}
    assert match.spans == (
        Span("title", 0, 12, "Proterivanje"),
        Span("summary", 16, 19, "MUP"),
        Span("summary", 31, 34, "BIA"),
    )


def test_or_records_every_side_that_is_present():
    (match,) = Matcher({"w": ["BIA OR MUP"]}).match("MUP i BIA na granici", "")["w"]
    assert set(match.terms) == {"BIA", "MUP"}
    assert [span.text for span in match.spans] == ["MUP", "BIA"]


def test_phrase_at_the_edges_of_a_field_is_found_and_not_beyond_them():
    query = '"ruska dijaspora"'
    assert spans(query, "Ruska dijaspora", language="sr") == [Span("title", 0, 15, "Ruska dijaspora")]
    assert not finds(query, "Ruska", "dijaspora", language="sr")  # a phrase does not cross fields
    assert not finds(query, "dijaspora ruska", language="sr")


# --- what the matcher remembers between items -----------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("proterivanje", "Proterivanja", {"en": False, "sr": True}),  # keyed differently
        ("relocant", "Relocants", {"en": True, "de": False}),  # keyed alike, judged apart
    ],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_a_word_seen_in_one_language_is_judged_again_in_another(query, title, expected, reverse):
    matcher = Matcher({"w": [query]})
    order = list(expected)[::-1] if reverse else list(expected)
    assert {language: bool(matcher.match(title, "", language)) for language in order} == expected


def test_forgetting_remembered_words_changes_no_result(monkeypatch):
    import monitor.match.engine as engine

    headlines = [("Proterivanje relokanata", "sr"), ("BIA i MUP", "sr"), ("Bia Bianca", None)] * 3
    expected = [
        Matcher({"w": ["proterivanje", "BIA", "relokant*"]}).match(t, "", lang) for t, lang in headlines
    ]
    monkeypatch.setattr(engine, "_KNOWN_TOKENS", 1)
    matcher = Matcher({"w": ["proterivanje", "BIA", "relokant*"]})
    assert [matcher.match(t, "", lang) for t, lang in headlines] == expected


# --- watchlists -----------------------------------------------------------------------------

WATCHLISTS = {
    "bia": ["BIA", '"Bezbednosno-informativna agencija"'],
    "relocants": ["relocant", "relokant", "релокант"],
    "expulsions": ["expel", "высылка OR выслать", "proterivanje OR proteran"],
    "diaspora": ['"Russian diaspora" NEAR/10 Serbia', '"ruska dijaspora"', '"русская диаспора"'],
    "security": ["BIA OR MUP OR ФСБ"],
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(WATCHLISTS)


def test_watchlists_sharing_a_term_each_get_their_match(matcher):
    found = matcher.match("BIA pozvala aktivistu na razgovor", "", language="sr")
    assert set(found) == {"bia", "security"}
    assert [m.query for m in found["bia"]] == ["BIA"]
    assert [m.query for m in found["security"]] == ["BIA OR MUP OR ФСБ"]


def test_term_negated_in_one_watchlist_does_not_affect_another():
    matcher = Matcher({"bia": ["BIA"], "mup": ["MUP -BIA"], "security": ["BIA", "BIA OR MUP"]})
    found = matcher.match("BIA i MUP na granici", "")
    assert {name: [m.query for m in matches] for name, matches in found.items()} == {
        "bia": ["BIA"],
        "security": ["BIA", "BIA OR MUP"],
    }
    found = matcher.match("MUP na granici", "")
    assert {name: [m.query for m in matches] for name, matches in found.items()} == {
        "mup": ["MUP -BIA"],
        "security": ["BIA OR MUP"],
    }


def test_item_that_matches_nothing_reports_no_watchlist(matcher):
    assert matcher.match("Vremenska prognoza za vikend", "Sunčano i toplo.", language="sr") == {}


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (["bia"], {"bia"}),
        (["security", "diaspora"], {"security"}),
        ([], set()),
        (["nobody"], set()),
        (None, {"bia", "security"}),
    ],
)
def test_watchlists_argument_restricts_what_is_reported(matcher, wanted, expected):
    found = matcher.match("BIA pozvala aktivistu na razgovor", "", language="sr", watchlists=wanted)
    assert set(found) == expected


@pytest.mark.parametrize(
    ("language", "title", "summary", "expected"),
    [
        (
            "en",
            "Serbia expels Russian anti-war activist after BIA warning",
            "The Security Information Agency said the activist posed a risk to national security.",
            {"bia", "expulsions", "security"},
        ),
        (
            None,
            "Russian relocants in Belgrade: 'We did not expect to be watched'",
            "Thousands of relocants have moved to Serbia since 2022.",
            {"relocants"},
        ),
        (None, "Russian diaspora in Serbia splits over the war", "", {"diaspora"}),
        ("en", "Colombia and Serbia sign visa deal as opposition cites media bias", "", set()),
        (
            "sr",
            "Bezbednosno-informativna agencija upozorava na ruske državljane",
            "Direktor je rekao da su relokanti pod nadzorom.",
            {"bia", "relocants"},
        ),
        (
            None,
            "Proterivanje ruskih aktivista izazvalo proteste",
            "Ruska dijaspora u Beogradu traži objašnjenje od Vlade.",
            {"expulsions", "diaspora"},
        ),
        ("sr", "Bio je to najtopliji mart u Srbiji, a april bi mogao biti još topliji", "", set()),
        (
            None,
            "БИА саслушала руског активисту",
            "Активиста је након разговора протеран из Србије.",
            {"bia", "expulsions", "security"},
        ),
        (
            None,
            "Руска дијаспора у Србији све бројнија",
            "Релоканти отварају фирме у Новом Саду.",
            {"diaspora", "relocants"},
        ),
        ("ru", "Сербия выслала российского активиста", "Высылка стала третьей за год.", {"expulsions"}),
        (None, "Релоканты в Сербии: русская диаспора растёт", "", {"relocants", "diaspora"}),
        ("ru", "ФСБ задержала релоканта в аэропорту", "", {"relocants", "security"}),
        ("ru", "В Белграде прошла акция в поддержку Украины", "", set()),
    ],
)
def test_headlines_reach_the_right_watchlists(matcher, language, title, summary, expected):
    assert set(matcher.match(title, summary, language)) == expected


# --- explain --------------------------------------------------------------------------------


def test_explain_reports_every_term_with_its_spans_and_flags():
    matcher = Matcher({"relocants": ["relocant -Montenegro"], "bia": ["BIA"]})
    reports = matcher.explain("Relocants leave Montenegro for Serbia", "")
    assert [(r.watchlist, r.query, r.matched) for r in reports] == [
        ("relocants", "relocant -Montenegro", False),
        ("bia", "BIA", False),
    ]
    relocant, montenegro = reports[0].terms
    assert (relocant.text, relocant.negated, relocant.spans) == (
        "relocant",
        False,
        (Span("title", 0, 9, "Relocants"),),
    )
    assert (montenegro.text, montenegro.negated) == ("Montenegro", True)
    assert [s.text for s in montenegro.spans] == ["Montenegro"]
    (bia,) = reports[1].terms
    assert (bia.text, bia.negated, bia.spans) == ("BIA", False, ())


def test_explain_marks_a_matching_query():
    matcher = Matcher({"diaspora": ['"Russian diaspora" NEAR/10 Serbia']})
    (report,) = matcher.explain("Russian diaspora in Serbia grows", "")
    assert report.matched
    assert [(t.text, [s.text for s in t.spans]) for t in report.terms] == [
        ('"Russian diaspora"', ["Russian diaspora"]),
        ("Serbia", ["Serbia"]),
    ]


def test_explain_restricted_to_named_watchlists(matcher):
    reports = matcher.explain("BIA", "", watchlists=["security"])
    assert [(r.watchlist, r.matched) for r in reports] == [("security", True)]

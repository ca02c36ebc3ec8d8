"""Serbian in the reader's script: Cyrillic ↔ Latin, what stays Latin, and the round trip."""

from __future__ import annotations

import pytest

from monitor.i18n.script import Script, in_script, to_cyrillic, to_latin

# (Latin, Cyrillic): each is the other's transliteration, both ways
HEADLINES = [
    (
        "Ljubljana i Njegoš: BIA izdala negativnu bezbednosnu procenu",
        "Љубљана и Његош: БИА издала негативну безбедносну процену",
    ),
    ("Vučić: Srbija neće uvesti sankcije Rusiji", "Вучић: Србија неће увести санкције Русији"),
    ("Đoković osvojio Vimbldon po osmi put", "Ђоковић освојио Вимблдон по осми пут"),
    (
        "Džudista iz Čačka doneo medalju sa Evropskog prvenstva",
        "Џудиста из Чачка донео медаљу са Европског првенства",
    ),
    ("EU odobrila 1,6 milijardi evra za Zapadni Balkan", "ЕУ одобрила 1,6 милијарди евра за Западни Балкан"),
    ("Generalni sekretar NATO-a u Beogradu", "Генерални секретар НАТО-а у Београду"),
    ("N1: uživo sa protesta ispred Skupštine", "Н1: уживо са протеста испред Скупштине"),
    ("Tanjug: podžupan podneo ostavku", "Танјуг: поджупан поднео оставку"),
    # dj is д+ј, never ђ: a prefix (nad|jačali), or ijekavian (djeca)
    ("Nadjačali ih u finalu, djeca slavila", "Надјачали их у финалу, дјеца славила"),
]

CASES = [
    ("ljubljana", "љубљана"),
    ("Ljubljana", "Љубљана"),
    ("LJUBLJANA", "ЉУБЉАНА"),
    ("Njegoš", "Његош"),
    ("NJEGOŠ", "ЊЕГОШ"),
    ("džep", "џеп"),
    ("Džep", "Џеп"),
    ("DŽEP", "ЏЕП"),
    ("PRIJATELJ KONJ", "ПРИЈАТЕЉ КОЊ"),  # the digraph last in an all-caps word
    ("UŽIVO: NJEGOŠEVA NAGRADA URUČENA U LJUBLJANI", "УЖИВО: ЊЕГОШЕВА НАГРАДА УРУЧЕНА У ЉУБЉАНИ"),
    ("Nj. V. kralj", "Њ. В. краљ"),  # a lone capital is an initial
]

# Where a prefix meets its stem, lj nj dž are two letters; beside each, a word where they are one
PREFIXES = [
    ("nadživeti", "надживети"),
    ("Nadživeo", "Надживео"),
    ("NADŽIVELA", "НАДЖИВЕЛА"),
    ("nadžnjeti", "наджњети"),
    ("podžanr", "поджанр"),
    ("podžupan", "поджупан"),
    ("odžaliti", "оджалити"),
    ("odžak", "оџак"),
    ("udžbenik", "уџбеник"),
    ("injekcija", "инјекција"),
    ("INJEKCIJE", "ИНЈЕКЦИЈЕ"),
    ("injektor", "инјектор"),
    ("konjugacija", "конјугација"),
    ("konjunktura", "конјунктура"),
    ("konju", "коњу"),
    ("vanjezički", "ванјезички"),
    ("Vanja", "Вања"),
    ("Tanjug", "Танјуг"),
    ("Tanja", "Тања"),
]


@pytest.mark.parametrize(("latin", "cyrillic"), HEADLINES + CASES + PREFIXES)
def test_latin_is_written_in_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(("latin", "cyrillic"), HEADLINES + CASES + PREFIXES)
def test_cyrillic_is_written_in_latin(latin: str, cyrillic: str) -> None:
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("COVID-19 u padu", "КОВИД-19 у паду"),  # said, not spelled: ЦОВИД would be wrong
        ("Covid i grip", "Ковид и грип"),
        ("BBC i CIA", "ББЦ и ЦИА"),  # other acronyms are spelled letter by letter
    ],
)
def test_a_word_said_not_spelled_has_its_own_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        (
            "Više na https://www.n1info.rs/vesti/ljubljana ili na redakcija@nova.rs",
            "Више на https://www.n1info.rs/vesti/ljubljana или на redakcija@nova.rs",
        ),
        ("Detalji na www.rts.rs.", "Детаљи на www.rts.rs."),
        ("Link: HTTP://RTS.RS/vesti", "Линк: HTTP://RTS.RS/vesti"),
        ("Pratite @N1info i #izbori2024 uživo", "Пратите @N1info и #izbori2024 уживо"),
        ("Twitter i WhatsApp blokirani, Yandex radi", "Twitter и WhatsApp блокирани, Yandex ради"),
        ("Xiaomi otvara fabriku", "Xiaomi отвара фабрику"),
        ("Müller i Pérez u Beogradu", "Müller и Pérez у Београду"),
        ("Vučić i Путин razgovarali", "Вучић и Путин разговарали"),  # Cyrillic already
        ("2:1 (0:0), 15. minut!", "2:1 (0:0), 15. минут!"),  # digits and punctuation
    ],
)
def test_what_is_not_serbian_latin_stays_as_written(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("мы", "мы"),
        ("этот", "этот"),
        ("объявил", "объявил"),
        ("день", "день"),
        ("Россия", "Россия"),
        ("Юрий", "Юрий"),
        ("ещё", "ещё"),
        ("Путин объявил", "Putin объявил"),  # word by word: Путин could be Serbian
        ("Москва", "Moskva"),
    ],
)
def test_a_word_with_letters_only_russian_has_is_not_written_in_latin(text: str, expected: str) -> None:
    assert to_latin(text) == expected


def test_latin_text_is_left_alone_by_to_latin() -> None:
    text = "Ljubljana, Twitter, https://rts.rs"

    assert to_latin(text) == text


@pytest.mark.parametrize(
    ("text", "script", "expected"),
    [
        ("Beograd", "cyrl", "Београд"),
        ("Београд", "latn", "Beograd"),
        ("Beograd", "latn", "Beograd"),
        ("Београд", "cyrl", "Београд"),
    ],
)
def test_in_script_writes_the_readers_script(text: str, script: Script, expected: str) -> None:
    assert in_script(text, script) == expected


LATIN_SENTENCES = [
    *(latin for latin, _ in HEADLINES + CASES + PREFIXES),
    "Ministarka zdravlja: nove injekcije stižu u ponedeljak, vidi www.zdravlje.gov.rs",
    "Predsednik je nadživeo dve vlade, piše Tanjug na Twitteru",
    "Podjednako đaci i njihovi roditelji: Đurđevdan u Nišu",
    "LJUDI SU NADŽIVELI KRIZU; konjunktura se vraća",
]
CYRILLIC_SENTENCES = [
    *(cyrillic for _, cyrillic in HEADLINES + CASES + PREFIXES),
    "Министарка здравља: нове инјекције стижу у понедељак",
    "Председник је надживео две владе, пише Танјуг",
    "Подједнако ђаци и њихови родитељи: Ђурђевдан у Нишу",
    "ЉУДИ СУ НАДЖИВЕЛИ КРИЗУ; конјунктура се враћа",
]


@pytest.mark.parametrize("latin", LATIN_SENTENCES)
def test_latin_comes_back_from_cyrillic(latin: str) -> None:
    cyrillic = to_cyrillic(latin)

    assert cyrillic != latin
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize("cyrillic", CYRILLIC_SENTENCES)
def test_cyrillic_comes_back_from_latin(cyrillic: str) -> None:
    latin = to_latin(cyrillic)

    assert latin != cyrillic
    assert to_cyrillic(latin) == cyrillic

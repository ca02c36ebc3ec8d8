"""An article page to its text: the story's paragraphs, in whatever encoding and layout news
sites serve, without the page's furniture; a page with no story is an ArticleError."""

from __future__ import annotations

import pytest

from monitor.errors import ArticleError
from monitor.feeds.article import BODY_LIMIT, read_article
from monitor.feeds.encoding import html_text
from tests.support.articles import (
    COOKIES,
    amp_page,
    cp1251_page,
    huge_page,
    news_page,
    paywall_page,
    shell_page,
)

URL = "https://example.org/vesti/porodica/"
HTML = {"content-type": "text/html; charset=utf-8"}
STORY = [
    "Porodica Ivanov živi u Novom Sadu od proleća 2022. godine, kada je napustila Moskvu.",
    "Otac je programer, majka prevoditeljka, a ćerka ide u treći razred osnovne škole.",
    "U oktobru im je policija saopštila da im boravak neće biti produžen, jer je "
    "Bezbednosno-informativna agencija (BIA) dala negativnu bezbednosnu procenu.",
    "Advokat porodice kaže da obrazloženje nisu dobili i da će se žaliti Upravnom sudu.",
]
MOST_READ = ["Otkaz boravka za dvojicu aktivista iz Rusije", "Vremenska prognoza za vikend"]


def test_a_news_page_gives_its_paragraphs_without_menus_sidebar_or_cookie_notice():
    text = read_article(
        news_page("Poslednje nedelje jedne porodice", STORY, furniture=MOST_READ).encode(), HTML, URL
    )

    assert all(paragraph in text for paragraph in STORY)
    assert "Otkaz boravka" not in text  # "most read" is the site's, not the story's
    assert COOKIES not in text
    assert "Politika" not in text and "Newsletter" not in text


def test_an_amp_page_gives_its_article():
    story = [
        "Belgrade, Nov 21 - A Russian journalist who has lived in Serbia since 2022 was told to leave.",
        "Her lawyer said the decision cited a negative security assessment by the BIA, "
        "Serbia's Security Information Agency.",
        "She has eight days to appeal.",
    ]

    text = read_article(amp_page("Journalist told to leave", story).encode(), HTML, URL)

    assert all(paragraph in text for paragraph in story)
    assert "doubleclick" not in text and "Europe" not in text


def test_a_paywalled_page_gives_its_teaser_only():
    teaser = "Сотрудники миграционной службы вызвали релокантов на беседу в пятницу."

    text = read_article(paywall_page("Что происходит в Белграде", teaser).encode(), HTML, URL)

    assert teaser in text
    assert "Подписаться" not in text


@pytest.mark.parametrize("declared", [True, False], ids=["meta charset", "undeclared"])
def test_a_cp1251_page_is_read_in_cp1251_declared_in_its_meta_or_not_at_all(declared):
    story = [
        "Власти Сербии отказали в продлении вида на жительство семье из Екатеринбурга.",
        "По словам адвоката, основанием стала отрицательная оценка безопасности от БИА.",
        "Семья живёт в Нови-Саде третий год и собирается обжаловать решение в суде.",
    ]

    text = read_article(
        cp1251_page("Семью просят уехать", story, declared=declared), {"content-type": "text/html"}, URL
    )

    assert all(paragraph in text for paragraph in story)


def test_the_servers_charset_comes_before_the_pages_meta():
    page = cp1251_page("Новости", ["Текст новости."])

    assert "Текст новости." in html_text(page, "text/html; charset=windows-1251")[0]
    assert "Текст новости." not in html_text(page, "text/html; charset=koi8-r")[0]  # the server is wrong


def test_a_5_mb_page_of_inline_state_gives_the_article_under_it():
    page = huge_page("Poslednje nedelje jedne porodice", STORY).encode()

    assert len(page) > 5 * 1024 * 1024
    text = read_article(page, HTML, URL)
    assert all(paragraph in text for paragraph in STORY)
    assert "__STATE__" not in text and "naslov-vesti" not in text


def test_a_long_article_is_cut_at_the_limit():
    paragraphs = [
        f"Paragraf {number} o događajima u Beogradu, sa izjavama svedoka i advokata."
        for number in range(3000)
    ]

    text = read_article(news_page("Dug tekst", paragraphs).encode(), HTML, URL)

    assert BODY_LIMIT - 200 < len(text) <= BODY_LIMIT
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (shell_page().encode(), "text/html", "no article text on the page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", "not a web page (application/pdf)"),
        (b'{"title": "x"}', "application/json", "not a web page (application/json)"),
        (b"", "text/html", "no article text on the page"),
        (
            b"<html><body>" + b"<p>Vest.</p>" * 40_000 + b"</body></html>",
            "text/html",
            "more than the 60,000 read",
        ),
    ],
    ids=["script shell", "pdf", "json", "empty", "too many elements"],
)
def test_a_page_without_an_article_is_an_error_that_says_why(body, content_type, says):
    with pytest.raises(ArticleError) as raised:
        read_article(body, {"content-type": content_type}, URL)

    assert says in str(raised.value)
    assert raised.value.url == URL and raised.value.kind == "no_article"

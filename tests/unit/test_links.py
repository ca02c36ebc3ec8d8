"""canonical_link: one story, one address."""

from __future__ import annotations

import pytest

from monitor.feeds.links import canonical_link, one_story, tickers


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://n1info.rs/vesti/bia/", "https://n1info.rs/vesti/bia"),
        ("HTTP://N1INFO.RS/vesti/bia", "https://n1info.rs/vesti/bia"),
        ("https://www.danas.rs/vesti/x/#comments", "https://danas.rs/vesti/x"),
        ("https://n1info.rs:443/a", "https://n1info.rs/a"),
        ("http://n1info.rs:80/a", "https://n1info.rs/a"),
        ("https://n1info.rs:8443/a", "https://n1info.rs:8443/a"),
        (
            "https://meduza.io/news/2026/11/22/x?utm_source=rss&utm_medium=feed&fbclid=abc",
            "https://meduza.io/news/2026/11/22/x",
        ),
        (
            "https://rts.rs/page/stories/ci/story/1/x.html?id=5&lang=sr",
            "https://rts.rs/page/stories/ci/story/1/x.html?id=5&lang=sr",
        ),
        ("https://rts.rs/story?lang=sr&id=5", "https://rts.rs/story?id=5&lang=sr"),
        ("https://novaya.media/", "https://novaya.media/"),
        ("https://novaya.media", "https://novaya.media/"),
        ("  https://n1info.rs/a  ", "https://n1info.rs/a"),
    ],
)
def test_canonical_link_drops_what_varies_between_copies(link, expected):
    assert canonical_link(link) == expected


@pytest.mark.parametrize(
    "link", ["", "   ", "/relative/path", "mailto:desk@n1info.rs", "https://", "http://[::1"]
)
def test_unusable_links_have_no_canonical_form(link):
    assert canonical_link(link) is None


def test_different_stories_stay_different():
    assert canonical_link("https://rts.rs/story?id=5") != canonical_link("https://rts.rs/story?id=6")
    assert canonical_link("https://n1info.rs/a") != canonical_link("https://n1info.rs/b")


@pytest.mark.parametrize(
    ("title", "other", "same"),
    [
        ("BIA saslušala ruskog aktivistu", "BIA saslušala ruskog aktivistu", True),
        ("BIA saslušala ruskog aktivistu", "BIA saslušala ruskog aktivistu (VIDEO)", True),
        ("Vučić o odnosima Srbije i Rusije", "UPDATE: Vučić o odnosima Srbije i Rusije", True),
        ("", "Anything at all", True),  # no title: the link decides
        (  # a ticker's posts under one link (RBC)
            "В хоккейном СКА отреагировали на пожар на домашней арене",
            "На петербургской «СКА Арене» за ₽60 млрд произошел пожар",
            False,
        ),
        (
            "Гладков сообщил об атаке двух дронов на село Безымено",
            "Гладков рассказал о последствиях атаки на Шебекино",
            False,
        ),
        ("BIA saslušala ruskog aktivistu", "Vlada usvojila budžet za 2027. godinu", False),
    ],
)
def test_titles_under_one_link_are_one_story_unless_they_differ(title: str, other: str, same: bool) -> None:
    assert one_story(title, other) is same
    assert one_story(other, title) is same


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [("https://rbc.ru/live/", "BIA saslušala aktivistu"), ("https://rbc.ru/live/", "Požar ugašen")],
            {"https://rbc.ru/live"},
        ),
        (
            [
                ("https://rbc.ru/live/", "BIA saslušala aktivistu"),
                ("https://rbc.ru/live/?utm_source=x", "BIA saslušala aktivistu (VIDEO)"),
            ],
            set(),
        ),
        ([("https://n1info.rs/a/", "BIA"), ("https://n1info.rs/b/", "Požar ugašen")], set()),
        ([("", "BIA"), ("", "Požar ugašen")], set()),  # no link, no ticker
    ],
)
def test_a_link_under_which_a_feed_tells_several_stories_is_a_ticker(entries, expected) -> None:
    assert tickers(entries) == expected

"""poll → match → store → digest → send, end to end on a real HTTP server, SMTP server and database."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from monitor.models import utcnow
from tests.conftest import free_port
from tests.support.articles import FAMILY, FAMILY_HEADLINE, news_page
from tests.support.feeds import FIRST_PUBLISHED, RUSSIAN_NEWS, SERBIAN_NEWS, rss
from tests.support.polling import html_part, poll, text_part
from tests.support.stories import OTHER, STORY, published
from tests.support.telegram import Post, channel_page


def test_unchanged_feed_is_stored_once_and_answered_304(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))

    first, second = poll(monitor), poll(monitor)

    assert (first.new_items, first.new_hits) == (3, 1)
    assert (second.new_items, second.new_hits) == (0, 0)
    assert feed_server.statuses("/n1.xml") == [200, 304]
    [status] = monitor.store.feeds.statuses(utcnow())
    assert (status.items, status.hits, status.last_error) == (3, 1, None)


def test_last_modified_alone_makes_the_second_poll_conditional(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    stamp = "Sat, 21 Nov 2026 09:30:00 GMT"
    url = feed_server.serve(
        "/danas.xml", rss("Danas", "https://www.danas.rs", SERBIAN_NEWS), etag=None, last_modified=stamp
    )
    monitor = open_monitor(
        write_config({"Danas": url}, database_url=database_url, smtp_port=smtp_server.port)
    )

    first, second = poll(monitor), poll(monitor)

    assert (first.new_items, second.new_items, second.failed) == (3, 0, 0)
    assert feed_server.statuses("/danas.xml") == [200, 304]
    assert monitor.store.feeds.state("Danas", utcnow()).validators.last_modified == stamp


def test_new_entry_in_next_poll_makes_exactly_one_hit(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    poll(monitor)
    fresh = ("n1-1004", "Relokanti iz Rusije traže boravak", "Nova pravila za strance.")
    feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", [*SERBIAN_NEWS, fresh]))

    summary = poll(monitor)

    assert (summary.new_items, summary.new_hits) == (1, 1)
    titles = [hit.item.title for hit in monitor.store.hits.find(watchlist="relocants")]
    assert titles.count("Relokanti iz Rusije traže boravak") == 1
    assert len(titles) == 2


@pytest.mark.parametrize(
    ("settings", "subject", "lang", "shown"),
    [
        (
            'locale = "sr-Cyrl"\nscript = "cyrl"',
            "[monitor] relocants: 2 нове вести",
            "sr-Cyrl",
            "*БИА*: Руски активиста проглашен безбедносним ризиком",
        ),
        (
            'locale = "ru"',
            "[monitor] relocants: 2 новых материала",
            "ru",
            "Сербия выслала российского активиста",
        ),
    ],
)
def test_a_digest_arrives_in_the_watchlists_language_and_script(
    feed_server, smtp_server, database_url, write_config, open_monitor, settings, subject, lang, shown
):
    """Serbian items shown in Cyrillic, the Russian one as written, the digest's own words in
    the reader's language, through the outbox and a real SMTP server."""
    n1 = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    meduza = feed_server.serve("/meduza.xml", rss("Meduza", "https://meduza.io", RUSSIAN_NEWS))
    config = write_config(
        {"N1": n1, "Meduza": meduza}, database_url=database_url, smtp_port=smtp_server.port, extra=settings
    )
    monitor = open_monitor(config)
    poll(monitor)

    [outcome] = monitor.outbox.send_digests(utcnow())

    assert outcome.sent
    [message] = smtp_server.sink.messages
    html, text = html_part(message), text_part(message)
    assert message["Subject"] == subject
    assert f'<html lang="{lang}">' in html
    assert shown in text and "Сербия выслала российского активиста" in text
    assert "new item" not in text and "matched" not in text and "Sent by" not in text


def test_digest_arrives_once_with_both_parts_the_link_and_the_highlight(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    poll(monitor)

    [outcome] = monitor.outbox.send_digests(utcnow())
    [again] = monitor.outbox.send_digests(utcnow())

    assert (outcome.sent, outcome.hits) == (True, 1)
    assert (again.sent, again.hits) == (False, 0)
    [(recipients, _raw)] = smtp_server.sink.envelopes
    assert sorted(recipients) == ["desk@example.org", "lawyer@example.org"]
    [message] = smtp_server.sink.messages
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[monitor] relocants: 1 new item"
    assert message["Message-ID"] and message["Date"] and message["From"] == "monitor@example.org"
    html, text = html_part(message), text_part(message)
    assert 'href="https://n1info.rs/n1-1002/"' in html
    assert ">BIA</mark>" in html
    assert ">relokanti</mark>" in html
    assert "*BIA*" in text and "https://n1info.rs/n1-1002/" in text
    assert "Kolumbiju" not in html
    assert all(hit.delivered for hit in monitor.store.hits.find())


@pytest.mark.parametrize(
    ("send_empty", "messages"), [(False, []), (True, ["[monitor] relocants: nothing new"])]
)
def test_an_empty_period_sends_nothing_unless_send_empty(
    feed_server, smtp_server, database_url, write_config, open_monitor, send_empty, messages
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", []))
    config = write_config(
        {"N1": url},
        database_url=database_url,
        smtp_port=smtp_server.port,
        extra=f"send_empty = {str(send_empty).lower()}",
    )
    monitor = open_monitor(config)
    poll(monitor)

    [outcome] = monitor.outbox.send_digests(utcnow())

    assert (outcome.sent, outcome.hits) == (send_empty, 0)
    assert [message["Subject"] for message in smtp_server.sink.messages] == messages
    if send_empty:
        assert "Nothing new since the last digest." in text_part(smtp_server.sink.messages[0])


def test_a_digest_capped_at_max_entries_covers_every_hit_once(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    urls = {
        "N1": feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS)),
        "Meduza": feed_server.serve("/meduza.xml", rss("Meduza", "https://meduza.io", RUSSIAN_NEWS)),
    }
    config = write_config(
        urls, database_url=database_url, smtp_port=smtp_server.port, extra="max_entries = 1"
    )
    monitor = open_monitor(config)
    poll(monitor)
    pending = monitor.store.hits.find(watchlist="relocants", waiting="digest")

    [outcome] = monitor.outbox.send_digests(utcnow())
    [again] = monitor.outbox.send_digests(utcnow())

    assert len(pending) >= 2, "test setup: the cap must leave something out"
    assert (outcome.hits, again.hits) == (len(pending), 0)
    text = text_part(smtp_server.sink.messages[0])
    assert f"and {len(pending) - 1} more: run `monitor hits --watchlist relocants`" in text
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_the_next_digest_covers_the_period_since_the_last_one_delivered(
    feed_server, smtp_server, tmp_path, write_config, open_monitor
):
    urls = {
        "N1": feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS)),
        "Meduza": feed_server.serve("/meduza.xml", rss("Meduza", "https://meduza.io", [])),
    }
    config = write_config(urls, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port)
    monitor = open_monitor(config)
    poll(monitor)
    monitor.outbox.send_digests(utcnow())
    [first_run] = monitor.store.messages.runs("relocants")
    feed_server.serve("/meduza.xml", rss("Meduza", "https://meduza.io", RUSSIAN_NEWS))
    poll(monitor)

    monitor.outbox.send_digests(utcnow())

    first, second = (text_part(message) for message in smtp_server.sink.messages)
    since = first_run.created.astimezone(ZoneInfo("Europe/Belgrade")).strftime("%a, %-d %b %Y, %H:%M")
    assert " since " not in first.splitlines()[0]
    assert f" since {since} (" in second.splitlines()[0]


def test_refused_digest_stays_pending_and_a_later_run_delivers_it_once(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    poll(monitor)
    smtp_server.sink.refuse = "451 4.3.0 try again later"

    [refused] = monitor.outbox.send_digests(utcnow())

    assert (refused.state, refused.sent) == ("pending", False) and "451" in (refused.error or "")
    assert not any(hit.delivered for hit in monitor.store.hits.find())
    smtp_server.sink.refuse = None
    [delivered, empty] = monitor.outbox.send_digests(utcnow())
    [nothing] = monitor.outbox.send_digests(utcnow())
    assert (delivered.state, delivered.hits, delivered.recorded is not None) == ("sent", 1, True)
    assert (empty.state, nothing.state) == ("empty", "empty")
    assert len(smtp_server.sink.messages) == 1


def test_a_refused_recipient_is_recorded_and_the_others_get_the_digest_once(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    poll(monitor)
    smtp_server.sink.refuse_recipients = {"lawyer@example.org": "550 5.1.1 no such user"}

    [outcome] = monitor.outbox.send_digests(utcnow())
    [again] = monitor.outbox.send_digests(utcnow())

    assert (outcome.sent, outcome.hits, again.hits) == (True, 1, 0)
    assert outcome.error == "refused lawyer@example.org: 550 5.1.1 no such user"
    assert [recipients for recipients, _ in smtp_server.sink.envelopes] == [["desk@example.org"]]
    assert all(hit.delivered for hit in monitor.store.hits.find())
    [empty, partial] = monitor.store.messages.runs("relocants")
    assert (partial.status, partial.error, empty.status) == ("partial", outcome.error, "empty")


@pytest.mark.parametrize(
    ("attempts", "refusals", "delivered"),
    [(3, ["451 4.3.0 try again later"] * 2, True), (2, ["451 4.3.0 try again later"] * 2, False)],
)
# Retries are about SMTP, not storage: one backend is enough, and each waits a second or more.
def test_temporary_smtp_failures_are_tried_again_within_the_run(
    feed_server, smtp_server, tmp_path, write_config, open_monitor, attempts, refusals, delivered
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    config.write_text(config.read_text().replace("attempts = 1", f'attempts = {attempts}\nretry_wait = "1s"'))
    monitor = open_monitor(config)
    poll(monitor)
    smtp_server.sink.refusals = list(refusals)

    [outcome] = monitor.outbox.send_digests(utcnow())

    assert smtp_server.sink.data_commands == min(attempts, len(refusals) + 1)
    assert outcome.sent is delivered
    assert len(smtp_server.sink.messages) == int(delivered)
    assert [hit.delivered is not None for hit in monitor.store.hits.find()] == [delivered]
    if not delivered:
        assert outcome.error and "451" in outcome.error and "(after 2 tries)" in outcome.error


def test_a_permanent_smtp_failure_is_not_tried_again(
    feed_server, smtp_server, tmp_path, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    config.write_text(config.read_text().replace("attempts = 1", 'attempts = 3\nretry_wait = "1s"'))
    monitor = open_monitor(config)
    poll(monitor)
    smtp_server.sink.refusals = ["554 5.7.1 message rejected"]

    [outcome] = monitor.outbox.send_digests(utcnow())
    [later] = monitor.outbox.send_digests(utcnow())

    assert (outcome.sent, outcome.state, smtp_server.sink.data_commands) == (False, "failed", 1)
    assert outcome.error and "554" in outcome.error and "tries" not in outcome.error
    assert later.state == "empty"  # refused for every recipient: not sent again, at any run


def test_unreachable_smtp_server_leaves_hits_pending(feed_server, database_url, write_config, open_monitor):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=free_port()))
    poll(monitor)

    [outcome] = monitor.outbox.send_digests(utcnow())

    assert not outcome.sent and "connection refused: is the mail server running" in (outcome.error or "")
    assert [hit.delivered for hit in monitor.store.hits.find()] == [None]


def test_cyrillic_terms_match_cyrillic_text_and_bia_never_matches_serbia(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    urls = {
        "N1": feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS)),
        "Mediazona": feed_server.serve("/mz.xml", rss("Медиазона", "https://zona.media", RUSSIAN_NEWS)),
    }
    monitor = open_monitor(write_config(urls, database_url=database_url, smtp_port=smtp_server.port))

    poll(monitor)

    found = {hit.item.title: hit.matched_terms for hit in monitor.store.hits.find()}
    assert found == {
        "Сербия выслала российского активиста": ["релоканты"],
        "BIA: Ruski aktivista proglašen bezbednosnim rizikom": ["BIA", "relokant*"],
    }


def test_failing_feed_is_recorded_and_the_others_still_poll(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    good = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    broken = feed_server.serve("/down.xml", "", status=500)
    html = feed_server.serve("/page.html", "<html><body>Not a feed</body></html>", content_type="text/html")
    monitor = open_monitor(
        write_config(
            {"N1": good, "Down": broken, "Page": html},
            database_url=database_url,
            smtp_port=smtp_server.port,
        )
    )

    summary = poll(monitor)

    assert (summary.ok, summary.failed, summary.new_items) == (1, 2, 3)
    errors = {status.name: status.last_error for status in monitor.store.feeds.statuses(utcnow())}
    assert errors["N1"] is None
    assert "HTTP 500" in errors["Down"]
    assert "an HTML page, not a feed" in errors["Page"]


def test_redirects_are_followed_with_a_user_agent_naming_the_project(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    target = feed_server.serve("/feed/", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    moved = feed_server.serve("/rss", "", status=301, location=target)
    monitor = open_monitor(write_config({"N1": moved}, database_url=database_url, smtp_port=smtp_server.port))

    summary = poll(monitor)

    assert (summary.failed, summary.new_items) == (0, 3)
    assert feed_server.log == [("/rss", 301), ("/feed/", 200)]
    assert all(re.fullmatch(r"monitor/\S+ \(\+https?://\S+\)", agent) for agent in feed_server.user_agents)


def test_a_story_told_by_four_outlets_in_both_scripts_is_one_entry_of_the_digest(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    """Four outlets, two in Cyrillic, rewrite one expulsion; one of them reports another the
    same day. Polled, stored and sent: the story is one entry, its first report shown and the
    three others named with their links, the other expulsion an entry of its own."""
    urls = {
        outlet: feed_server.serve(
            f"/{outlet}.xml",
            rss(
                outlet,
                f"https://{outlet.lower()}.example",
                [(f"{outlet}-{n}", *told) for n, told in reports],
                start=published(FIRST_PUBLISHED)[outlet],
            ),
        )
        for outlet, reports in {
            "N1": [(1, STORY["N1"])],
            "Danas": [(1, STORY["Danas"])],
            "Nova": [(1, STORY["Nova"]), (2, OTHER)],
            "RTS": [(1, STORY["RTS"])],
        }.items()
    }
    config = write_config(
        urls, database_url=database_url, smtp_port=smtp_server.port, queries=("Zotov*", "Ahmetov*")
    )
    monitor = open_monitor(config)
    poll(monitor)

    [outcome] = monitor.outbox.send_digests(utcnow())

    assert (outcome.sent, outcome.hits) == (True, 5)
    [message] = smtp_server.sink.messages
    text, html = text_part(message).replace("\r\n", "\n"), html_part(message)
    assert text.count("\n* ") == 2, text
    shown = text.index("* Ruskom aktivisti Ilji *Zotovu* naloženo da napusti Srbiju\n  N1 · ")  # the first
    [others] = re.findall(r"also reported by: (.*)", text)
    assert others.split(", ") == [  # as they were published
        "Danas (Cyrillic) <https://danas.example/Danas-1/>",
        "Nova <https://nova.example/Nova-1/>",
        "RTS (Cyrillic) <https://rts.example/RTS-1/>",
    ]
    assert text.index("also reported by") > shown
    assert '<a href="https://rts.example/RTS-1/" style="color:#1d4ed8;">RTS</a> (Cyrillic)' in html
    assert "Ruslanu *Ahmetovu*" in text
    stories = {hit.item.feed: hit.story for hit in monitor.store.hits.find() if "Zotov" in hit.item.summary}
    assert len(set(stories.values())) == 1


def test_a_channels_post_an_article_told_in_its_body_and_a_four_outlet_story_reach_one_digest(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    """Where news breaks, and the whole story: a public Telegram channel's post, an article
    whose watched term is only in its third paragraph (its feed read in full text), and one
    story told by four outlets in both scripts; polled in worker processes, one digest."""
    urls = {
        outlet: feed_server.serve(
            f"/{outlet}.xml",
            rss(outlet, f"https://{outlet.lower()}.example", [(f"{outlet}-1", *STORY[outlet])], start=when),
        )
        for outlet, when in published(FIRST_PUBLISHED).items()
    }
    feed_server.serve("/clanak/vr-1/", news_page(FAMILY_HEADLINE[0], FAMILY), content_type="text/html")
    urls["Vreme"] = feed_server.serve(
        "/vreme.xml", rss("Vreme", feed_server.url("/clanak"), [("vr-1", *FAMILY_HEADLINE)])
    )
    post = Post(7, "Релоканты в Белграде: вызовы в полицию\nАдвокаты советуют не подписывать документы.")
    urls["Diaspora"] = feed_server.serve(
        "/s/diaspora", channel_page("diaspora", "Русские в Сербии", [post]), content_type="text/html"
    )
    config = write_config(
        urls,
        database_url=database_url,
        smtp_port=smtp_server.port,
        queries=("Zotov*", "BIA", "релоканты"),
        feed_settings={"Vreme": "fulltext = true", "Diaspora": 'type = "telegram"\nlanguage = "ru"'},
    )
    monitor = open_monitor(config, parse_workers=2)

    summary = poll(monitor)
    [outcome] = monitor.outbox.send_digests(utcnow())

    assert (summary.new_items, summary.failed) == (6, 0)
    assert (outcome.sent, outcome.hits) == (True, 6)
    [message] = smtp_server.sink.messages
    text = text_part(message).replace("\r\n", "\n")
    assert text.count("\n* ") == 3, text  # the story, the article, the post
    assert "* Ruskom aktivisti Ilji *Zotovu* naloženo da napusti Srbiju\n  N1 · " in text
    [others] = re.findall(r"also reported by: (.*)", text)
    assert [other.split(" <")[0] for other in others.split(", ")] == [
        "Danas (Cyrillic)",
        "Nova",
        "RTS (Cyrillic)",
    ]
    assert f"* {FAMILY_HEADLINE[0]}\n  Vreme · " in text
    assert "Bezbednosno-informativna agencija (*BIA*) dala negativnu bezbednosnu procenu" in text
    assert "* *Релоканты* в Белграде: вызовы в полицию\n  Diaspora · " in text
    assert "https://t.me/diaspora/7" in text

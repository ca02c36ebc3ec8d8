"""A public Telegram channel's web preview (t.me/s/CHANNEL) → Items. Pure: the caller fetches.

The preview is the page Telegram shows anyone, without an account: the channel's latest posts,
oldest first, and a link to the ones before (``?before=ID``). Its structure, as public readers
of it document it (RSS-Bridge's Telegram bridge, RSSHub's telegram route): each post a
``div.tgme_widget_message[data-post="channel/ID"]``, its text in
``div.tgme_widget_message_text``, its date in ``a.tgme_widget_message_date time[datetime]``,
forwarded posts naming their source in ``.tgme_widget_message_forwarded_from_name``, a link's
preview titled in ``.link_preview_title``; service messages (pinned, photo changed) carry
``service_message``. A channel that does not exist, or is private, has no preview: t.me sends
the reader to its contact page (``div.tgme_page``) instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from monitor.errors import ParseError
from monitor.feeds.clean import SUMMARY_LIMIT, TITLE_LIMIT, clean, shorten
from monitor.feeds.encoding import as_utf8
from monitor.feeds.parse import ParsedFeed
from monitor.feeds.prescan import Reading
from monitor.models import Item

_POST = re.compile(r"^([A-Za-z0-9_]+)/(\d+)$")
_SPACES = re.compile(r"[^\S\n]+")
# the post's own text, not the quoted text of the post it replies to
_OWN_TEXT = (
    './/div[contains(@class, "tgme_widget_message_text")]'
    '[not(ancestor::a[contains(@class, "tgme_widget_message_reply")])]'
)
_PARSER = lxml_html.HTMLParser(encoding="utf-8")  # as_utf8 has decoded the body, whatever it declares
CHANGED = (
    "the page does not look like a Telegram channel's preview (no channel header, no posts): "
    "Telegram may have changed its layout; check the URL in a browser"
)


def before(url: str, post: int) -> str:
    """The preview's page of the posts older than ``post``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"before={post}", ""))


def post_number(item: Item) -> int:
    """The post's number in its channel, from the id ``parse_channel`` gives it."""
    return int(item.id.rpartition("/")[2])


def parse_channel(
    body: bytes, headers: dict[str, str] | None = None, *, feed: str, url: str, now: datetime
) -> ParsedFeed:
    """The posts of a channel's preview page, oldest first, each with its permanent link, its
    text (the first line as the title), its date, and what it forwards or links to. Posts with
    no text at all (a photo without a caption) and service messages are left out. ``now`` stands
    in for a missing date. Raises ParseError for a channel with no preview, and for a page
    that is not one."""
    utf8, warnings = as_utf8(body, (headers or {}).get("content-type"))
    try:
        root = lxml_html.document_fromstring(utf8, parser=_PARSER)
    except (ValueError, etree.ParserError) as exc:
        raise ParseError(url, f"{CHANGED} ({exc})") from None
    messages = root.xpath('//div[contains(concat(" ", @class, " "), " tgme_widget_message ")][@data-post]')
    if not messages and not root.xpath('//*[contains(@class, "tgme_channel_info")]'):
        raise ParseError(url, _no_preview(root, url))
    posts = (
        _post(message, feed, now)
        for message in messages
        if "service_message" not in message.get("class", "").split()
    )
    title = " ".join(root.xpath('string(//div[contains(@class, "tgme_channel_info_header_title")])').split())
    return ParsedFeed([post for post in posts if post is not None], tuple(warnings), title, None)


def read_channel(
    body: bytes, headers: dict[str, str], *, feed: str, url: str, now: datetime, seen: frozenset[str]
) -> Reading:
    """``parse_channel`` as the poller reads a feed (``read_feed``'s arguments): every post is
    parsed, since the page changes at each poll (its view counters) and holds some twenty."""
    return Reading(parse_channel(body, headers, feed=feed, url=url, now=now), None)


def _post(message: lxml_html.HtmlElement, feed: str, now: datetime) -> Item | None:
    found = _POST.match(message.get("data-post", ""))
    if found is None:
        return None
    channel, number = found.groups()
    text = _text(message)
    forwarded = _one(message, './/*[contains(@class, "tgme_widget_message_forwarded_from_name")]')
    preview = _one(message, './/*[contains(@class, "link_preview_title")]')
    if not (text or preview):
        return None
    title, _, rest = (text or preview).partition("\n")
    extra = [rest.strip(), f"Forwarded from {forwarded}" if forwarded else ""]
    if text:
        extra.append(preview)
    extra.append(_one(message, './/*[contains(@class, "link_preview_description")]'))
    return Item(
        feed=feed,
        id=f"{channel}/{number}",
        title=shorten(title.strip(), TITLE_LIMIT),
        summary=shorten("\n".join(part for part in extra if part), SUMMARY_LIMIT),
        link=f"https://t.me/{channel}/{number}",
        published=_date(message) or now,
    )


def _text(message: lxml_html.HtmlElement) -> str:
    """The post's text, its line breaks kept (the first line is its title)."""
    nodes = message.xpath(_OWN_TEXT)
    if not nodes:
        return ""
    node = nodes[0]
    for br in node.iter("br"):
        br.tail = "\n" + (br.tail or "")
    lines = (_SPACES.sub(" ", line).strip() for line in clean(node.text_content()).split("\n"))
    return "\n".join(line for line in lines if line)


def _one(message: lxml_html.HtmlElement, path: str) -> str:
    nodes = message.xpath(path)
    return " ".join(clean(nodes[0].text_content()).split()) if nodes else ""


def _date(message: lxml_html.HtmlElement) -> datetime | None:
    for stamp in message.xpath('.//*[contains(@class, "tgme_widget_message_date")]//time/@datetime'):
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _no_preview(root: lxml_html.HtmlElement, url: str) -> str:
    """Why a page holds no posts: a private channel (its contact page names it), no such
    channel (the contact page names nobody), or a page that is not a preview at all."""
    if not root.xpath('//*[contains(@class, "tgme_page")]'):
        return CHANGED
    name = " ".join(root.xpath('string(//div[contains(@class, "tgme_page_title")])').split())
    if name:
        return (
            f"the channel “{name}” has no public preview: it is private, or its owner turned the "
            "preview off; monitor reads public channels only, without an account"
        )
    return f"no Telegram channel at {url}: check its name (t.me/s/NAME)"

"""OPML 2.0, the list of feeds every reader exports and imports: read into subscriptions (a
feed's address, its title, the folders it sits in, its language) and written from them. Pure.

Readers write it a little differently: Miniflux and FreshRSS put feeds in one level of
category outlines, Feedly adds ``title`` beside ``text``, Inoreader nests folders and leaves
``type`` out at times; some write ``xmlurl`` in lower case. A feed is any outline with an
``xmlUrl``; the outlines around it are its folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from monitor.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    title: str
    folders: tuple[str, ...] = ()
    language: str | None = None


def _attribute(outline: etree._Element, name: str) -> str:
    """An outline's attribute, whatever case the reader wrote its name in."""
    wanted = name.lower()
    for key, value in outline.attrib.items():
        if str(key).lower() == wanted:
            return str(value).strip()
    return ""


def read_opml(body: bytes, source: str) -> list[Subscription]:
    """The feeds an OPML document lists, in document order; raises ConfigError naming
    ``source`` when it is not OPML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{source}: not an OPML file (not well-formed XML: {exc})") from None
    if etree.QName(root).localname.lower() != "opml" or (found := root.find("body")) is None:
        raise ConfigError(f"{source}: not an OPML file (no <opml> with a <body>); export your feeds as OPML")
    subscriptions: list[Subscription] = []

    def walk(outline: etree._Element, folders: tuple[str, ...]) -> None:
        for child in outline:
            if not isinstance(child.tag, str) or etree.QName(child).localname.lower() != "outline":
                continue
            name = _attribute(child, "title") or _attribute(child, "text")
            if url := _attribute(child, "xmlUrl"):
                language = _attribute(child, "language") or None
                categories = [c.strip().strip("/") for c in _attribute(child, "category").split(",")]
                tags = tuple(dict.fromkeys([*folders, *(c for c in categories if c)]))
                subscriptions.append(Subscription(url, name, tags, language))
            walk(child, (*folders, name) if name and not url else folders)

    walk(found, ())
    return subscriptions


def write_opml(subscriptions: Sequence[Subscription], title: str, now: datetime) -> bytes:
    """An OPML 2.0 document of ``subscriptions``, each in an outline of its first folder (the
    folders readers show), its other folders in ``category``."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for subscription in subscriptions:
        parent = body
        if subscription.folders:
            first = subscription.folders[0]
            if first not in folders:
                folders[first] = etree.SubElement(body, "outline", text=first, title=first)
            parent = folders[first]
        outline = etree.SubElement(
            parent, "outline", type="rss", text=subscription.title, title=subscription.title
        )
        outline.set("xmlUrl", subscription.url)
        if subscription.language:
            outline.set("language", subscription.language)
        if len(subscription.folders) > 1:
            outline.set("category", ",".join(f"/{folder}" for folder in subscription.folders[1:]))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))

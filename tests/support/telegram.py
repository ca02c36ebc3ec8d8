"""Telegram channel previews (t.me/s/CHANNEL) for tests, built from the page's structure as
public readers of it document it (RSS-Bridge's Telegram bridge, RSSHub's telegram route):
a channel header, each post a ``tgme_widget_message`` with ``data-post``, the "older posts"
link; and the contact page t.me shows instead for a private or missing channel."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Post:
    number: int
    text: str = ""  # lines joined with <br/>; "" for a photo without a caption
    date: str = "2026-12-04T08:00:00+00:00"
    forwarded_from: str = ""
    preview_title: str = ""
    preview_description: str = ""
    photo: bool = False
    service: bool = False  # "Channel photo updated", "pinned a message"
    reply_to: str = ""  # the quoted text of the post it answers


def _post(channel: str, post: Post) -> str:
    kind = " service_message" if post.service else ""
    parts = []
    if post.forwarded_from:
        parts.append(
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            f'<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/other/1">'
            f'<span dir="auto">{html.escape(post.forwarded_from)}</span></a></div>'
        )
    if post.reply_to:
        parts.append(
            f'<a class="tgme_widget_message_reply" href="https://t.me/{channel}/1">'
            '<span class="tgme_widget_message_author_name">Channel</span>'
            f'<div class="tgme_widget_message_text js-message_text">{html.escape(post.reply_to)}</div></a>'
        )
    if post.photo:
        parts.append(
            f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{post.number}" '
            "style=\"width:800px;background-image:url('https://cdn4.telesco.pe/file/x.jpg')\"></a>"
        )
    if post.service:
        parts.append(f'<div class="tgme_widget_message_service_text">{html.escape(post.text)}</div>')
    elif post.text:
        lines = "<br/>".join(
            f"<b>{html.escape(line)}</b>" if n == 0 else html.escape(line)
            for n, line in enumerate(post.text.split("\n"))
        )
        parts.append(f'<div class="tgme_widget_message_text js-message_text" dir="auto">{lines}</div>')
    if post.preview_title:
        parts.append(
            '<a class="tgme_widget_message_link_preview" href="https://example.org/a">'
            '<div class="link_preview_site_name accent_color" dir="auto">Example</div>'
            f'<div class="link_preview_title" dir="auto">{html.escape(post.preview_title)}</div>'
            '<div class="link_preview_description" dir="auto">'
            f"{html.escape(post.preview_description)}</div></a>"
        )
    footer = (
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        '<span class="tgme_widget_message_views">1.2K</span>'
        '<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{channel}/{post.number}">'
        f'<time datetime="{post.date}" class="time">08:00</time></a></span></div></div>'
    )
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message{kind}" '
        f'data-post="{channel}/{post.number}" data-view="x">'
        f'<div class="tgme_widget_message_bubble">{"".join(parts)}{footer}</div></div></div>'
    )


def channel_page(channel: str, title: str, posts: list[Post], *, before: int | None = None) -> str:
    """The preview of ``channel``: its header, ``posts`` oldest first, and the link to the
    posts before the first (``before``: its number, or the first post's)."""
    older = before if before is not None else (posts[0].number if posts else None)
    more = (
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{channel}?before={older}" data-before="{older}" '
        'class="tme_messages_more js-messages_more"></a></div>'
        if older and older > 1
        else ""
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} – Telegram</title></head><body>"
        '<div class="tgme_channel_info"><div class="tgme_channel_info_header">'
        f'<div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(title)}</span></div>'
        f'<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div>'
        "</div></div>"
        '<main class="tgme_main"><section class="tgme_channel_history js-message_history">'
        f"{more}{''.join(_post(channel, post) for post in posts)}"
        "</section></main></body></html>"
    )


def contact_page(channel: str, title: str = "") -> str:
    """What t.me shows for a channel without a preview: a private one names itself; for a name
    no channel has, the page names nobody."""
    heading = (
        f'<div class="tgme_page_title"><span dir="auto">{html.escape(title)}</span></div>'
        '<div class="tgme_page_extra">1 234 subscribers</div>'
        if title
        else ""
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Telegram: Contact @{channel}</title></head><body>"
        '<div class="tgme_page_wrap"><div class="tgme_page">'
        f'<div class="tgme_page_photo"></div>{heading}'
        f'<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact '
        f'<a class="tgme_username_link" href="tg://resolve?domain={channel}">@{channel}</a> right away.</div>'
        "</div></div></body></html>"
    )

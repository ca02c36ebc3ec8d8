"""Article pages in the shapes news sites serve them: a WordPress-style story with its menus,
"most read" list and cookie notice; an AMP page; a paywall's teaser; a page in cp1251; a 5 MB
page whose weight is the inline state a JavaScript front end ships; an empty shell its scripts
fill. Written from the structure of real pages, not copied from any."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

MENU = ("Vesti", "Politika", "Društvo", "Svet", "Sport", "Kultura", "Video")
COOKIES = "Ovaj sajt koristi kolačiće. Nastavkom korišćenja prihvatate uslove."
# a story whose watched term (BIA) is first in its third paragraph, under a headline and lead
# that name none
FAMILY_HEADLINE = ("Poslednje nedelje jedne porodice u Novom Sadu", "Kako žive oni koji su došli 2022.")
FAMILY = [
    "Porodica Ivanov živi u Novom Sadu od proleća 2022. godine, kada je napustila Moskvu.",
    "Otac je programer, majka prevoditeljka, a ćerka ide u treći razred osnovne škole.",
    "U oktobru im je policija saopštila da im boravak neće biti produžen, jer je "
    "Bezbednosno-informativna agencija (BIA) dala negativnu bezbednosnu procenu.",
    "Advokat porodice kaže da obrazloženje nisu dobili i da će se žaliti Upravnom sudu.",
]


def _paragraphs(paragraphs: Sequence[str]) -> str:
    return "".join(f"<p>{escape(text)}</p>\n" for text in paragraphs)


def news_page(
    title: str,
    paragraphs: Sequence[str],
    *,
    language: str = "sr",
    furniture: Sequence[str] = (),
    charset: str | None = "utf-8",
    script: str = "",
) -> str:
    """A story as a WordPress news theme lays it out: header and menu, the article (headline,
    byline, paragraphs, tags), a sidebar of ``furniture`` ("most read" headlines), related
    links, a newsletter box, a footer and a cookie notice. ``script``: a script's text in the
    head (a front end's state)."""
    meta = f'<meta charset="{charset}">' if charset else ""
    menu = "".join(f'<li class="menu-item"><a href="/{item.lower()}/">{item}</a></li>' for item in MENU)
    most_read = "".join(
        f'<li><a href="/most-read/{number}/">{escape(line)}</a></li>' for number, line in enumerate(furniture)
    )
    head_script = f"<script>{script}</script>" if script else ""
    return f"""<!DOCTYPE html>
<html lang="{language}">
<head>
{meta}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Primer Info</title>
<link rel="stylesheet" href="/wp-content/themes/news/style.css">
<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "headline": title})}</script>
{head_script}
</head>
<body class="post-template-default single single-post">
<header class="site-header"><a class="logo" href="/">Primer Info</a>
<nav class="main-navigation"><ul class="menu">{menu}</ul></nav></header>
<div class="breaking-ticker"><span>Uživo</span> <a href="/uzivo/">Pratite najnovije vesti</a></div>
<main id="main" class="site-main">
<article class="post type-post">
<header class="entry-header"><h1 class="entry-title">{escape(title)}</h1>
<div class="entry-meta"><span class="byline">Autor: Redakcija</span> <time>21.11.2026. 09:00</time></div>
</header>
<div class="entry-content">
{_paragraphs(paragraphs)}
</div>
<footer class="entry-footer"><span class="tags-links">Tagovi: <a href="/tag/drustvo/">društvo</a></span>
<div class="share">Podeli: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Telegram</a></div></footer>
</article>
<aside class="widget-area"><section class="widget"><h2 class="widget-title">Najčitanije</h2>
<ul>{most_read}</ul></section>
<section class="widget newsletter"><h2>Newsletter</h2><p>Prijavite se za jutarnji pregled vesti.</p>
<form><input type="email" placeholder="Vaš email"><button>Prijava</button></form></section></aside>
</main>
<footer class="site-footer"><p>© 2026 Primer Info. Sva prava zadržana.</p>
<ul><li><a href="/impresum/">Impresum</a></li><li><a href="/kontakt/">Kontakt</a></li></ul></footer>
<div class="cookie-notice" role="dialog"><p>{COOKIES}</p><button>Prihvatam</button></div>
</body>
</html>
"""


def amp_page(title: str, paragraphs: Sequence[str], *, language: str = "en") -> str:
    """The AMP edition of a story: ⚡ on the html element, AMP's boilerplate style and runtime,
    amp-img and amp-ad elements around the article."""
    return f"""<!doctype html>
<html ⚡ lang="{language}">
<head>
<meta charset="utf-8">
<script async src="https://cdn.ampproject.org/v0.js"></script>
<title>{escape(title)}</title>
<link rel="canonical" href="https://example.org/story/">
<meta name="viewport" content="width=device-width">
<style amp-boilerplate>body{{-webkit-animation:-amp-start 8s steps(1,end) 0s 1 normal both}}</style>
<noscript><style amp-boilerplate>body{{-webkit-animation:none}}</style></noscript>
<style amp-custom>.headline{{font-size:2em}}</style>
</head>
<body>
<header><amp-img src="/logo.png" width="120" height="40" alt="Outlet"></amp-img>
<amp-sidebar id="menu" layout="nodisplay"><ul><li>World</li><li>Europe</li><li>Business</li></ul>
</amp-sidebar></header>
<article>
<h1 class="headline">{escape(title)}</h1>
<amp-img src="/photo.jpg" width="800" height="450" layout="responsive" alt="Belgrade"></amp-img>
{_paragraphs(paragraphs)}
</article>
<amp-ad width="300" height="250" type="doubleclick" data-slot="/1/news"></amp-ad>
<footer><p>© 2026 Example News</p></footer>
</body>
</html>
"""


def paywall_page(title: str, teaser: str) -> str:
    """A subscriber-only story as served to a reader without an account: the headline, one
    teaser paragraph, and a box asking to subscribe; the rest is not in the page."""
    return f"""<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body>
<nav><a href="/">Главная</a> <a href="/news/">Новости</a> <a href="/subscribe/">Подписка</a></nav>
<article>
<h1>{escape(title)}</h1>
<p class="lead">{escape(teaser)}</p>
<div class="paywall"><h2>Этот материал доступен только подписчикам</h2>
<p>Оформите подписку, чтобы читать дальше.</p><a class="button" href="/subscribe/">Подписаться</a></div>
</article>
<footer>© 2026 Издание</footer>
</body>
</html>
"""


def cp1251_page(title: str, paragraphs: Sequence[str], *, declared: bool = True) -> bytes:
    """A Russian story as an old CMS still serves it: windows-1251 bytes, declared in a
    ``<meta http-equiv>`` (or not at all)."""
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' if declared else ""
    page = f"""<html><head>{meta}<title>{escape(title)}</title></head>
<body><table width="100%">
<tr><td class="menu"><a href="/">Главная</a> | <a href="/news/">Новости</a></td></tr>
<tr><td class="content"><h1>{escape(title)}</h1>
{_paragraphs(paragraphs)}
</td></tr><tr><td class="footer">Все права защищены</td></tr></table></body></html>
"""
    return page.encode("cp1251")


def huge_page(title: str, paragraphs: Sequence[str], size: int = 5 * 1024 * 1024) -> str:
    """A story whose page weighs ``size``: a front end's inline state (every section's
    headlines, as JSON) in front of the article, as single-page news sites ship it."""
    headline = {"id": 0, "title": "Naslov vesti iz rubrike", "slug": "naslov-vesti", "section": "vesti"}
    one = len(json.dumps(headline)) + 2
    state = json.dumps({"props": {"headlines": [dict(headline, id=n) for n in range(size // one)]}})
    return news_page(title, paragraphs, script=f"window.__STATE__ = {state};")


def shell_page() -> str:
    """A page its scripts fill: nothing to read until JavaScript runs."""
    return """<!DOCTYPE html>
<html lang="sr"><head><meta charset="utf-8"><title>Primer Info</title>
<script src="/static/js/main.4f1c.js" defer></script></head>
<body><noscript>Omogućite JavaScript.</noscript><div id="root"></div></body></html>
"""

"""The locales a digest is written in: for each tag the config accepts, Babel's locale (its
dates, its plural rules) and the catalog of its messages."""

from __future__ import annotations

import functools
import gettext
from dataclasses import dataclass
from importlib.resources import files

from babel import Locale as BabelLocale

DOMAIN = "monitor"  # the catalogs' name: locale/<babel>/LC_MESSAGES/monitor.mo


@dataclass(frozen=True, slots=True)
class Locale:
    """``tag`` as configured, and the HTML's ``lang``; ``babel``, Babel's name for it, which
    names its catalog too. English is the language of the source: it has no catalog."""

    tag: str
    babel: str

    @property
    def english(self) -> bool:
        return self.babel.startswith("en")


# Babel's "sr" is Serbian in Cyrillic. English dates are British: a 24-hour clock and the day
# before the month, as the rest of Europe writes them.
LOCALES = {
    "en": Locale("en", "en_GB"),
    "ru": Locale("ru", "ru"),
    "sr-Cyrl": Locale("sr-Cyrl", "sr"),
    "sr-Latn": Locale("sr-Latn", "sr_Latn"),
}
CATALOGS = tuple(found.babel for found in LOCALES.values() if not found.english)


def locale(tag: str) -> Locale:
    """The locale of a tag the config accepted (``monitor.config.types.LOCALES``)."""
    return LOCALES[tag]


@functools.cache
def babel_locale(tag: str) -> BabelLocale:
    return BabelLocale.parse(locale(tag).babel)


@functools.cache
def translations(tag: str) -> gettext.NullTranslations:
    """The compiled catalog of the tag's messages; English's are the messages themselves."""
    found = locale(tag)
    if found.english:
        return gettext.NullTranslations()
    compiled = files("monitor.i18n") / "locale" / found.babel / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with compiled.open("rb") as file:
        return gettext.GNUTranslations(file)

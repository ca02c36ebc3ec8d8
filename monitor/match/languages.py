"""The languages the matcher reads, and the many ways people and feeds name them.

Feeds declare ``sr-RS``, ``ru-ru``, ``en_US``; people write ``serbian``, ``srp``, ``sr-Latn``,
``српски``. Each is brought to the matcher's code (``sr``, ``ru``, ``en``…) here, once, so a
hint the matcher cannot read is refused when the config is loaded instead of quietly costing
the feed every hit. Croatian, Bosnian and Montenegrin keep their codes and are read as
Serbian: one Serbo-Croatian dictionary and stemmer serve them all, in both scripts.
"""

from __future__ import annotations

import difflib
import re

# The matcher's codes and the other ways to write them: ISO 639-2/3 codes, names in English and
# in the language itself. Every one is looked up caselessly.
_WRITTEN = {
    "en": ("eng", "english"),
    "ru": ("rus", "russian", "русский", "русский язык", "russkij", "russkiy"),
    "sr": ("srp", "scc", "serbian", "srpski", "српски", "srpski jezik", "српски језик"),
    "hr": ("hrv", "scr", "croatian", "hrvatski", "hrvatski jezik"),
    "bs": ("bos", "bosnian", "bosanski", "босански", "bosanski jezik"),
    "cnr": ("montenegrin", "crnogorski", "црногорски", "crnogorski jezik"),
    "sh": ("hbs", "serbo-croatian", "serbocroatian", "srpskohrvatski", "српскохрватски", "hrvatskosrpski"),
}
_NAMES = {name: code for code, names in _WRITTEN.items() for name in (code, *names)}
_SUBTAG = re.compile(r"[a-z0-9]{1,8}")
_ACCEPTED = (
    "write English, Russian or Serbian (or Croatian, Bosnian, Montenegrin) as a code (en, ru, sr, hr,"
    " bs, cnr), a BCP 47 tag (sr-Latn, sr_RS), an ISO 639 code (srp) or a name (Serbian, srpski, српски)"
)


def known_language(value: str) -> str | None:
    """The matcher's code for ``value``, or None when it names no language the matcher reads.

    Tags keep only their language: ``sr-Latn-RS``, ``sr_RS`` and ``sr-Cyrl`` are all ``sr``,
    since the matcher reads both scripts and every region alike; POSIX locales
    (``sr_RS.UTF-8@latin``) lose their encoding and modifier.
    """
    text = " ".join(value.casefold().split())
    if text in _NAMES:
        return _NAMES[text]
    first, *rest = re.split(r"[-_]", text.split(".")[0].split("@")[0])
    if first in _NAMES and len(first) <= 3 and all(_SUBTAG.fullmatch(subtag) for subtag in rest):
        return _NAMES[first]
    return None


def language_code(value: str) -> str:
    """The matcher's code for ``value``; a ValueError saying what is accepted otherwise."""
    code = known_language(value)
    if code is not None:
        return code
    close = difflib.get_close_matches(value.casefold(), _NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"{value!r} is not a language the matcher reads{hint}; {_ACCEPTED}; "
        "for another language, leave it out: each story's text decides"
    )

"""What compiling learns about query words, kept so that the next compile need not learn it again.

Expanding a word into its forms needs the dictionaries (slow to load, and large), and weighing
it needs the word lists; both answers depend only on the word and the libraries' versions.
A ``Lexicon`` handed to ``Matcher`` is read first and filled with what was missing; saving it
between runs (``monitor.match.cache``) lets a restart, or ``monitor match`` tried again on an
edited watchlist, compile without loading any dictionary for the words it already knows.
It notes the words a compile used, so the cache keeps those and can drop words long unused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from monitor.match.forms import Forms, expand
from monitor.match.frequency import frequencies
from monitor.match.query import Word


@dataclass(slots=True)
class Lexicon:
    forms: dict[str, Forms] = field(default_factory=dict)  # word as written → its forms
    frequencies: dict[tuple[str, bool], float] = field(default_factory=dict)  # (word, prefix): share
    days: dict[str, int] = field(default_factory=dict)  # word → day last used, as the word cache kept it
    used: set[str] = field(default_factory=set)  # words read or learned since it was made

    def forms_of(self, word: str) -> Forms:
        if word not in self.forms:
            self.forms[word] = expand(word)
        self.used.add(word)
        return self.forms[word]

    def frequencies_of(self, words: Collection[Word]) -> dict[Word, float]:
        known = self.frequencies
        missing = [word for word in words if (word.text, word.prefix) not in known]
        if missing:
            known.update(((word.text, word.prefix), share) for word, share in frequencies(missing).items())
        self.used.update(word.text for word in words)
        return {word: known[word.text, word.prefix] for word in words}

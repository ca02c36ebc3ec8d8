"""What compiling learns about query words, kept so that the next compile need not learn it again.

Expanding a word into its forms needs the dictionaries (a second to load, 150 MB), and weighing
it needs the word lists; both answers depend only on the word and the libraries' versions.
A ``Lexicon`` handed to ``Matcher`` is read first and filled with what was missing; saving it
between runs (``monitor.wordcache``) lets a restart, or ``monitor match`` tried again on an
edited watchlist, compile without loading any dictionary for the words it already knows.
Entries read or added move to the end, so the most recently used are the last.
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
    learned: bool = False  # something was added: worth saving

    def forms_of(self, word: str) -> Forms:
        forms = self.forms.pop(word, None)
        if forms is None:
            forms = expand(word)
            self.learned = True
        self.forms[word] = forms
        return forms

    def frequencies_of(self, words: Collection[Word]) -> dict[Word, float]:
        known = self.frequencies
        missing = [word for word in words if (word.text, word.prefix) not in known]
        if missing:
            known.update(((word.text, word.prefix), share) for word, share in frequencies(missing).items())
            self.learned = True
        shares = {}
        for word in words:
            key = word.text, word.prefix
            shares[word] = known[key] = known.pop(key)
        return shares

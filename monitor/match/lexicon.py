"""What compiling learns about query words, kept so that the next compile need not learn it again.

Expanding a word into its forms needs the dictionaries (a second to load, 150 MB), and weighing
it needs wordfreq's lists; both answers depend only on the word and the libraries' versions.
A ``Lexicon`` handed to ``Matcher`` is read first and filled with what was missing; saving it
between runs (``monitor.wordcache``) lets a restart, or ``monitor match`` tried again on an
edited watchlist, compile without loading any dictionary for the words it already knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.match.forms import Forms


@dataclass(slots=True)
class Lexicon:
    forms: dict[str, Forms] = field(default_factory=dict)  # word as written → its forms
    frequencies: dict[tuple[str, bool], float] = field(default_factory=dict)  # (word, prefix): share
    learned: bool = False  # something was added: worth saving

    def recall_forms(self, word: str) -> Forms | None:
        """The forms of ``word`` if known, moved to the end: the most recently used are kept."""
        forms = self.forms.pop(word, None)
        if forms is not None:
            self.forms[word] = forms
        return forms

    def learn_forms(self, word: str, forms: Forms) -> None:
        self.forms[word] = forms
        self.learned = True

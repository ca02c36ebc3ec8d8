"""An item as the matcher reads it: each field's words, the languages it may be in, and the
character spans of the words a match reports."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from monitor.feeds.clean import clean
from monitor.match.plan import Occurrence
from monitor.match.text import guess_languages, words
from monitor.models import Field, Span

FIELDS: tuple[Field, ...] = ("title", "summary", "body")
BODY_GUESSED = 400  # characters of an article's body its languages are guessed on, with the title


class Document:
    """An item's fields as tokens with their keys, and the languages it may be in."""

    def __init__(self, title: str, summary: str, language: str | None, body: str = "") -> None:
        """``body``: the article page's text, for an item read in full text."""
        self.text = (clean(title), clean(summary), clean(body))
        self.words = (words(self.text[0]), words(self.text[1]), words(self.text[2]))
        # the body's start only: an English article quoting a Cyrillic name is still English
        written = (
            f"{self.text[0]} {self.text[1]} {self.text[2][:BODY_GUESSED]}"
            if body
            else f"{self.text[0]} {self.text[1]}"
        )
        self.languages = guess_languages(written, chain(*self.words), language)
        self._starts: tuple[list[int], ...] = ([], [], [])  # where each field's first words begin
        self._spans: dict[Occurrence, Span] = {}

    def spans(self, occurrences: Iterable[Occurrence]) -> tuple[Span, ...]:
        """Character spans of token occurrences, title first, in reading order, each once."""
        return self.spans_in_order(sorted(set(occurrences)))

    def spans_in_order(self, occurrences: Iterable[Occurrence]) -> tuple[Span, ...]:
        made = self._spans
        return tuple([made[o] if o in made else self._span(o) for o in occurrences])

    def _span(self, occurrence: Occurrence) -> Span:
        """One occurrence's span, made once per item: many queries share their words."""
        field, first, after = occurrence
        text, tokens, starts = self.text[field], self.words[field], self._starts[field]
        if len(starts) < after:
            # Each word is the next run of word characters, so it is found from where the one
            # before ended: a walk as far as the spans need, cheaper than a regex over the text.
            position = starts[-1] + len(tokens[len(starts) - 1]) if starts else 0
            for token in tokens[len(starts) : after]:
                position = text.find(token, position)
                starts.append(position)
                position += len(token)
        start, end = starts[first], starts[after - 1] + len(tokens[after - 1])
        span = self._spans[occurrence] = Span(FIELDS[field], start, end, text[start:end])
        return span

"""Text clean-up shared by parsing and matching: what "the same text" means everywhere."""

from __future__ import annotations

import re
import unicodedata

# Soft hyphens and zero-width characters: invisible, but they split words (proteri\u00advanje).
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def clean(text: str) -> str:
    """NFC, without soft hyphens and zero-width characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))

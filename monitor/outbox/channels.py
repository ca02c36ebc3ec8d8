"""How a message reaches its recipients: one channel per kind of recipient (``ChannelKind``),
each trying everyone it is given and saying what became of each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.models import Attempt, Message


class Channel(Protocol):
    def send(self, message: Message, recipients: Sequence[str]) -> dict[str, Attempt]:
        """Try to hand ``message`` to each of ``recipients`` (addresses of this channel's
        kind): an Attempt for every one of them."""
        ...

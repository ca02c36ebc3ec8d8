"""The event loop every command runs on: uvloop where it exists, else asyncio's own.

A poll is mostly socket work in the event loop, which uvloop does for less CPU (a warm cycle's
figures are in docs/benchmarks.md). uvloop does not exist on Windows, where asyncio's loop
serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, on the fastest loop installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)

"""Group commit: many small writes from concurrent tasks, done as one write in a thread.

A poll that brought nothing new only updates its feed's row, and doing that in a transaction
and a thread hop of its own cost more than the fetch: batching them is what lets a warm cycle
go at the speed of HTTP. Each caller still waits until its own row is written, so a finished
poll is a recorded poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """``await add(x)`` returns once ``write`` has been called, in a worker thread, with a
    batch holding ``x``; a batch is written when ``size`` are waiting or ``wait`` seconds after
    its first. An error in ``write`` is raised in every caller of that batch."""

    def __init__(self, write: Callable[[Sequence[T]], None], size: int = 200, wait: float = 0.02) -> None:
        self._write = write
        self.size = size
        self.wait = wait
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def add(self, value: T) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._waiting.append((value, done))
        if len(self._waiting) >= self.size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.wait, self._flush)
        await done

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._run(batch))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._write, [value for value, _ in batch])
        except Exception as exc:  # the callers decide what an error means, each for its own
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

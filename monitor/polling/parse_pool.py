"""Worker processes that parse feeds: feedparser is pure Python, the slowest step of a poll,
and threads would share one core.

A worker that dies (killed, out of memory, a crash in a C extension) breaks its
``ProcessPoolExecutor``, and every parse in flight in it fails with it. Those are suspects, not
culprits: each is parsed again alone in a one-worker pool, so only the work that really kills
its worker fails. The broken pool is replaced once, by whichever parse notices first.

Workers watch a pipe from the process that started them and exit when it closes, so a daemon
killed with SIGKILL leaves no parse workers behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")
_CONTEXT = multiprocessing.get_context("forkserver")  # workers do not inherit the daemon's threads


def _exit_with_parent(parent: Connection) -> None:
    """The pool's initializer: a thread that ends the worker when the parent's end of the
    pipe closes, which the kernel does when the parent dies however it dies."""

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            parent.recv_bytes()
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ParsePool:
    """``await run(work)`` calls ``work()`` in a worker process, or in a thread when ``workers``
    < 2. Nothing starts until the first call."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._alone: ProcessPoolExecutor | None = None  # one worker, for suspects one at a time
        self._alone_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._lifeline: tuple[Connection, Connection] | None = None

    async def run(self, work: Callable[[], T]) -> T:
        """``work()``'s result; ``BrokenProcessPool`` only when ``work`` killed its worker
        while alone in its pool."""
        loop = asyncio.get_running_loop()
        if self.workers < 2:
            return await loop.run_in_executor(None, work)
        while True:
            pool = self._pool = self._pool or self._new_pool(self.workers)
            try:  # submitting to a pool that broke before: not a suspect, it was not in it
                running = loop.run_in_executor(pool, work)
                break
            except BrokenProcessPool:
                self._pool = self._replaced(pool, self._pool)
        try:
            return await running
        except BrokenProcessPool:
            self._pool = self._replaced(pool, self._pool)
        async with self._lock_of(loop):
            alone = self._alone = self._alone or self._new_pool(1)
            try:
                return await loop.run_in_executor(alone, work)
            except BrokenProcessPool:
                self._alone = self._replaced(alone, self._alone)
                raise

    def close(self) -> None:
        for pool in (self._pool, self._alone):
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._pool = self._alone = None
        if self._lifeline is not None:
            for end in self._lifeline:
                end.close()
            self._lifeline = None

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        if self._lifeline is None:
            self._lifeline = _CONTEXT.Pipe(duplex=False)  # (workers' end, ours)
        return ProcessPoolExecutor(
            workers, mp_context=_CONTEXT, initializer=_exit_with_parent, initargs=(self._lifeline[0],)
        )

    @staticmethod
    def _replaced(
        broken: ProcessPoolExecutor, current: ProcessPoolExecutor | None
    ) -> ProcessPoolExecutor | None:
        """The pool to use after ``broken`` broke: none yet (a new one is made on the next
        call) if it is still ``current``, else ``current``, already its replacement."""
        if current is not broken:
            return current
        broken.shutdown(wait=False, cancel_futures=True)
        return None

    def _lock_of(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        """The lock that keeps suspects one at a time, made on the running loop (a monitor may
        poll on several loops in turn, one ``asyncio.run`` each)."""
        if self._alone_lock is None or self._alone_lock[0] is not loop:
            self._alone_lock = (loop, asyncio.Lock())
        return self._alone_lock[1]

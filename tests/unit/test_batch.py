"""GroupCommit: concurrent small writes become few batched ones, and each caller waits for its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from monitor.polling.group_commit import GroupCommit


class Recorder:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on

    def write(self, values: Sequence[int]) -> None:
        self.threads.add(threading.get_ident())
        if self.fail_on in values:
            raise RuntimeError("disk full")
        self.batches.append(list(values))


def test_concurrent_adds_are_written_in_batches_of_size_before_any_caller_returns():
    recorder = Recorder()
    returned: list[int] = []

    async def run() -> None:
        commit = GroupCommit(recorder.write, size=100, wait=10)

        async def add(value: int) -> None:
            await commit.add(value)
            assert any(value in batch for batch in recorder.batches)
            returned.append(value)

        await asyncio.gather(*(add(value) for value in range(200)))

    asyncio.run(run())

    assert [len(batch) for batch in recorder.batches] == [100, 100]
    assert sorted(returned) == list(range(200))
    assert threading.get_ident() not in recorder.threads  # written off the event loop


def test_a_lone_add_is_written_after_the_wait():
    recorder = Recorder()

    async def run() -> float:
        commit = GroupCommit(recorder.write, size=100, wait=0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await commit.add(7)
        return loop.time() - started

    waited = asyncio.run(run())

    assert recorder.batches == [[7]]
    assert waited >= 0.05


def test_a_failed_write_is_raised_in_every_caller_of_its_batch_and_the_next_batch_goes_on():
    recorder = Recorder(fail_on=3)

    async def run() -> list[BaseException | None]:
        commit = GroupCommit(recorder.write, size=5, wait=10)
        return await asyncio.gather(*(commit.add(value) for value in range(10)), return_exceptions=True)

    results = asyncio.run(run())

    assert [type(result).__name__ for result in results[:5]] == ["RuntimeError"] * 5
    assert results[5:] == [None] * 5
    assert recorder.batches == [[5, 6, 7, 8, 9]]


def test_a_commit_serves_one_event_loop_after_another():
    recorder = Recorder()
    commit = GroupCommit(recorder.write, size=2, wait=0.01)

    for value in (1, 2):
        asyncio.run(commit.add(value))

    assert recorder.batches == [[1], [2]]


@pytest.mark.parametrize("size", [1, 3])
def test_size_one_writes_each_value_alone_and_remainders_still_go(size):
    recorder = Recorder()

    async def run() -> None:
        commit = GroupCommit(recorder.write, size=size, wait=0.01)
        await asyncio.gather(*(commit.add(value) for value in range(4)))

    asyncio.run(run())

    assert sorted(value for batch in recorder.batches for value in batch) == [0, 1, 2, 3]
    assert max(len(batch) for batch in recorder.batches) <= size

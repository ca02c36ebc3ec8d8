"""The parse pool with real worker processes: a worker that dies fails only the work that killed
it. (That a killed daemon leaves no workers behind is in test_containment.)"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures.process import BrokenProcessPool

from monitor.polling.parse_pool import ParsePool
from tests.support.processes import descendants


def _slow_pid() -> int:
    time.sleep(0.2)
    return os.getpid()


def _die() -> int:
    time.sleep(0.05)  # the others are in flight by now
    os._exit(3)


async def _gather(pool: ParsePool, jobs: list) -> list:  # type: ignore[type-arg]
    return await asyncio.gather(*(pool.run(job) for job in jobs), return_exceptions=True)


def test_a_worker_that_dies_fails_only_its_own_work_and_one_fresh_pool_takes_over() -> None:
    pool = ParsePool(2)
    try:
        results = asyncio.run(_gather(pool, [_slow_pid] * 4 + [_die] + [_slow_pid] * 4))
        after = asyncio.run(_gather(pool, [_slow_pid] * 6))
    finally:
        pool.close()

    assert isinstance(results[4], BrokenProcessPool)
    others = results[:4] + results[5:]
    assert all(isinstance(result, int) for result in others), others  # collateral work was done again
    assert all(isinstance(result, int) for result in after)
    assert len(set(after)) <= 2  # one new pool of two workers, not a pool per broken parse


def test_without_workers_work_runs_in_this_process() -> None:
    started = descendants(os.getpid())
    assert asyncio.run(ParsePool(0).run(os.getpid)) == os.getpid()
    assert descendants(os.getpid()) == started

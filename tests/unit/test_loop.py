"""monitor.loop.run: the commands' event loop."""

from __future__ import annotations

import asyncio
import sys

import pytest

from monitor import loop


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not exist on Windows")
def test_commands_run_on_uvloop_where_it_is_installed():
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert loop.run(loop_module()).startswith("uvloop")


def test_run_returns_the_coroutines_result_and_raises_its_error():
    async def answer() -> int:
        return 42

    async def fail() -> None:
        raise LookupError("no such feed")

    assert loop.run(answer()) == 42
    with pytest.raises(LookupError, match="no such feed"):
        loop.run(fail())

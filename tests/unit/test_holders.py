"""Whether the holder of a claim is dead, judged from what runs under its pid on this host:
pure, so tested with a table."""

from __future__ import annotations

import os

import pytest

from monitor.store.holders import Holder, dead, running, this_process

HOLDER = Holder("box", 4242, 90_000)


@pytest.mark.parametrize(
    ("holder", "seen", "is_dead"),
    [
        (HOLDER, None, True),  # nothing runs under its pid (or a zombie)
        (HOLDER, Holder("box", 4242, 90_000), False),  # it runs
        (HOLDER, Holder("box", 4242, 95_000), True),  # its pid was reused
        (HOLDER, Holder("box", 4242, None), False),  # something runs there; its start is unknown
        (Holder("box", 4242, None), None, True),  # an old claim (host:pid) whose pid is free
        (Holder("box", 4242, None), Holder("box", 4242, 95_000), False),  # …whose pid is taken
        (Holder("other", 4242, 90_000), None, False),  # another host's: only its lease tells
        (Holder("box", 0, None), None, False),  # not a process
        # in a container every daemon is pid 1: a restarted one sees its earlier incarnation
        (Holder("box", 1, 80_000), Holder("box", 1, 95_000), True),
        (Holder("box", 1, 95_000), Holder("box", 1, 95_000), False),  # …or itself
    ],
)
def test_a_holder_is_dead_only_when_this_host_shows_it_is(holder, seen, is_dead):
    assert dead(holder, "box", seen) is is_dead


@pytest.mark.parametrize(
    ("text", "holder"),
    [
        ("box:4242:90000", HOLDER),
        ("box:4242:", Holder("box", 4242, None)),
        ("box:4242", Holder("box", 4242, None)),  # as claims were recorded before
        ("worker-a", None),
        ("box:pid:1", None),
    ],
)
def test_a_claims_holder_is_read_back_from_what_it_recorded(text, holder):
    assert Holder.parse(text) == holder
    if holder is not None and holder.started is not None:
        assert str(holder) == text


def test_this_process_is_running_and_its_parent_started_before_it():
    me = this_process()
    parent = running(os.getppid())

    assert me == running(os.getpid()) and me.started is not None
    assert parent is not None and parent.started is not None and parent.started <= me.started
    assert not dead(me, me.host, running(me.pid))

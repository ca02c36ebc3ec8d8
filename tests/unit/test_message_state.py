"""A digest's state and error from its recipients' deliveries: pure, so tested with tables."""

from __future__ import annotations

import pytest

from monitor.models import Delivery, message_error, message_state

SENT = Delivery("a@example.org", "sent", 1)
REFUSED = Delivery("b@example.org", "refused", 1, "550 5.1.1 no such user")
LATER = Delivery("c@example.org", "failed_temporary", 2, "451 4.3.0 try again later")
UNTRIED = Delivery("d@example.org", "pending")


@pytest.mark.parametrize(
    ("deliveries", "state"),
    [
        ((), "empty"),
        ((UNTRIED,), "pending"),
        ((SENT, UNTRIED), "pending"),
        ((SENT, LATER), "pending"),
        ((REFUSED, LATER), "pending"),
        ((SENT,), "sent"),
        ((SENT, SENT), "sent"),
        ((SENT, REFUSED), "partial"),
        ((REFUSED,), "failed"),
        ((REFUSED, REFUSED), "failed"),
    ],
)
def test_a_digest_is_pending_while_anyone_waits_and_then_says_who_got_it(deliveries, state):
    assert message_state(deliveries) == state


@pytest.mark.parametrize(
    ("deliveries", "error"),
    [
        ((SENT,), None),
        ((UNTRIED,), None),
        ((SENT, REFUSED), "refused b@example.org: 550 5.1.1 no such user"),
        (
            (REFUSED, LATER),
            "refused b@example.org: 550 5.1.1 no such user; "
            "not yet delivered to c@example.org: 451 4.3.0 try again later",
        ),
        (
            (LATER, Delivery("e@example.org", "failed_temporary", 2, LATER.error)),
            "not yet delivered to c@example.org, e@example.org: 451 4.3.0 try again later",
        ),
    ],
)
def test_the_error_names_who_lacks_the_digest_once_per_answer(deliveries, error):
    assert message_error(deliveries) == error

"""Which redirects a feed may follow: one configured at a public address must not be sent to the
poller's own machine or network, unless the config allows it."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.http.redirects import redirect_allowed

PUBLIC = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        (PUBLIC[:1], ["151.101.1.140"], True),  # public to public
        (PUBLIC[1:], ["2a04:4e42::396"], True),
        (PUBLIC[:1], ["127.0.0.1"], False),  # loopback: the poller's own services
        (PUBLIC[:1], ["::1"], False),
        (PUBLIC[:1], ["10.0.0.5"], False),  # private networks
        (PUBLIC[:1], ["192.168.1.1"], False),
        (PUBLIC[:1], ["172.16.0.1"], False),
        (PUBLIC[:1], ["fd00::2"], False),
        (PUBLIC[:1], ["169.254.169.254"], False),  # link-local: a cloud's metadata service
        (PUBLIC[:1], ["fe80::1"], False),
        (PUBLIC[:1], ["0.0.0.0"], False),  # reaches the local machine on Linux
        (PUBLIC[:1], ["::ffff:127.0.0.1"], False),  # IPv4-mapped loopback
        (PUBLIC[:1], ["151.101.1.140", "127.0.0.1"], False),  # any private address of the name
        (PUBLIC, [], True),  # a name that does not resolve: the connection fails on its own
        (["127.0.0.1"], ["127.0.0.1"], True),  # configured on loopback: may go anywhere
        (["192.168.1.10"], ["10.0.0.5"], True),
        (["10.0.0.5", *PUBLIC], ["127.0.0.1"], True),  # configured at a private address too
        ([], ["127.0.0.1"], False),  # a configured name that does not resolve counts as public
    ],
)
def test_a_public_feed_is_not_redirected_to_a_private_address(origin, target, allowed):
    addresses = (
        [ipaddress.ip_address(each) for each in origin],
        [ipaddress.ip_address(each) for each in target],
    )

    assert redirect_allowed(*addresses, allow_private=False) is allowed
    assert redirect_allowed(*addresses, allow_private=True) is True

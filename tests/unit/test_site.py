"""Site description parsing: defaults and messages that name the variable."""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import site


def test_defaults_follow_the_architecture_contract():
    s = site.from_vars({"launch_domain": "Shop.Example."})
    assert s.domain == "shop.example"
    assert s.hosts == ["shop.example", "www.shop.example"]
    assert s.canonical_host == "shop.example"
    assert s.routes == {"homepage": "/"}
    assert s.mail_domain == "shop.example"
    assert s.resolvers == [] and s.expected_addresses == {}
    assert "/checkout" in s.never_cache
    assert s.report_dir == "./reports"


def test_resolvers_with_ports():
    s = site.from_vars({"launch_domain": "a.test", "launch_resolvers": ["127.0.0.53", "127.0.0.1:5353", "[::1]:53"]})
    assert [(r.address, r.port) for r in s.resolvers] == [("127.0.0.53", 53), ("127.0.0.1", 5353), ("::1", 53)]


@pytest.mark.parametrize("variables,needle", [
    ({}, "launch_domain is required"),
    ({"launch_domain": "a.test", "launch_hosts": "https://a.test/"}, "launch_hosts"),
    ({"launch_domain": "a.test", "launch_resolvers": ["dns.google"]}, "launch_resolvers"),
    ({"launch_domain": "a.test", "launch_expected_addresses": {"a.test": ["nope"]}}, "launch_expected_addresses"),
    ({"launch_domain": "a.test", "launch_routes": {"login": "login"}}, "launch_routes.login"),
    ({"launch_domain": "a.test", "launch_timeout": -1}, "launch_timeout"),
    ({"launch_domain": "a.test", "launch_hosts": 5}, "launch_hosts must be a list"),
])
def test_bad_input_names_the_variable(variables, needle):
    with pytest.raises(site.SiteError, match=needle):
        site.from_vars(variables)

"""The cache.* checks against real nginx variants (tests/support/edge_lab.py): the healthy edge passes,
each broken one fails as checks.md says."""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, edge_probe, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_cache as C
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from tests.support import edge_app, edge_lab

CACHE = ("cache.never_cache", "cache.set_cookie", "cache.deception", "cache.static_assets", "cache.edge_hit")


def run(stack, apex, ids=CACHE, **extra):
    found = check_registry.run(site.from_vars(edge_lab.site_vars(stack, apex, **extra)),
                               check_registry.select(ids=ids))
    return {(f.check, f.target): f for f in found}


def by_check(found, check_id):
    return [f for (c, _t), f in found.items() if c == check_id]


def test_catalog_impacts():
    assert {s.id: s.impact for s in (C.NEVER_CACHE, C.SET_COOKIE, C.DECEPTION, C.STATIC_ASSETS, C.EDGE_HIT)} == {
        "cache.never_cache": "blocker", "cache.set_cookie": "blocker", "cache.deception": "blocker",
        "cache.static_assets": "medium", "cache.edge_hit": "low"}


def test_healthy_edge_passes_every_cache_check(edge_stack):
    before = sum(edge_stack.app.hits.values())
    found = run(edge_stack, "good.edge.test")
    bad = {k: (f.status, f.summary) for k, f in found.items() if f.status != "pass"}
    assert not bad
    assert {c for c, _t in found} == set(CACHE)
    never = {f.evidence["path"]: f for f in by_check(found, "cache.never_cache")}
    assert set(never) == {"/checkout", "/cart", "/account", "/login", "/chatbot", "/api", "/api/chat"}
    assert "payment" in never["/checkout"].evidence["why"]  # the never-cache note of the report
    assert "HIT" in by_check(found, "cache.edge_hit")[0].summary
    # Bounded: every URL at most twice, a few dozen requests reach the app in all.
    assert sum(edge_stack.app.hits.values()) - before < 60


def test_checkout_cacheable_fails(edge_stack):
    found = run(edge_stack, "cacheco.edge.test", ["cache.never_cache"])
    checkout = found[("cache.never_cache", "https://cacheco.edge.test/checkout")]
    assert checkout.status == "fail" and checkout.impact == "blocker"
    assert "served from the edge cache on a repeat request (X-Cache-Status: HIT)" in checkout.summary
    assert checkout.evidence["results"][0]["second"]["cache_status"] == "X-Cache-Status: HIT"
    assert "private, no-store" in checkout.fix


def test_set_cookie_on_a_cached_page_fails(edge_stack):
    (f,) = by_check(run(edge_stack, "cookie.edge.test", ["cache.set_cookie"]), "cache.set_cookie")
    assert f.status == "fail" and f.impact == "blocker"
    assert "https://cookie.edge.test/" in f.summary and "session" in f.summary
    failing = [r for r in f.evidence["results"] if r["status"] == "fail"]
    assert failing and all(r["cookies"] == ["session"] for r in failing)
    assert "s3cr3t" not in repr(f.to_dict()), "cookie values never reach the report"


def test_account_css_cached_as_html_fails(edge_stack):
    (f,) = by_check(run(edge_stack, "deception.edge.test", ["cache.deception"]), "cache.deception")
    assert f.status == "fail" and f.impact == "blocker"
    assert "/account/%s answers 200 text/html and was served from the edge cache" % C.DECEPTION_FILE in f.summary


def test_no_cache_on_fingerprinted_assets_fails_and_nothing_is_an_edge_hit(edge_stack):
    found = run(edge_stack, "nocache.edge.test", ["cache.static_assets", "cache.edge_hit"])
    (assets,) = by_check(found, "cache.static_assets")
    assert assets.status == "fail" and assets.impact == "medium"
    assert "fingerprinted https://nocache.edge.test%s is sent with no-cache" % edge_app.CSS in assets.summary
    (hit,) = by_check(found, "cache.edge_hit")
    assert hit.status == "warn" and "X-Cache-Status: MISS" in hit.summary


def test_short_lived_fingerprinted_assets_warn(edge_stack):
    (f,) = by_check(run(edge_stack, "deception.edge.test", ["cache.static_assets"]), "cache.static_assets")
    assert f.status == "warn" and "missing immutable, max-age >= 31536000" in f.summary


def test_unreachable_site_is_an_error(edge_stack):
    found = run(edge_stack, "good.edge.test", launch_resolvers=["127.0.0.72"], launch_timeout=1,
                launch_ca_bundle="/nonexistent/ca.pem")
    assert {f.status for f in found.values()} == {"error"}


# --- reading headers ---------------------------------------------------------------------------------

def _resp(*headers):
    return P.Response(url="https://a.test/x", address="127.0.0.1", status=200, headers=list(headers))


def test_cache_status_headers_of_the_common_edges():
    assert edge_probe.cache_state(_resp(("CF-Cache-Status", "HIT")))[0] == "hit"
    assert edge_probe.cache_state(_resp(("CF-Cache-Status", "DYNAMIC")))[0] == "miss"
    assert edge_probe.cache_state(_resp(("X-Cache", "Hit from cloudfront")))[0] == "hit"
    assert edge_probe.cache_state(_resp(("Cache-Status", "ExampleCache; hit")))[0] == "hit"
    assert edge_probe.cache_state(_resp(("Cache-Status", "ExampleCache; fwd=miss")))[0] == "miss"
    assert edge_probe.cache_state(_resp(("Age", "12")))[0] == "hit"
    assert edge_probe.cache_state(_resp())[0] is None


def test_shared_cacheability():
    assert edge_probe.shared_cacheable(_resp(("Cache-Control", "public, max-age=60")))[0]
    assert not edge_probe.shared_cacheable(_resp(("Cache-Control", "private, max-age=60")))[0]
    assert not edge_probe.shared_cacheable(_resp(("Cache-Control", "max-age=60, no-store")))[0]
    assert edge_probe.shared_cacheable(_resp(("Cache-Control", "private"), ("Cache-Control", "s-maxage=9")))[0] \
        is False
    assert edge_probe.shared_cacheable(_resp(("Cache-Control", "s-maxage=9")))[0]
    # RFC 9111 4.2.2: a 200 without Cache-Control is heuristically cacheable; a 429 or 500 is not.
    assert edge_probe.shared_cacheable(_resp()) == (True, edge_probe.storability(_resp()).why)
    assert edge_probe.storability(_resp()).rule == "heuristic"
    limited = P.Response(url="https://a.test/login", address="127.0.0.1", status=429, headers=[])
    assert not edge_probe.shared_cacheable(limited)[0]
    assert edge_probe.storability(limited).rule == "not-heuristic"


def test_fingerprints_and_never_cache_reasons():
    assert edge_probe.fingerprinted("https://a.test/static/app.0123abcd4567.css")
    assert edge_probe.fingerprinted("https://a.test/assets/chunk-3f2a9c1b.js")
    assert not edge_probe.fingerprinted("https://a.test/static/logo.png")
    assert "cart" in C.never_cache_why("/cart/items")
    assert C.never_cache_why("/api/chat") != C.never_cache_why("/api/orders")
    assert "launch_never_cache" in C.never_cache_why("/wishlist")

"""The record-set runner (dns_record_sets) and the Cloudflare client/provider against the local API server."""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api as C
from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_dns as D
from ansible_collections.launchready.ops.plugins.module_utils import dns_record_sets as R
from tests.support.cloudflare_api import CloudflareAPI

TOKEN = "unit-token"


# ------------------------------------------------------------------ values

def test_fqdn_forms():
    assert R.fqdn("@", "Shop.Test.") == "shop.test"
    assert R.fqdn("www", "shop.test") == "www.shop.test"
    assert R.fqdn("WWW.shop.test", "shop.test") == "www.shop.test"
    assert R.fqdn("mail.other.test.", "shop.test") == "mail.other.test"


def test_txt_is_cut_into_255_octet_strings_never_inside_a_character():
    text = "p=" + "A" * 300
    assert [len(s) for s in R.txt_strings(text)] == [255, 47]
    assert R.txt_quoted(text) == '"%s" "%s"' % (text[:255], text[255:])
    wide = "x" * 254 + "é" + "y"  # the two octets of é would straddle octet 255
    parts = R.txt_strings(wide)
    assert parts == ["x" * 254, "éy"] and all(len(p.encode()) <= 255 for p in parts)
    assert R.txt_text(R.txt_quoted('say "hi" \\ there')) == 'say "hi" \\ there'


def test_txt_text_reads_plain_and_quoted_forms():
    assert R.txt_text('"v=spf1 " "-all"') == "v=spf1 -all"
    assert R.txt_text("v=spf1 -all") == "v=spf1 -all"
    assert R.txt_text('"a\\059b"') == "a;b"
    assert R.normalize("MX", "10 Mail.Shop.Test.") == "10 mail.shop.test"


def test_merge_keeps_values_owned_by_others():
    want = R.Want("shop.test", "TXT", ["v=spf1 ip4:192.0.2.1 -all"], value_prefix="v=spf1")
    merged = R.merge(want, ["google-site-verification=x", "v=spf1 ip4:192.0.2.9 ~all"])
    assert merged["after"] == ["google-site-verification=x", "v=spf1 ip4:192.0.2.1 -all"]
    assert merged["foreign"] == ["google-site-verification=x"] and merged["changed"]
    assert not R.merge(want, merged["after"])["changed"]
    gone = R.merge(R.Want("shop.test", "TXT", [], state="absent", value_prefix="v=spf1"), merged["after"])
    assert gone["after"] == ["google-site-verification=x"]


def test_plan_reuses_an_object_updates_ttl_and_never_touches_foreign_ones():
    existing = [R.Existing("a", "google-site-verification=x", 1), R.Existing("b", "v=spf1 -all", 300),
                R.Existing("c", "v=spf1 ip4:192.0.2.2 -all", 300)]
    want = R.Want("shop.test", "TXT", ["v=spf1 ip4:192.0.2.1 -all"], ttl=300, value_prefix="v=spf1")
    plan = R.plan(want, existing)
    assert [(e.id, v) for e, v in plan.update] == [("b", "v=spf1 ip4:192.0.2.1 -all")]
    assert [e.id for e in plan.delete] == ["c"] and plan.create == [] and plan.changed
    same = R.plan(want, [existing[0], R.Existing("b", "v=spf1 ip4:192.0.2.1 -all", 300)])
    assert not same.changed
    ttl = R.plan(want, [R.Existing("b", "v=spf1 ip4:192.0.2.1 -all", 60)])
    assert [e.id for e, _v in ttl.update] == ["b"]


def test_want_from_dict_checks_its_input():
    with pytest.raises(ValueError, match="needs at least one value"):
        R.want_from_dict({"name": "@", "type": "TXT"}, "shop.test")
    with pytest.raises(ValueError, match="state must be"):
        R.want_from_dict({"name": "@", "type": "TXT", "values": ["x"], "state": "gone"}, "shop.test")
    want = R.want_from_dict({"record": "_dmarc", "type": "txt", "value": "v=DMARC1; p=none"}, "shop.test", 300)
    assert (want.name, want.type, want.values, want.ttl) == ("_dmarc.shop.test", "TXT", ["v=DMARC1; p=none"], 300)


# ------------------------------------------------------------------ Cloudflare client and provider

@pytest.fixture
def api():
    server = CloudflareAPI(tokens=[TOKEN]).start()
    try:
        server.add_zone("shop.test")
        yield server
    finally:
        server.stop()


def client(api: CloudflareAPI, token: str = TOKEN) -> C.CloudflareClient:
    return C.CloudflareClient(token, api.url, timeout=5, verify=api.ca_file)


def test_pagination_reads_every_page(api):
    for n in range(130):
        api.add_record("shop.test", {"type": "A", "name": "h%d.shop.test" % n, "content": "192.0.2.%d" % (n % 250)})
    zone_id = client(api).zone_id("shop.test")
    items = client(api).paginate("/zones/%s/dns_records" % zone_id, {"type": "A"}, per_page=50)
    assert len(items) == 130 and len({i["id"] for i in items}) == 130
    pages = [r["query"].get("page") for r in api.requests if r["path"].endswith("/dns_records")]
    assert pages == ["1", "2", "3"]


def test_errors_carry_cloudflare_codes(api):
    with pytest.raises(C.CloudflareError, match=r"HTTP 403: \[10000\] Authentication error") as caught:
        client(api, "wrong").zone_id("shop.test")
    assert caught.value.status == 403
    with pytest.raises(C.CloudflareError, match="no zone named other.test"):
        client(api).zone_id("other.test")
    api.fail(429, 10013, "Rate limited", path="/dns_records")
    zone_id = client(api).zone_id("shop.test")
    with pytest.raises(C.CloudflareError, match=r"HTTP 429: \[10013\] Rate limited"):
        client(api).dns_records(zone_id, "shop.test", "TXT")


def test_unreachable_api_is_a_clear_error():
    with pytest.raises(C.CloudflareError, match="cannot reach"):
        C.CloudflareClient(TOKEN, "https://127.0.0.1:9/client/v4", timeout=2).zone_id("shop.test")


def test_the_server_refuses_what_the_api_documents_as_wrong(api):
    zone_id = client(api).zone_id("shop.test")
    cl = client(api)
    with pytest.raises(C.CloudflareError, match="9021"):
        cl.create_dns_record(zone_id, {"type": "TXT", "name": "shop.test", "content": '"x"', "ttl": 5})
    with pytest.raises(C.CloudflareError, match="not inside the zone"):
        cl.create_dns_record(zone_id, {"type": "TXT", "name": "other.test", "content": '"x"', "ttl": 1})
    with pytest.raises(C.CloudflareError, match="limited to 255 octets"):
        cl.create_dns_record(zone_id, {"type": "TXT", "name": "shop.test", "content": '"%s"' % ("a" * 300)})
    with pytest.raises(C.CloudflareError, match="cannot be proxied"):
        cl.create_dns_record(zone_id, {"type": "TXT", "name": "shop.test", "content": '"x"', "proxied": True})
    with pytest.raises(C.CloudflareError, match="per_page"):
        cl.paginate("/zones", per_page=100)
    assert api.writes() and all(w["status"] == 400 for w in api.writes())


def test_sync_publishes_a_long_dkim_key_and_is_then_idempotent(api):
    key = "v=DKIM1; k=rsa; p=" + "B" * 392
    wants = [R.want_from_dict({"name": "s1._domainkey", "type": "TXT", "values": [key], "ttl": 300}, "shop.test"),
             R.want_from_dict({"name": "@", "type": "MX", "values": ["10 mail.shop.test."], "ttl": 300}, "shop.test")]
    first = D.sync(client(api), "shop.test", wants)
    assert first["changed"] and {c["action"] for c in first["changes"]} == {"create"}
    stored = api.records("shop.test", "s1._domainkey.shop.test", "TXT")[0]["content"]
    assert stored == R.txt_quoted(key) and R.txt_text(stored) == key
    assert api.records("shop.test", "shop.test", "MX")[0]["priority"] == 10
    again = D.sync(client(api), "shop.test", wants)
    assert not again["changed"] and again["diff"] == []


def test_sync_refuses_what_cloudflare_would_refuse_before_any_call(api):
    bad = [R.want_from_dict({"name": "@", "type": "TXT", "values": ["x"], "proxied": True}, "shop.test")]
    with pytest.raises(ValueError, match="only A, AAAA and CNAME"):
        D.sync(client(api), "shop.test", bad)
    assert api.requests == []

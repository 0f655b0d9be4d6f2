"""The shared kit of the check families: one status order, one parallel map (issue #14 item 6)."""

from __future__ import annotations

import importlib
import pathlib
import re
import threading
import time

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import parallel
from ansible_collections.launchready.ops.plugins.module_utils import verdicts as V
from ansible_collections.launchready.ops.plugins.plugin_utils import reports


def test_status_order_is_fail_error_warn_pass_skip():
    assert V.STATUS_ORDER == (F.FAIL, F.ERROR, F.WARN, F.PASS, F.SKIP)
    assert set(V.STATUS_ORDER) == set(F.STATUSES)


def test_worst_status_picks_the_worst_and_no_status_is_never_a_pass():
    assert V.worst_status([F.PASS, F.WARN, F.ERROR]) == F.ERROR
    assert V.worst_status([F.ERROR, F.FAIL, F.PASS]) == F.FAIL
    assert V.worst_status([]) == F.ERROR
    assert V.worst_status([], default=F.PASS) == F.PASS


def test_worst_item_is_the_first_of_the_worst():
    items = [("a", F.PASS), ("b", F.WARN), ("c", F.WARN), ("d", F.SKIP)]
    assert V.worst(items, status=lambda item: item[1]) == ("b", F.WARN)
    assert V.worst([], status=lambda item: item[1]) is None


def test_address_count_says_how_many_addresses_share_the_status():
    assert V.address_count(F.FAIL, [F.FAIL, F.FAIL]) == " (fail at all 2 addresses)"
    assert V.address_count(F.FAIL, [F.FAIL, F.PASS, F.FAIL]) == " (fail at 2 of 3 addresses)"


def test_each_keeps_input_order_and_runs_at_most_workers_at_once():
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def slow(x):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return x * 2

    assert parallel.each(slow, range(8), workers=3) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert 1 < state["peak"] <= 3
    assert parallel.each_by(slow, ["b", "a"], workers=2) == {"b": "bb", "a": "aa"}
    assert parallel.each(slow, [], workers=4) == []


def test_each_guarded_returns_an_exception_as_that_items_value():
    def boom(x):
        if x == 2:
            raise RuntimeError("bad target")
        return x

    out = parallel.each_guarded(boom, [1, 2, 3], workers=4)
    assert out[0] == 1 and out[2] == 3
    assert isinstance(out[1], RuntimeError)


def _all_specs() -> list:
    specs = []
    for name in reports.SPEC_MODULES:
        module = importlib.import_module("ansible_collections.launchready.ops.plugins." + name)
        specs.extend(v for v in vars(module).values() if isinstance(v, F.CheckSpec))
    return specs


def test_every_check_says_why_it_exists_and_keeps_its_title_short():
    specs = _all_specs()
    assert len({s.id for s in specs}) >= 55
    for spec in specs:
        assert spec.why and spec.why.endswith("."), "%s: why= must give the reason the check exists" % spec.id
        assert not re.search(r"\((blocker|high|medium|low)\b", spec.title), \
            "%s: the reason belongs in why=, not in the title: %r" % (spec.id, spec.title)


def test_every_module_defining_specs_is_in_the_reports_list():
    root = pathlib.Path(reports.__file__).resolve().parents[1]
    defining = {"%s.%s" % (p.parent.name, p.stem) for p in root.glob("*_utils/*.py")
                if "F.CheckSpec(" in p.read_text(encoding="utf-8")}
    assert defining == set(reports.SPEC_MODULES)


def test_the_reports_show_why_beside_the_fix_and_json_keeps_its_contract():
    finding = F.Finding(check="cache.set_cookie", status=F.FAIL, impact=F.BLOCKER, stage="edge",
                        target="shop.test", summary="/ sets a cookie and is cacheable", fix="Send no-store.")
    report = reports.build("shop.test", [finding], generated="2026-12-03T00:00:00Z")
    why = reports.why("cache.set_cookie")
    assert why.startswith("A cached response that sets a cookie")
    assert "Send no-store. *Why it matters: %s*" % why in reports.render_markdown(report)
    assert "<div class='why'>Why it matters: %s</div>" % why in reports.render_html(report)
    assert set(report["risks"][0]) == {"rank", "check", "status", "impact", "targets", "summary", "fix", "blocks"}
    assert "why" not in report["findings"][0]
    assert reports.why("no.such_check") == ""

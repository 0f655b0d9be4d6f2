"""The shared kit of the check families: one status order, one parallel map (issue #14 item 6)."""

from __future__ import annotations

import importlib
import re
import threading
import time

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import parallel
from ansible_collections.launchready.ops.plugins.module_utils import verdicts as V


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


SPEC_MODULES = ("module_utils.app_env", "module_utils.checks_cache", "module_utils.checks_content",
                "module_utils.checks_deploy", "module_utils.checks_dns", "module_utils.checks_edge",
                "module_utils.checks_email", "module_utils.checks_http", "module_utils.checks_monitoring",
                "module_utils.checks_privacy", "module_utils.checks_renewal", "module_utils.checks_secrets",
                "module_utils.checks_tls", "module_utils.logs_pii", "plugin_utils.load_check")


def _all_specs() -> list:
    specs = []
    for name in SPEC_MODULES:
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

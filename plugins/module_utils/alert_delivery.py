# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send a test alert through every owner's routes and time its delivery (monitor.alert_delivery).

One alert per owner is posted to Alertmanager's API (v2) with ``owner`` set, so the owner's
route takes it; delivery is read from Alertmanager's own counters per integration
(``alertmanager_notifications_total`` / ``_failed_total``), which count what the SMTP relay
and the Slack webhook accepted. Owners are tested one after another, so each increase belongs
to one route. Only the configured Alertmanager URL is contacted, each request with a timeout,
under one total deadline per owner.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

from ansible_collections.launchready.ops.plugins.module_utils import api_session

INTEGRATIONS = {"email": "email", "slack_webhook_url": "slack"}
_COUNTER = re.compile(r'^alertmanager_notifications(_failed)?_total\{integration="([a-z]+)"\} ([0-9.e+]+)$', re.M)


def _counters(http, base: str, timeout: float) -> dict:
    text = http.get(base + "/metrics", timeout=timeout).text
    out: dict = {}
    for failed, integration, value in _COUNTER.findall(text):
        out[(integration, bool(failed))] = float(value)
    return out


def send_and_wait(base: str, routes_by_owner: dict, deadline: float = 60.0, timeout: float = 5.0,
                  site: str = "") -> list:
    """[{owner, integration, delivered, seconds, error}] for every (owner, route)."""
    base = base.rstrip("/")
    http = api_session.session()
    results = []
    for owner, keys in routes_by_owner.items():
        wanted = [INTEGRATIONS[k] for k in keys if k in INTEGRATIONS]
        try:
            before = _counters(http, base, timeout)
            now = dt.datetime.now(dt.timezone.utc)
            alert = {"labels": {"alertname": "LaunchreadyTestAlert", "owner": owner, "severity": "info",
                                "site": site or "test", "test_id": uuid.uuid4().hex[:12]},
                     "annotations": {"summary": "launchready.ops alert_test: a test of the %s route" % owner},
                     "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=5)).isoformat()}
            start = time.monotonic()
            http.post(base + "/api/v2/alerts", json=[alert], timeout=timeout).raise_for_status()
        except api_session.RequestException as exc:
            results += [{"owner": owner, "integration": i, "delivered": False, "error": str(exc)} for i in wanted]
            continue
        pending = set(wanted)
        done: dict = {}
        while pending and time.monotonic() - start < deadline:
            time.sleep(0.2)
            try:
                now_counts = _counters(http, base, timeout)
            except api_session.RequestException:
                continue
            for integration in list(pending):
                sent = now_counts.get((integration, False), 0) - before.get((integration, False), 0)
                failed = now_counts.get((integration, True), 0) - before.get((integration, True), 0)
                if failed > 0:
                    done[integration] = {"delivered": False, "error": "Alertmanager reports a failed notification "
                                         "(see its log for the relay's or webhook's answer)"}
                    pending.discard(integration)
                elif sent > 0:
                    done[integration] = {"delivered": True, "seconds": round(time.monotonic() - start, 2)}
                    pending.discard(integration)
        for integration in wanted:
            entry = done.get(integration, {"delivered": False, "error": "no notification within %.0f s" % deadline})
            results.append(dict({"owner": owner, "integration": integration}, **entry))
    return results

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Stage 4 checks (observability), as the catalog in checks.md defines them.

They judge facts gathered elsewhere, carried by ``MonitorFacts``: what the monitoring
configuration probes and which rules it has (monitoring_config.build), which test alerts
reached which route (alert_delivery), and a request id sent to the site beside the log lines
that hold it. Missing facts make a check ``skip`` with the reason, never a pass.
"""

from __future__ import annotations

import dataclasses
import re

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check

MAX_INTERVAL = 60
MONITORED_ROUTES = ("homepage", "checkout", "health", "chatbot")
MIN_CERT_ALERT_DAYS = 7


@dataclasses.dataclass
class MonitorFacts:
    domain: str
    hosts: list = dataclasses.field(default_factory=list)
    routes: dict = dataclasses.field(default_factory=dict)      # launch_routes
    targets: list | None = None        # [{host, route, url, ...}] from monitoring_config
    interval: int | None = None        # seconds between probes
    rules: dict | None = None          # the alert rules file as data
    deliveries: list | None = None     # [{owner, integration, delivered, seconds, error}]
    request_id: dict | None = None     # {url, sent, returned, log_files, log_hits, error}


# --- monitor.uptime_targets ---------------------------------------------------------------------

UPTIME_TARGETS = F.CheckSpec(
    id="monitor.uptime_targets", impact=F.HIGH, stage="observability",
    title="Probes cover the homepage, checkout, API health and chatbot health of every public host, every 60 s or "
          "more often",
    fix="Run launchready.ops.monitoring with launch_routes naming homepage, checkout, health and chatbot, and "
        "monitoring_interval <= 60 (monitoring_probes sets the method and body of routes a GET cannot check).",
    why="A route no probe watches goes down unnoticed until customers find the outage first.")


@check(UPTIME_TARGETS)
def uptime_targets(facts: MonitorFacts, probes) -> list:
    if facts.targets is None:
        return [F.make(UPTIME_TARGETS, F.SKIP, facts.domain, "no monitoring configuration to judge")]
    covered = {(t["host"], t["route"]) for t in facts.targets}
    missing = ["%s %s" % (host, route) for host in facts.hosts for route in MONITORED_ROUTES
               if route in facts.routes and (host, route) not in covered]
    unset = [r for r in MONITORED_ROUTES if r not in facts.routes]
    ev = {"interval": facts.interval, "probes": sorted("%s %s" % c for c in covered), "not_configured": unset}
    if missing:
        return [F.make(UPTIME_TARGETS, F.FAIL, facts.domain, "unmonitored: %s" % ", ".join(missing), evidence=ev)]
    if facts.interval is None or facts.interval > MAX_INTERVAL:
        return [F.make(UPTIME_TARGETS, F.FAIL, facts.domain, "probes run every %s s, more than %d s"
                       % (facts.interval, MAX_INTERVAL), evidence=ev)]
    if unset:
        return [F.make(UPTIME_TARGETS, F.FAIL, facts.domain, "launch_routes names no %s route, so nothing "
                       "probes it" % ", ".join(unset), evidence=ev)]
    return [F.make(UPTIME_TARGETS, F.PASS, facts.domain, "%d probes cover %s on %d hosts every %d s"
                   % (len(facts.targets), ", ".join(MONITORED_ROUTES), len(facts.hosts), facts.interval),
                   evidence=ev)]


# --- monitor.alert_delivery ---------------------------------------------------------------------

ALERT_DELIVERY = F.CheckSpec(
    id="monitor.alert_delivery", impact=F.HIGH, stage="observability",
    title="A test alert reaches every configured route (email, Slack) with its owner",
    fix="Run `ansible-playbook launchready.ops.alert_test` and fix the route it names: SMTP relay and "
        "credentials (monitoring_smtp), or the Slack webhook URL of the owner.",
    why="An alert nobody receives is no alert.")


@check(ALERT_DELIVERY)
def alert_delivery(facts: MonitorFacts, probes) -> list:
    if facts.deliveries is None:
        return [F.make(ALERT_DELIVERY, F.SKIP, facts.domain, "no test alert sent (launchready.ops.alert_test)")]
    if not facts.deliveries:
        return [F.make(ALERT_DELIVERY, F.FAIL, facts.domain, "no alert route is configured")]
    out = []
    for d in facts.deliveries:
        target = "%s/%s" % (d["owner"], d["integration"])
        if d.get("delivered"):
            out.append(F.make(ALERT_DELIVERY, F.PASS, target, "test alert delivered to %s by %s in %.1f s"
                              % (d["owner"], d["integration"], d.get("seconds") or 0), evidence=dict(d)))
        else:
            out.append(F.make(ALERT_DELIVERY, F.FAIL, target, "test alert for %s not delivered by %s: %s"
                              % (d["owner"], d["integration"], d.get("error") or "no notification seen"),
                              evidence=dict(d)))
    return out


# --- monitor.cert_expiry_alert ------------------------------------------------------------------

CERT_EXPIRY_ALERT = F.CheckSpec(
    id="monitor.cert_expiry_alert", impact=F.HIGH, stage="observability",
    title="An alert rule fires before the certificate expires",
    fix="Keep the CertExpiringSoon rule of launchready.ops.monitoring (monitoring_cert_days, default 14) and "
        "probe every public host over HTTPS.",
    why="An expired certificate takes the whole site down.")

_CERT_RULE = re.compile(r"probe_ssl_earliest_cert_expiry.*-\s*time\(\)\s*\)?\s*<\s*([0-9.e+]+)")


@check(CERT_EXPIRY_ALERT)
def cert_expiry_alert(facts: MonitorFacts, probes) -> list:
    if facts.rules is None:
        return [F.make(CERT_EXPIRY_ALERT, F.SKIP, facts.domain, "no monitoring configuration to judge")]
    found = []
    for group in facts.rules.get("groups") or []:
        for rule in group.get("rules") or []:
            m = _CERT_RULE.search(str(rule.get("expr", "")))
            if rule.get("alert") and m:
                found.append({"alert": rule["alert"], "days": float(m.group(1)) / 86400,
                              "owner": (rule.get("labels") or {}).get("owner")})
    ev = {"rules": found}
    good = [r for r in found if r["days"] >= MIN_CERT_ALERT_DAYS and r["owner"]]
    if not good:
        return [F.make(CERT_EXPIRY_ALERT, F.FAIL, facts.domain, "no alert rule with an owner fires %d days or more "
                       "before a certificate expires" % MIN_CERT_ALERT_DAYS, evidence=ev)]
    tls_hosts = {t["host"] for t in facts.targets or [] if str(t.get("url", "")).startswith("https://")}
    unprobed = [h for h in facts.hosts if h not in tls_hosts]
    if unprobed:
        return [F.make(CERT_EXPIRY_ALERT, F.FAIL, facts.domain, "the rule exists but no HTTPS probe reads the "
                       "certificate of %s" % ", ".join(unprobed), evidence=ev)]
    best = max(good, key=lambda r: r["days"])
    return [F.make(CERT_EXPIRY_ALERT, F.PASS, facts.domain, "%s alerts %s %g days before a certificate expires"
                   % (best["alert"], best["owner"], best["days"]), evidence=ev)]


# --- logs.request_id ----------------------------------------------------------------------------

REQUEST_ID = F.CheckSpec(
    id="logs.request_id", impact=F.MEDIUM, stage="observability",
    title="Responses carry X-Request-ID and the app's logs hold it",
    fix="Return X-Request-ID on every response (keep the one the edge sends when well formed) and log one "
        "JSON line per request with request_id, route, status, duration and release.",
    why="Without a request id an error report cannot be tied to a route and a release.")


@check(REQUEST_ID)
def request_id(facts: MonitorFacts, probes) -> list:
    r = facts.request_id
    if r is None:
        return [F.make(REQUEST_ID, F.SKIP, facts.domain, "no request sent, or launch_log_paths not set")]
    ev = dict(r)
    if r.get("error"):
        return [F.make(REQUEST_ID, F.ERROR, facts.domain, "could not check: %s" % r["error"], evidence=ev)]
    if not r.get("returned"):
        return [F.make(REQUEST_ID, F.FAIL, facts.domain, "%s answered without X-Request-ID" % r["url"], evidence=ev)]
    if not r.get("log_hits"):
        return [F.make(REQUEST_ID, F.FAIL, facts.domain, "the response carried X-Request-ID %s but no log under %s "
                       "holds it" % (r["returned"], ", ".join(r.get("log_files") or ["(none)"])), evidence=ev)]
    structured = [line for line in r["log_hits"] if all(k in line for k in ('"route"', '"status"', '"release"'))]
    if not structured:
        return [F.make(REQUEST_ID, F.WARN, facts.domain, "the logs hold request id %s, but not with route, status "
                       "and release in one line" % r["returned"], evidence=ev)]
    if r.get("echoed") is False and r.get("sent"):
        return [F.make(REQUEST_ID, F.WARN, facts.domain, "the logs hold request id %s, but it replaced the %s that was "
                       "sent: an id a client or the edge sends is not kept end to end" % (r["returned"], r["sent"]),
                       evidence=ev)]
    return [F.make(REQUEST_ID, F.PASS, facts.domain, "X-Request-ID %s came back and the log line holds its route, "
                   "status and release" % r["returned"], evidence=ev)]


IDS = tuple(spec.id for spec in (UPTIME_TARGETS, ALERT_DELIVERY, CERT_EXPIRY_ALERT, REQUEST_ID))


def evaluate(facts: MonitorFacts, ids: list | None = None) -> list:
    """Findings of the Stage 4 checks (all, or ``ids``) for one site."""
    return check_registry.run(facts, check_registry.select(ids=ids or IDS), workers=1)

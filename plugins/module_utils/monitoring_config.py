# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Stage 4 monitoring stack, built from the site description: Prometheus, blackbox, Alertmanager.

``build(site_vars, settings)`` validates every input against a strict pattern first (names,
paths, URLs, label values, addresses), then returns the configurations as plain data. The
role writes them with ``to_nice_yaml``, so every value is quoted by the YAML dumper and
nothing a user typed is ever spliced into a config as text (issue #12 item 1).

What it builds (from checks.md, Stage 4):

- one blackbox HTTP module per (public host, route): Host header and SNI set to the host,
  the address resolved through ``launch_resolvers`` (or ``launch_expected_addresses``), the
  site's CA bundle; the homepage probe also yields the certificate expiry;
- one DNS probe per configured resolver; the app's /metrics scraped;
- alert rules carrying ``owner`` and ``severity``; SiteDown inhibits the symptom alerts;
- Alertmanager routes per owner to email and Slack, resolved notifications on;
- a ``promtool test rules`` fixture proving SiteDown and the certificate alert fire.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod

# Names that become Prometheus label values, job/module/receiver names.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
URL_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")
ABS_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}$")
HOST_PORT = re.compile(r"^([a-z0-9.-]+|\[[0-9a-f:]+\]):[0-9]{1,5}$")
SLACK_CHANNEL = re.compile(r"^#[a-z0-9_-]{1,80}$")
ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{1,62}$")

# Routes a site must have monitored (monitor.uptime_targets): homepage, checkout, API health, chatbot.
MONITORED_ROUTES = ("homepage", "checkout", "health", "chatbot")
MAX_INTERVAL = 60

# The symptom alerts that SiteDown inhibits: they say nothing new while the whole site is down.
SYMPTOMS = ("RouteDown", "HighErrorRatio", "HighLatencyP95", "CheckoutFailures", "AppMetricsDown")
ALERTS = ("SiteDown", "CertExpiringSoon", "DnsProbeFailed") + SYMPTOMS
TEST_ALERT = "LaunchreadyTestAlert"

DEFAULTS: dict = {
    "provider": "prometheus",     # or "uptimerobot": the hosted monitors send the email themselves (no SMTP)
    "interval": 60,               # seconds between probes and scrapes (monitor.uptime_targets wants <= 60)
    "evaluation_interval": None,  # rule evaluation; default: interval
    "alert_for": None,            # seconds a condition must hold; default: 2 intervals
    "blackbox_address": "127.0.0.1:9115",
    "alertmanager_address": "127.0.0.1:9093",
    "metrics_targets": [],        # host:port of the app's /metrics
    "metrics_path": "/metrics",
    "probes": {},                 # {route: {method, body, headers, valid_status_codes}}
    "owners": [],                 # [{name, email, slack_webhook_url, slack_channel}]
    "default_owner": None,
    "rule_owners": {},            # {AlertName: owner}
    "smtp": {},                   # {smarthost, from, auth_username, auth_password, require_tls}
    "group_wait": 30,
    "group_interval": 300,
    "repeat_interval": 14400,
    "p95_budget_seconds": 1.0,
    "error_ratio": 0.05,
    "checkout_failure_ratio": 0.2,
    "cert_days": 14,
    "rules_file": "/etc/prometheus/launchready.rules.yml",
    "timeout": 5,                 # probe timeout, seconds (capped below the interval)
    "extra_rules": [],            # more alert rules; their expressions are checked by promtool only
    "extra_routes": [],           # more Alertmanager routes {matchers, receiver, continue}; amtool checks them
}


class MonitoringConfigError(ValueError):
    """A monitoring setting is invalid; the message names the variable and the value."""


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise MonitoringConfigError(message)


def _match(pattern: t.Pattern, value: t.Any, var: str) -> str:
    _need(isinstance(value, str) and pattern.match(value) is not None,
          "%s must match %s, got %r" % (var, pattern.pattern, value))
    return value


def _seconds(value: t.Any, var: str, low: float, high: float) -> int:
    _need(isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high,
          "%s must be a number of seconds from %s to %s, got %r" % (var, low, high, value))
    return int(value)


def _number(value: t.Any, var: str, low: float, high: float) -> float:
    _need(isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high,
          "%s must be a number from %s to %s, got %r" % (var, low, high, value))
    return float(value)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def webhook_url(value: t.Any, var: str) -> str:
    """An incoming-webhook URL: https, or http only to a loopback sink (the lab's)."""
    _need(isinstance(value, str) and len(value) <= 2048 and not re.search(r"[\s\"'\\{}<>]", value or ""),
          "%s must be a URL without spaces, quotes or braces" % var)
    parts = urllib.parse.urlsplit(value)
    _need(parts.scheme in ("https", "http") and bool(parts.hostname) and not parts.username,
          "%s must be an https:// URL with a host and no credentials" % var)
    _need(parts.scheme == "https" or _is_loopback(parts.hostname or ""),
          "%s must use https (http is allowed only to a loopback sink)" % var)
    return value


def _dur(seconds: int) -> str:
    return "%ds" % seconds


def _slug(host: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", host)


def settings_from(raw: dict) -> dict:
    """The monitoring settings with defaults, each validated; messages name monitoring_<key>."""
    s = dict(DEFAULTS)
    unknown = set(raw) - set(DEFAULTS)
    _need(not unknown, "unknown monitoring settings: %s" % ", ".join(sorted(unknown)))
    s.update({k: v for k, v in raw.items() if v is not None})
    v = "monitoring_"
    s["interval"] = _seconds(s["interval"], v + "interval", 1, 3600)
    s["evaluation_interval"] = _seconds(s["evaluation_interval"] or s["interval"], v + "evaluation_interval", 1, 3600)
    s["alert_for"] = _seconds(s["alert_for"] if s["alert_for"] is not None else 2 * s["interval"],
                              v + "alert_for", 0, 86400)
    # A probe must end before its scrape does, and a scrape before the next one starts.
    s["timeout"] = min(_seconds(s["timeout"], v + "timeout", 1, 60), s["interval"])
    for key in ("group_wait", "group_interval", "repeat_interval"):
        s[key] = _seconds(s[key], v + key, 1, 7 * 86400)
    s["p95_budget_seconds"] = _number(s["p95_budget_seconds"], v + "p95_budget_seconds", 0.001, 600)
    s["error_ratio"] = _number(s["error_ratio"], v + "error_ratio", 0.0001, 1)
    s["checkout_failure_ratio"] = _number(s["checkout_failure_ratio"], v + "checkout_failure_ratio", 0.0001, 1)
    s["cert_days"] = _seconds(s["cert_days"], v + "cert_days", 1, 365)
    _match(HOST_PORT, s["blackbox_address"], v + "blackbox_address")
    _match(HOST_PORT, s["alertmanager_address"], v + "alertmanager_address")
    _need(isinstance(s["metrics_targets"], list), v + "metrics_targets must be a list of host:port")
    for i, target in enumerate(s["metrics_targets"]):
        _match(HOST_PORT, target, "%smetrics_targets[%d]" % (v, i))
    _match(URL_PATH, s["metrics_path"], v + "metrics_path")
    _match(ABS_PATH, s["rules_file"], v + "rules_file")
    s["owners"] = [_owner(o, i) for i, o in enumerate(s["owners"] or [])]
    _need(bool(s["owners"]), "monitoring_owners must name at least one owner ({name, email and/or "
          "slack_webhook_url}): every alert needs someone who receives it")
    names = [o["name"] for o in s["owners"]]
    _need(len(set(names)) == len(names), "monitoring_owners: owner names must be unique, got %r" % names)
    s["default_owner"] = s["default_owner"] or names[0]
    _need(s["default_owner"] in names, "monitoring_default_owner must be one of %s, got %r"
          % (names, s["default_owner"]))
    _need(isinstance(s["rule_owners"], dict), v + "rule_owners must map an alert name to an owner")
    for alert, owner in s["rule_owners"].items():
        _need(alert in ALERTS, "monitoring_rule_owners: unknown alert %r (known: %s)" % (alert, ", ".join(ALERTS)))
        _need(owner in names, "monitoring_rule_owners.%s must be one of %s, got %r" % (alert, names, owner))
    _need(s["provider"] in ("prometheus", "uptimerobot"),
          "monitoring_provider must be prometheus or uptimerobot, got %r" % (s["provider"],))
    s["smtp"] = _smtp(s["smtp"] or {}, s["provider"] == "prometheus" and any(o.get("email") for o in s["owners"]))
    s["extra_rules"] = [_extra_rule(r, i, names) for i, r in enumerate(s["extra_rules"] or [])]
    s["extra_routes"] = [_extra_route(r, i, names) for i, r in enumerate(s["extra_routes"] or [])]
    _need(isinstance(s["probes"], dict), v + "probes must map a route name to {method, body, headers}")
    for route, probe in s["probes"].items():
        _probe_override(route, probe)
    return s


def _text(value: t.Any, var: str, limit: int = 2048) -> str:
    _need(isinstance(value, str) and re.match(r"^[\x20-\x7e]{1,%d}$" % limit, value) is not None,
          "%s must be one line of printable ASCII (at most %d characters), got %r" % (var, limit, value))
    return value


def _extra_rule(raw: t.Any, i: int, owners: list) -> dict:
    var = "monitoring_extra_rules[%d]" % i
    _need(isinstance(raw, dict), var + " must be a mapping {alert, expr, for, owner, severity, summary}")
    unknown = set(raw) - {"alert", "expr", "for", "owner", "severity", "summary"}
    _need(not unknown, "%s: unknown keys %s" % (var, ", ".join(sorted(unknown))))
    owner = raw.get("owner", owners[0])
    _need(owner in owners, "%s.owner must be one of %s, got %r" % (var, owners, owner))
    severity = raw.get("severity", "warning")
    _need(severity in ("critical", "warning", "info"), "%s.severity must be critical, warning or info" % var)
    return {"alert": _match(ALERT_NAME, raw.get("alert"), var + ".alert"),
            "expr": _text(raw.get("expr"), var + ".expr"),
            "for": _dur(_seconds(raw.get("for", 0), var + ".for", 0, 86400)),
            "labels": {"owner": owner, "severity": severity},
            "annotations": {"summary": _text(raw.get("summary", raw.get("alert")), var + ".summary", 512)}}


def _extra_route(raw: t.Any, i: int, owners: list) -> dict:
    var = "monitoring_extra_routes[%d]" % i
    _need(isinstance(raw, dict), var + " must be a mapping {matchers, receiver, continue}")
    unknown = set(raw) - {"matchers", "receiver", "continue"}
    _need(not unknown, "%s: unknown keys %s" % (var, ", ".join(sorted(unknown))))
    _need(raw.get("receiver") in owners, "%s.receiver must be one of %s, got %r" % (var, owners, raw.get("receiver")))
    matchers = raw.get("matchers")
    _need(isinstance(matchers, list) and matchers, var + ".matchers must be a non-empty list")
    return {"receiver": raw["receiver"], "continue": bool(raw.get("continue", False)),
            "matchers": [_text(m, "%s.matchers[%d]" % (var, j), 256) for j, m in enumerate(matchers)]}


def _owner(raw: t.Any, i: int) -> dict:
    var = "monitoring_owners[%d]" % i
    _need(isinstance(raw, dict), "%s must be a mapping {name, email, slack_webhook_url, slack_channel}" % var)
    unknown = set(raw) - {"name", "email", "slack_webhook_url", "slack_channel"}
    _need(not unknown, "%s: unknown keys %s" % (var, ", ".join(sorted(unknown))))
    owner = {"name": _match(NAME, raw.get("name"), var + ".name")}
    if raw.get("email"):
        owner["email"] = _match(EMAIL, raw["email"], var + ".email")
    if raw.get("slack_webhook_url"):
        owner["slack_webhook_url"] = webhook_url(raw["slack_webhook_url"], var + ".slack_webhook_url")
    if raw.get("slack_channel"):
        owner["slack_channel"] = _match(SLACK_CHANNEL, raw["slack_channel"], var + ".slack_channel")
    _need("email" in owner or "slack_webhook_url" in owner,
          "%s (%s) needs an email or a slack_webhook_url: an owner nobody can reach gets no alert"
          % (var, owner["name"]))
    return owner


def _smtp(raw: dict, needed: bool) -> dict:
    if not needed:
        return {}
    v = "monitoring_smtp"
    _need(isinstance(raw, dict), v + " must be a mapping {smarthost, from, auth_username, auth_password, require_tls}")
    smtp = {"smarthost": _match(HOST_PORT, raw.get("smarthost"), v + ".smarthost"),
            "from": _match(EMAIL, raw.get("from"), v + ".from"),
            "require_tls": bool(raw.get("require_tls", True))}
    if raw.get("auth_username"):
        smtp["auth_username"] = _match(EMAIL if "@" in str(raw["auth_username"]) else NAME,
                                       raw["auth_username"], v + ".auth_username")
        _need(isinstance(raw.get("auth_password"), str) and raw["auth_password"] != "",
              v + ".auth_password is required with auth_username (keep it in the vault)")
        _need(not re.search(r"[\r\n]", raw["auth_password"]), v + ".auth_password must be one line")
        smtp["auth_password"] = raw["auth_password"]
    return smtp


def _probe_override(route: str, probe: t.Any) -> dict:
    var = "monitoring_probes.%s" % route
    _match(NAME, route, "monitoring_probes key")
    _need(isinstance(probe, dict), var + " must be a mapping {method, body, headers, valid_status_codes}")
    unknown = set(probe) - {"method", "body", "headers", "valid_status_codes"}
    _need(not unknown, "%s: unknown keys %s" % (var, ", ".join(sorted(unknown))))
    method = probe.get("method", "GET")
    _need(method in ("GET", "HEAD", "POST"), "%s.method must be GET, HEAD or POST, got %r" % (var, method))
    body = probe.get("body", "")
    _need(isinstance(body, str) and len(body) <= 4096, var + ".body must be a string of at most 4096 characters")
    headers = probe.get("headers") or {}
    _need(isinstance(headers, dict), var + ".headers must be a mapping")
    for name, value in headers.items():
        _need(isinstance(name, str) and re.match(r"^[A-Za-z0-9-]{1,64}$", name) is not None,
              "%s.headers: bad header name %r" % (var, name))
        _need(isinstance(value, str) and re.match(r"^[\x20-\x7e]{0,512}$", value) is not None,
              "%s.headers.%s must be printable ASCII" % (var, name))
    codes = probe.get("valid_status_codes") or []
    _need(isinstance(codes, list) and all(isinstance(c, int) and 100 <= c <= 599 for c in codes),
          var + ".valid_status_codes must be a list of HTTP status codes")
    return {"method": method, "body": body, "headers": dict(headers), "valid_status_codes": list(codes)}


def probe_addresses(site: site_mod.Site) -> dict:
    """{host: [addresses]} the probes connect to: launch_expected_addresses, else resolved now."""
    from ansible_collections.launchready.ops.plugins.module_utils import dns_query

    out = {}
    for host in site.hosts:
        given = site.expected_addresses.get(host)
        if given:
            out[host] = sorted(given)
            continue
        found = dns_query.resolve_all(host, site.resolvers, site.timeout)
        _need(bool(found["addresses"]) and not found["errors"],
              "could not resolve %s through launch_resolvers to place its probes; set "
              "launch_expected_addresses.%s or fix DNS" % (host, host))
        out[host] = found["addresses"]
    return out


def _target_url(address: str, path: str) -> str:
    addr = "[%s]" % address if ":" in address else address
    return "https://%s%s" % (addr, path)


def build(site_vars: dict, raw_settings: dict, addresses: dict | None = None) -> dict:
    """Every configuration of the stack for one site; raises MonitoringConfigError/SiteError naming the variable."""
    site = site_mod.from_vars(site_vars)
    s = settings_from(raw_settings)
    for host in site.hosts:
        _match(HOSTNAME, host, "launch_hosts entry")
    site_label = _match(HOSTNAME, site.domain, "launch_domain")
    for name, path in site.routes.items():
        _match(NAME, name, "launch_routes key")
        _match(URL_PATH, path, "launch_routes.%s" % name)
    if site.ca_bundle:
        _match(ABS_PATH, site.ca_bundle, "launch_ca_bundle")
    addresses = addresses if addresses is not None else probe_addresses(site)
    for host, addrs in addresses.items():
        for a in addrs:
            try:
                ipaddress.ip_address(a)
            except ValueError:
                raise MonitoringConfigError("probe address of %s must be an IP address, got %r" % (host, a)) from None

    routes = {r: site.routes[r] for r in MONITORED_ROUTES if r in site.routes}
    for extra in s["probes"]:
        _need(extra in site.routes, "monitoring_probes.%s: no such route in launch_routes (%s)"
              % (extra, ", ".join(sorted(site.routes))))
        routes.setdefault(extra, site.routes[extra])
    modules: dict = {}
    http_targets = []
    for host in site.hosts:
        for route, path in routes.items():
            override = _probe_override(route, s["probes"].get(route, {}))
            module = "http_%s_%s" % (_slug(host), route)
            http = {
                "method": override["method"],
                "headers": dict({"Host": host, "User-Agent": "launchready-monitor"}, **override["headers"]),
                "preferred_ip_protocol": "ip4" if all(":" not in a for a in addresses.get(host, [])) else "ip6",
                "ip_protocol_fallback": False,
                "follow_redirects": False,
                "fail_if_not_ssl": True,
                "tls_config": {"server_name": host, "insecure_skip_verify": False},
            }
            if site.ca_bundle:
                http["tls_config"]["ca_file"] = site.ca_bundle
            if override["body"]:
                http["body"] = override["body"]
            if override["valid_status_codes"]:
                http["valid_status_codes"] = override["valid_status_codes"]
            modules[module] = {"prober": "http", "timeout": _dur(s["timeout"]), "http": http}
            for address in addresses.get(host, []):
                http_targets.append({"targets": [_target_url(address, path)],
                                     "labels": {"module": module, "site": site_label, "host": host,
                                                "route": route, "path": path, "address": address}})
    dns_targets = []
    for resolver in site.resolvers:
        module = "dns_%s_a" % _slug(site.canonical_host)
        modules[module] = {"prober": "dns", "timeout": _dur(s["timeout"]), "dns": {
            "query_name": site.canonical_host, "query_type": "A", "transport_protocol": "udp",
            "preferred_ip_protocol": "ip4", "ip_protocol_fallback": False, "valid_rcodes": ["NOERROR"],
            "validate_answer_rrs": {"fail_if_none_matches_regexp": [r".*\sIN\s+A\s+.*"]}}}
        dns_targets.append({"targets": ["%s:%d" % (resolver.address, resolver.port)],
                            "labels": {"module": module, "site": site_label, "host": site.canonical_host,
                                       "resolver": str(resolver)}})

    relabel = [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["module"], "target_label": "__param_module"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"target_label": "__address__", "replacement": s["blackbox_address"]},
    ]
    interval = _dur(s["interval"])
    scrape_configs = [{"job_name": "launch_http", "metrics_path": "/probe", "scrape_interval": interval,
                       "scrape_timeout": _dur(s["timeout"]), "static_configs": http_targets,
                       "relabel_configs": relabel}]
    if dns_targets:
        scrape_configs.append({"job_name": "launch_dns", "metrics_path": "/probe", "scrape_interval": interval,
                               "scrape_timeout": _dur(s["timeout"]), "static_configs": dns_targets,
                               "relabel_configs": relabel})
    if s["metrics_targets"]:
        scrape_configs.append({"job_name": "launch_app", "metrics_path": s["metrics_path"],
                               "scrape_interval": interval, "scrape_timeout": _dur(s["timeout"]),
                               "static_configs": [{"targets": list(s["metrics_targets"]),
                                                   "labels": {"site": site_label}}]})
    prometheus = {
        "global": {"scrape_interval": interval, "evaluation_interval": _dur(s["evaluation_interval"]),
                   "scrape_timeout": _dur(s["timeout"])},
        "rule_files": [s["rules_file"]],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [s["alertmanager_address"]]}],
                                        "timeout": "10s"}]},
        "scrape_configs": scrape_configs,
    }
    rules = alert_rules(site_label, site.routes.get("checkout"), s)
    return {
        "site": site_label,
        "prometheus": prometheus,
        "blackbox": {"modules": modules},
        "rules": rules,
        "rules_tests": rules_tests(site_label, site.canonical_host, s),
        "alertmanager": alertmanager(s),
        "targets": [dict(tg["labels"], url=tg["targets"][0]) for tg in http_targets],
        "dns_targets": [dict(tg["labels"], target=tg["targets"][0]) for tg in dns_targets],
        "interval": s["interval"],
        "alert_for": s["alert_for"],
        "group_wait": s["group_wait"],
        "owners": [o["name"] for o in s["owners"]],
        "routes_by_owner": {o["name"]: [k for k in ("email", "slack_webhook_url") if k in o] for o in s["owners"]},
    }


def _owner_of(alert: str, s: dict) -> str:
    return s["rule_owners"].get(alert, s["default_owner"])


def alert_rules(site: str, checkout_path: str | None, s: dict) -> dict:
    """The alert rules; every one carries owner and severity; label values come from validated settings."""
    window = _dur(max(4 * s["interval"], 4 * s["evaluation_interval"]))
    hold = _dur(s["alert_for"])
    sel = 'site="%s"' % site  # site matched HOSTNAME: no quote or backslash can reach the expression

    def rule(alert: str, expr: str, severity: str, summary: str, **extra: str) -> dict:
        return {"alert": alert, "expr": expr, "for": hold,
                "labels": {"owner": _owner_of(alert, s), "severity": severity, "site": site},
                "annotations": dict({"summary": summary}, **extra)}

    rules = [
        rule("SiteDown", 'max by (site) (probe_success{job="launch_http",route="homepage",%s}) == 0' % sel,
             "critical", "%s is down: the homepage probe fails on every host and address" % site),
        rule("RouteDown", 'min by (site, host, route) (probe_success{job="launch_http",%s}) == 0' % sel,
             "warning", "{{ $labels.route }} on {{ $labels.host }} fails its probe"),
        rule("CertExpiringSoon",
             'min by (site, host) (probe_ssl_earliest_cert_expiry{job="launch_http",%s} - time()) < %d'
             % (sel, s["cert_days"] * 86400),
             "warning", "the certificate of {{ $labels.host }} expires within %d days" % s["cert_days"]),
        rule("HighErrorRatio",
             'sum by (site) (rate(http_requests_total{job="launch_app",status=~"5..",route!="/metrics",%s}[%s]))'
             ' / sum by (site) (rate(http_requests_total{job="launch_app",route!="/metrics",%s}[%s])) > %g'
             % (sel, window, sel, window, s["error_ratio"]),
             "critical", "more than %g%% of requests answer 5xx" % (s["error_ratio"] * 100)),
        rule("HighLatencyP95",
             'histogram_quantile(0.95, sum by (site, route, le) (rate(http_request_duration_seconds_bucket'
             '{job="launch_app",route!="/metrics",%s}[%s]))) > %g' % (sel, window, s["p95_budget_seconds"]),
             "warning", "p95 of {{ $labels.route }} is above %gs" % s["p95_budget_seconds"]),
        rule("DnsProbeFailed", 'min by (site, resolver) (probe_success{job="launch_dns",%s}) == 0' % sel,
             "critical", "resolver {{ $labels.resolver }} does not answer for the site's name"),
        rule("AppMetricsDown", 'max by (site) (up{job="launch_app",%s}) == 0' % sel,
             "warning", "the app's metrics endpoint does not answer"),
    ]
    if checkout_path:
        route = 'route="%s"' % _match(URL_PATH, checkout_path, "launch_routes.checkout")
        rules.append(rule(
            "CheckoutFailures",
            'sum by (site) (rate(http_requests_total{job="launch_app",%s,status!~"2..",%s}[%s]))'
            ' / sum by (site) (rate(http_requests_total{job="launch_app",%s,%s}[%s])) > %g'
            % (route, sel, window, route, sel, window, s["checkout_failure_ratio"]),
            "critical", "more than %g%% of checkouts fail" % (s["checkout_failure_ratio"] * 100)))
    rules += [dict(r, labels=dict(r["labels"], site=site)) for r in s["extra_rules"]]
    groups = [{"name": "launchready_%s" % _slug(site), "interval": _dur(s["evaluation_interval"]), "rules": rules}]
    return {"groups": groups}


def rules_tests(site: str, host: str, s: dict) -> dict:
    """A promtool test: the homepage down -> SiteDown with its owner; a 5-day cert -> CertExpiringSoon."""
    step = s["interval"]
    eval_at = s["alert_for"] + 3 * max(step, s["evaluation_interval"])
    samples = eval_at // step + 2
    labels = 'job="launch_http",site="%s",host="%s",route="homepage",instance="x"' % (site, host)
    return {
        "rule_files": ["RULES_FILE"],
        "evaluation_interval": _dur(s["evaluation_interval"]),
        "tests": [{
            "interval": _dur(step),
            "input_series": [
                {"series": "probe_success{%s}" % labels, "values": "0x%d" % samples},
                {"series": "probe_ssl_earliest_cert_expiry{%s}" % labels,
                 "values": "%dx%d" % (5 * 86400, samples)},
            ],
            "alert_rule_test": [
                {"eval_time": _dur(eval_at), "alertname": "SiteDown", "exp_alerts": [{
                    "exp_labels": {"site": site, "owner": _owner_of("SiteDown", s), "severity": "critical"},
                    "exp_annotations": {"summary": "%s is down: the homepage probe fails on every host and "
                                                   "address" % site}}]},
                {"eval_time": _dur(eval_at), "alertname": "CertExpiringSoon", "exp_alerts": [{
                    "exp_labels": {"site": site, "host": host, "owner": _owner_of("CertExpiringSoon", s),
                                   "severity": "warning"},
                    "exp_annotations": {"summary": "the certificate of %s expires within %d days"
                                                   % (host, s["cert_days"])}}]},
            ],
        }],
    }


def alertmanager(s: dict) -> dict:
    """Routes per owner (email and Slack), grouping, repeat, SiteDown inhibiting the symptoms, resolved on."""
    receivers = []
    routes = []
    for owner in s["owners"]:
        receiver: dict = {"name": owner["name"]}
        if "email" in owner and s["smtp"]:  # no SMTP relay with the hosted provider: it mails itself
            smtp = s["smtp"]
            email = {"to": owner["email"], "from": smtp["from"], "smarthost": smtp["smarthost"],
                     "require_tls": smtp["require_tls"], "send_resolved": True,
                     "headers": {"Subject": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} '
                                            '(owner {{ .CommonLabels.owner }})'}}
            if "auth_username" in smtp:
                email.update(auth_username=smtp["auth_username"], auth_password=smtp["auth_password"])
            receiver["email_configs"] = [email]
        if "slack_webhook_url" in owner:
            slack = {"api_url": owner["slack_webhook_url"], "send_resolved": True,
                     "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                     "text": "owner: {{ .CommonLabels.owner }}\n{{ range .Alerts }}"
                             "{{ .Annotations.summary }}\n{{ end }}"}
            if "slack_channel" in owner:
                slack["channel"] = owner["slack_channel"]
            receiver["slack_configs"] = [slack]
        receivers.append(receiver)
        routes.append({"receiver": owner["name"], "matchers": ['owner="%s"' % owner["name"]]})
    return {
        "route": {"receiver": s["default_owner"], "group_by": ["alertname", "site", "owner"],
                  "group_wait": _dur(s["group_wait"]), "group_interval": _dur(s["group_interval"]),
                  "repeat_interval": _dur(s["repeat_interval"]), "routes": list(s["extra_routes"]) + routes},
        "receivers": receivers,
        "inhibit_rules": [{"source_matchers": ['alertname="SiteDown"'],
                           "target_matchers": ['alertname=~"%s"' % "|".join(SYMPTOMS)],
                           "equal": ["site"]}],
    }


def build_all(sites: t.Sequence[dict], raw_settings: dict, addresses: dict | None = None) -> dict:
    """The stack for several sites on one monitoring host: targets, modules and rule groups merged."""
    _need(bool(sites), "monitoring_sites names no site: the monitoring host has nothing to watch")
    built = [build(v, raw_settings, addresses) for v in sites]
    first = built[0]
    jobs: dict = {}
    for b in built:
        for job in b["prometheus"]["scrape_configs"]:
            if job["job_name"] in jobs:
                jobs[job["job_name"]]["static_configs"].extend(job["static_configs"])
            else:
                jobs[job["job_name"]] = dict(job, static_configs=list(job["static_configs"]))
    merged = dict(first)
    merged["sites"] = [b["site"] for b in built]
    merged["prometheus"] = dict(first["prometheus"], scrape_configs=list(jobs.values()))
    merged["blackbox"] = {"modules": {k: v for b in built for k, v in b["blackbox"]["modules"].items()}}
    merged["rules"] = {"groups": [g for b in built for g in b["rules"]["groups"]]}
    merged["rules_tests"] = dict(first["rules_tests"], tests=[x for b in built for x in b["rules_tests"]["tests"]])
    merged["targets"] = [x for b in built for x in b["targets"]]
    merged["dns_targets"] = [x for b in built for x in b["dns_targets"]]
    return merged

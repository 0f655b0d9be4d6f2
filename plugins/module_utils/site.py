# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site description: the launch_* inventory variables, with their defaults.

Validation here gives messages that name the variable, so a bad inventory stops
with a sentence the operator can act on.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import probe_budget

DEFAULT_NEVER_CACHE = ("/checkout", "/cart", "/account", "/login", "/chatbot", "/api")
DEFAULT_TIMEOUT = 5.0
DEFAULT_RATE_LIMIT_REQUESTS = 60
MAX_RATE_LIMIT_REQUESTS = 300  # edge.rate_limit must stay a probe, never a load test
EDGE_PROVIDERS = ("nginx", "cloudflare")
CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"
# Sized for a 2-core controller; shared by every fork.
DEFAULT_MAX_CONNECTIONS = probe_budget.DEFAULT_MAX_CONNECTIONS
DEFAULT_MAX_PER_ADDRESS = probe_budget.DEFAULT_MAX_PER_ADDRESS
DEFAULT_BROWSER_SLOTS = probe_budget.DEFAULT_BROWSER_SLOTS


class SiteError(ValueError):
    """The site description is invalid; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Resolver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        return self.address if self.port == 53 else "%s:%d" % (self.address, self.port)


@dataclasses.dataclass
class Site:
    domain: str
    hosts: list
    canonical_host: str
    expected_addresses: dict
    resolvers: list  # list[Resolver]; empty means the system's
    ca_bundle: str | None
    routes: dict
    never_cache: list
    mail_domain: str
    mail_senders: list
    dkim_selectors: list
    report_dir: str
    caa_issuers: list
    timeout: float = DEFAULT_TIMEOUT
    # Not an inventory variable: {(host, address): leaf SHA-256} set by the audit's pass behind a
    # rejected certificate (past_bad_certificate.py); http_probe.site_fetch then connects pinned, unverified.
    tls_pins: dict = dataclasses.field(default_factory=dict)
    # Email authentication (the email.* checks); see from_vars for the defaults.
    mail_envelope_domain: str = ""
    mail_org_domain: str | None = None
    dkim_private_keys: dict = dataclasses.field(default_factory=dict)
    # The edge (Stage 2: the edge.*, cache.*, content.* and tls.auto_renew checks).
    edge_provider: str = ""  # "nginx", "cloudflare" or "" (not said)
    edge_addresses: list = dataclasses.field(default_factory=list)
    rate_limit_requests: int = DEFAULT_RATE_LIMIT_REQUESTS
    renewal_job: str | None = None
    browser: str = "auto"
    cloudflare: dict = dataclasses.field(default_factory=dict)  # api_url, api_token, zone_id
    # Privacy (the privacy.* checks): see _privacy_vars.
    customers: list = dataclasses.field(default_factory=list, repr=False)  # passwords inside: never printed
    chatbot: dict = dataclasses.field(default_factory=dict)
    chatbot_eval: dict = dataclasses.field(default_factory=dict)
    log_paths: dict = dataclasses.field(default_factory=dict)
    # The controller-wide probe budget (probe_budget.py) and the browser's time per page.
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_connections_per_address: int = DEFAULT_MAX_PER_ADDRESS
    browser_slots: int = DEFAULT_BROWSER_SLOTS
    browser_timeout: float | None = None  # None: max(15, 3 x timeout)
    # The secrets.repo_* checks (secret scanner): the app's git checkout on the controller, the scanner's
    # baseline of allowlisted fingerprints, and more paths to scan (deploy config, built frontend output).
    app_repo: str | None = None
    secret_baseline: str | None = None
    secret_paths: list = dataclasses.field(default_factory=list)


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise SiteError(message)


def _hostname(name: str, var: str) -> str:
    _need(isinstance(name, str) and name.strip() != "", "%s must be a non-empty hostname, got %r" % (var, name))
    name = name.strip().rstrip(".").lower()
    _need(" " not in name and "/" not in name and ":" not in name,
          "%s must be a bare hostname (no scheme, path or port), got %r" % (var, name))
    return name


def _string_list(value: t.Any, var: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    _need(isinstance(value, (list, tuple)), "%s must be a list, got %s" % (var, type(value).__name__))
    for item in value:
        _need(isinstance(item, str), "%s must hold strings, got %r" % (var, item))
    return list(value)


def parse_resolver(text: str, var: str = "launch_resolvers") -> Resolver:
    """Parse "addr", "addr:port" or "[v6]:port"."""
    _need(isinstance(text, str) and text, "%s entries must be 'addr' or 'addr:port', got %r" % (var, text))
    addr, port = text, 53
    if text.startswith("["):
        addr, _sep, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = rest[1:]
    elif text.count(":") == 1:
        addr, port = text.split(":")
    try:
        ipaddress.ip_address(addr)
        port = int(port)
        _need(0 < port < 65536, "")
    except (ValueError, SiteError):
        raise SiteError("%s entries must be 'addr' or 'addr:port' with an IP address, got %r" % (var, text)) from None
    return Resolver(addr, port)


def from_vars(variables: dict) -> Site:
    """Build a Site from a dict of launch_* variables, applying the documented defaults."""
    _need("launch_domain" in variables and variables["launch_domain"],
          "launch_domain is required: set it to the site's apex domain (e.g. shop.example)")
    domain = _hostname(variables["launch_domain"], "launch_domain")

    hosts = [_hostname(h, "launch_hosts") for h in
             _string_list(variables.get("launch_hosts"), "launch_hosts")] or [domain, "www." + domain]
    canonical = _hostname(variables.get("launch_canonical_host") or domain, "launch_canonical_host")

    expected = variables.get("launch_expected_addresses") or {}
    _need(isinstance(expected, dict), "launch_expected_addresses must be a mapping of hostname to addresses")
    expected_clean = {}
    for name, addrs in expected.items():
        addrs = _string_list(addrs, "launch_expected_addresses[%s]" % name)
        for a in addrs:
            try:
                ipaddress.ip_address(a)
            except ValueError:
                raise SiteError("launch_expected_addresses[%s] holds %r, which is not an IP address" % (name, a)) from None
        expected_clean[_hostname(name, "launch_expected_addresses")] = addrs

    resolvers = [parse_resolver(r) for r in _string_list(variables.get("launch_resolvers"), "launch_resolvers")]

    ca_bundle = variables.get("launch_ca_bundle") or None
    _need(ca_bundle is None or isinstance(ca_bundle, str), "launch_ca_bundle must be a path to a PEM file")

    routes = variables.get("launch_routes") or {"homepage": "/"}
    _need(isinstance(routes, dict), "launch_routes must be a mapping of route name to path")
    for name, path in routes.items():
        _need(isinstance(path, str) and path.startswith("/"),
              "launch_routes.%s must be a path starting with '/', got %r" % (name, path))

    never_cache = _string_list(variables.get("launch_never_cache"), "launch_never_cache") or list(DEFAULT_NEVER_CACHE)
    mail_domain = _hostname(variables.get("launch_mail_domain") or domain, "launch_mail_domain")
    envelope = _hostname(variables.get("launch_mail_envelope_domain") or mail_domain, "launch_mail_envelope_domain")
    org_domain = variables.get("launch_mail_org_domain") or None
    if org_domain is not None:
        org_domain = _hostname(org_domain, "launch_mail_org_domain")
        _need(mail_domain == org_domain or mail_domain.endswith("." + org_domain),
              "launch_mail_org_domain (%s) must be launch_mail_domain (%s) or one of its parents"
              % (org_domain, mail_domain))
    senders = _string_list(variables.get("launch_mail_senders"), "launch_mail_senders")
    for sender in senders:
        try:
            ipaddress.ip_address(sender.strip())
        except ValueError:
            raise SiteError("launch_mail_senders holds %r, which is not an IP address" % sender) from None
    keys = variables.get("launch_dkim_private_keys") or {}
    _need(isinstance(keys, dict) and all(isinstance(k, str) and isinstance(v, str) and v for k, v in keys.items()),
          "launch_dkim_private_keys must be a mapping of DKIM selector to the path of its private key (PEM)")

    edge = _edge_vars(variables)

    timeout = variables.get("launch_timeout", DEFAULT_TIMEOUT)
    try:
        timeout = float(timeout)
        _need(timeout > 0, "")
    except (TypeError, ValueError, SiteError):
        raise SiteError("launch_timeout must be a positive number of seconds, got %r" % (timeout,)) from None

    return Site(
        domain=domain,
        hosts=hosts,
        canonical_host=canonical,
        expected_addresses=expected_clean,
        resolvers=resolvers,
        ca_bundle=ca_bundle,
        routes=dict(routes),
        never_cache=never_cache,
        mail_domain=mail_domain,
        mail_senders=[sender.strip() for sender in senders],
        dkim_selectors=_string_list(variables.get("launch_dkim_selectors"), "launch_dkim_selectors"),
        report_dir=str(variables.get("launch_report_dir") or "./reports"),
        caa_issuers=_string_list(variables.get("launch_caa_issuers"), "launch_caa_issuers"),
        timeout=timeout,
        mail_envelope_domain=envelope,
        mail_org_domain=org_domain,
        dkim_private_keys=dict(keys),
        **edge,
        **_privacy_vars(variables),
        **_budget_vars(variables),
        **_secret_vars(variables),
    )


def _edge_vars(variables: dict) -> dict:
    """The Stage 2 edge variables (launch_edge_provider falls back to the edge playbook's edge_provider)."""
    provider = str(variables.get("launch_edge_provider") or variables.get("edge_provider") or "").strip().lower()
    _need(provider in EDGE_PROVIDERS + ("", "none"),
          "launch_edge_provider must be one of %s, got %r" % (", ".join(EDGE_PROVIDERS), provider))
    addresses = _string_list(variables.get("launch_edge_addresses"), "launch_edge_addresses")
    for a in addresses:
        try:
            ipaddress.ip_network(a, strict=False)
        except ValueError:
            raise SiteError("launch_edge_addresses holds %r, which is not an IP address or network" % a) from None
    requests = variables.get("launch_rate_limit_requests", DEFAULT_RATE_LIMIT_REQUESTS)
    try:
        requests = int(requests)
        _need(1 <= requests <= MAX_RATE_LIMIT_REQUESTS, "")
    except (TypeError, ValueError, SiteError):
        raise SiteError("launch_rate_limit_requests must be a whole number from 1 to %d, got %r"
                        % (MAX_RATE_LIMIT_REQUESTS, requests)) from None
    renewal_job = variables.get("launch_renewal_job") or None
    _need(renewal_job is None or isinstance(renewal_job, str),
          "launch_renewal_job must be the path of the renewal job (cron file or systemd timer)")
    browser = str(variables.get("launch_browser") or "auto").strip()
    cloudflare = {
        "api_url": str(variables.get("launch_cloudflare_api_url") or CLOUDFLARE_API_URL).rstrip("/"),
        "api_token": variables.get("launch_cloudflare_api_token") or "",
        "zone_id": variables.get("launch_cloudflare_zone_id") or "",
    }
    _need(isinstance(cloudflare["api_token"], str), "launch_cloudflare_api_token must be a string (from a vault)")
    return {"edge_provider": "" if provider == "none" else provider, "edge_addresses": addresses,
            "rate_limit_requests": requests, "renewal_job": renewal_job, "browser": browser,
            "cloudflare": cloudflare}


DEFAULT_CHATBOT = {"method": "POST", "body": {"message": "{message}"}, "reply": "reply"}
DEFAULT_CHATBOT_EVAL = {"sets": [], "max_requests": 60, "max_seconds": 120.0, "interval": 0.25,
                        "pass_bar": 1.0, "canaries": [], "allowed": []}


def _privacy_vars(variables: dict) -> dict:
    """launch_customers, launch_chatbot, launch_chatbot_eval and launch_log_paths (the privacy.* checks)."""
    import json

    customers = variables.get("launch_customers") or []
    _need(isinstance(customers, list), "launch_customers must be a list of customers ({email, password, orders, ...})")
    for i, customer in enumerate(customers):
        var = "launch_customers[%d]" % i
        _need(isinstance(customer, dict), "%s must be a mapping with email and password" % var)
        email = customer.get("email")
        _need(isinstance(email, str) and "@" in email, "%s.email must be an e-mail address" % var)
        _need(isinstance(customer.get("password", ""), str), "%s.password must be a string (from a vault)" % var)
        orders = customer.get("orders") or []
        _need(isinstance(orders, list) and all(isinstance(o, dict) and o.get("id") not in (None, "")
                                               for o in orders),
              "%s.orders must be a list of {id, status, total}" % var)

    chatbot = dict(DEFAULT_CHATBOT)
    chatbot.update(variables.get("launch_chatbot") or {})
    if isinstance(chatbot["body"], str):
        try:
            chatbot["body"] = json.loads(chatbot["body"])
        except ValueError:
            raise SiteError("launch_chatbot.body must be JSON (a template with {message}), got %r"
                            % chatbot["body"]) from None
    _need(str(chatbot["method"]).upper() in ("POST", "PUT"),
          "launch_chatbot.method must be POST or PUT, got %r" % chatbot["method"])
    chatbot["method"] = str(chatbot["method"]).upper()
    _need("{message}" in json.dumps(chatbot["body"]),
          "launch_chatbot.body must hold the placeholder {message}, got %r" % (chatbot["body"],))
    _need(isinstance(chatbot["reply"], str) and chatbot["reply"] != "",
          "launch_chatbot.reply must be a dotted path into the JSON answer, got %r" % (chatbot["reply"],))

    evaluation = dict(DEFAULT_CHATBOT_EVAL)
    given = variables.get("launch_chatbot_eval") or {}
    _need(isinstance(given, dict), "launch_chatbot_eval must be a mapping")
    unknown = sorted(set(given) - set(DEFAULT_CHATBOT_EVAL))
    _need(not unknown, "launch_chatbot_eval has unknown keys %s (known: %s)"
          % (", ".join(unknown), ", ".join(sorted(DEFAULT_CHATBOT_EVAL))))
    evaluation.update(given)
    for key in ("sets", "canaries", "allowed"):
        evaluation[key] = _string_list(evaluation[key], "launch_chatbot_eval.%s" % key)
    for key, low, high in (("max_requests", 1, 500), ("max_seconds", 1, 3600), ("interval", 0.05, 10),
                           ("pass_bar", 0, 1)):
        try:
            evaluation[key] = float(evaluation[key])
            _need(low <= evaluation[key] <= high, "")
        except (TypeError, ValueError, SiteError):
            raise SiteError("launch_chatbot_eval.%s must be a number from %s to %s, got %r"
                            % (key, low, high, given.get(key))) from None
    evaluation["max_requests"] = int(evaluation["max_requests"])

    log_paths = variables.get("launch_log_paths") or {}
    _need(isinstance(log_paths, dict), "launch_log_paths must be a mapping of host group or host to log file globs")
    log_paths = {str(k): _string_list(v, "launch_log_paths[%s]" % k) for k, v in log_paths.items()}
    return {"customers": [dict(c) for c in customers], "chatbot": chatbot, "chatbot_eval": evaluation,
            "log_paths": log_paths}


def _positive(variables: dict, name: str, default: t.Any, kind: type, upper: float) -> t.Any:
    value = variables.get(name, default)
    if value is None:
        return default
    try:
        number = kind(value)
        _need(0 < number <= upper and not isinstance(value, bool), "")
    except (TypeError, ValueError, SiteError):
        raise SiteError("%s must be a positive %s up to %s, got %r"
                        % (name, "whole number" if kind is int else "number", upper, value)) from None
    return number


def _budget_vars(variables: dict) -> dict:
    """The controller-wide probe budget knobs, and the browser's time per page."""
    return {
        "max_connections": _positive(variables, "launch_max_connections", DEFAULT_MAX_CONNECTIONS, int, 4096),
        "max_connections_per_address": _positive(variables, "launch_max_connections_per_address",
                                                 DEFAULT_MAX_PER_ADDRESS, int, 1024),
        "browser_slots": _positive(variables, "launch_browser_slots", DEFAULT_BROWSER_SLOTS, int, 64),
        "browser_timeout": _positive(variables, "launch_browser_timeout", None, float, 600),
    }


def _secret_vars(variables: dict) -> dict:
    """launch_app_repo, launch_secret_baseline and launch_secret_paths (the secrets.repo_* checks)."""
    repo = variables.get("launch_app_repo") or None
    _need(repo is None or isinstance(repo, str), "launch_app_repo must be the path of the app's git checkout")
    baseline = variables.get("launch_secret_baseline") or None
    _need(baseline is None or isinstance(baseline, str),
          "launch_secret_baseline must be the path of a secret baseline file (JSON)")
    return {"app_repo": repo, "secret_baseline": baseline,
            "secret_paths": _string_list(variables.get("launch_secret_paths"), "launch_secret_paths")}

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Cloudflare API v4 client on requests: the envelope, errors and pagination in one place.

Why not community.general.cloudflare_dns: its API endpoint is a class constant
(https://api.cloudflare.com/client/v4) with no option to change it, so it cannot
be pointed at a staging proxy or a test server, and it manages one value per
task, without --diff.  This client takes the base URL as a parameter; every
call has a timeout; every failure raises CloudflareError with Cloudflare's own
error codes and messages, so a module can say what to fix.

Generic on purpose: ``request`` and ``paginate`` serve any v4 endpoint (zone
settings, rulesets); the DNS-record helpers below are thin.  No Ansible imports.

The token is a credential for the whole zone, so the client trusts only what it is
told, like the audit's probe: https only, the CA the caller names or OpenSSL's own
store (never certifi's, nor REQUESTS_CA_BUNDLE), no proxy or .netrc from the
environment, and an error body that is not the API's JSON is never echoed.
"""

from __future__ import annotations

import http
import os
import ssl
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import tls_probe

try:
    import requests
    import requests.adapters
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    HAS_REQUESTS = False

DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = 30.0
PER_PAGE = 100
MAX_PAGES = 1000


class CloudflareError(Exception):
    """A call failed: ``status`` (HTTP, 0 when unreachable) and ``errors`` ([{code, message}]) from Cloudflare."""

    def __init__(self, message: str, status: int = 0, errors: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []


def _error_text(errors: list) -> str:
    parts = []
    for err in errors or []:
        if not isinstance(err, dict):
            parts.append(str(err))
            continue
        text = "[%s] %s" % (err.get("code", "?"), err.get("message", ""))
        chain = err.get("error_chain") or []
        if chain:
            text += " (%s)" % _error_text(chain)
        parts.append(text)
    return "; ".join(parts)


# The zone and connection options every Cloudflare module takes (documented by the
# launchready.ops.cloudflare doc fragment); each module adds api_token and its own options.
CONNECTION_ARGUMENT_SPEC = {
    "zone": {"type": "str", "required": True},
    "api_url": {"type": "str", "default": DEFAULT_API_URL},
    "timeout": {"type": "float", "default": 30},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
}


def _https_url(api_url: str) -> str:
    """``api_url`` without a trailing slash; CloudflareError unless it is an https URL with a host."""
    parts = urllib.parse.urlsplit(str(api_url or ""))
    if parts.scheme.lower() != "https" or not parts.hostname:
        netloc = parts.netloc.rpartition("@")[2]  # never repeat user:password@ or the query in a message
        shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        raise CloudflareError("api_url must be an https:// URL (the API token would cross the network in clear "
                              "otherwise), got %r" % (shown or str(api_url)))
    return str(api_url).rstrip("/")


def trust_context(verify: t.Any, extra_ca: str | None = None) -> ssl.SSLContext | None:
    """The TLS trust for the API: None when ``verify`` is False (no checks), else a context holding
    the PEM file or directory ``verify`` names, or OpenSSL's default store when ``verify`` is True,
    plus ``extra_ca`` when given."""
    if verify is False:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if verify is True:
            cafile, capath = tls_probe.system_store()
            if cafile or capath:
                ctx.load_verify_locations(cafile=cafile, capath=capath)
        elif isinstance(verify, str) and os.path.isdir(verify):
            ctx.load_verify_locations(capath=verify)
        elif isinstance(verify, str):
            ctx.load_verify_locations(cafile=verify)
        else:
            raise CloudflareError("validate_certs/ca_path must be true, false or a CA file path, got %r" % (verify,))
        if extra_ca:
            ctx.load_verify_locations(cafile=extra_ca)
    except (OSError, ssl.SSLError) as exc:
        raise CloudflareError("cannot load the CA certificates for the Cloudflare API (%s): %s"
                              % (verify if isinstance(verify, str) else extra_ca, exc)) from None
    return ctx


if HAS_REQUESTS:
    class TrustAdapter(requests.adapters.HTTPAdapter):
        """HTTPS verified against one SSLContext: requests never adds certifi or an environment bundle."""

        def __init__(self, context: ssl.SSLContext) -> None:
            self._context = context
            super().__init__()

        def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
            kwargs["ssl_context"] = self._context
            super().init_poolmanager(*args, **kwargs)

        def cert_verify(self, conn: t.Any, url: str, verify: t.Any, cert: t.Any) -> None:
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = conn.ca_cert_dir = None  # the context already holds the trust


def _status_line(response: t.Any) -> str:
    """"HTTP 502 Bad Gateway, a text/html body of 1234 bytes": what a non-API answer was, not what it said."""
    try:
        reason = http.HTTPStatus(response.status_code).phrase  # our words: the server's reason phrase is its own
    except ValueError:
        reason = ""
    ctype = "".join(c for c in (response.headers.get("Content-Type") or "no type").split(";")[0]
                    if c.isalnum() or c in "/+.-")[:60]
    return "HTTP %d%s, a %s body of %d bytes" % (response.status_code, " " + reason if reason else "", ctype,
                                                 len(response.content or b""))


def client_from_params(params: dict) -> "CloudflareClient":
    """The client for a module's parameters (api_token plus CONNECTION_ARGUMENT_SPEC)."""
    verify = params["ca_path"] if params["ca_path"] else params["validate_certs"]
    return CloudflareClient(params["api_token"], params["api_url"], timeout=params["timeout"], verify=verify)


class CloudflareClient:
    """Calls to one API base URL with one API token (sent as ``Authorization: Bearer``)."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, timeout: float = DEFAULT_TIMEOUT,
                 verify: t.Any = True, session: t.Any = None, extra_ca: str | None = None) -> None:
        """``verify``: True (OpenSSL's default store), a CA file path (that CA only) or False;
        ``extra_ca``: a PEM file trusted as well (the site's launch_ca_bundle)."""
        if not HAS_REQUESTS:  # pragma: no cover
            raise CloudflareError("the Cloudflare client needs the Python library requests")
        if not token:
            raise CloudflareError("no API token: create one with the Zone.DNS Edit permission for the zone")
        self.api_url = _https_url(api_url)
        self.timeout = float(timeout)
        context = trust_context(verify, extra_ca)
        self.verify = context is not None
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxy, CA bundle or .netrc credentials from the environment
        if context is not None:
            self.session.mount("https://", TrustAdapter(context))
        self.session.headers.update({"Authorization": "Bearer %s" % token, "Accept": "application/json"})
        self.calls = 0

    def request(self, method: str, path: str, params: dict | None = None, body: t.Any = None) -> dict:
        """One call; returns the envelope ({success, errors, messages, result, result_info}) of a success."""
        url = self.api_url + path
        where = "%s %s" % (method, path)
        self.calls += 1
        try:
            response = self.session.request(method, url, params=params, json=body, timeout=self.timeout,
                                            verify=self.verify, allow_redirects=False)
        except requests.exceptions.Timeout:
            raise CloudflareError("%s: no answer from %s within %.0f s" % (where, self.api_url, self.timeout)) from None
        except requests.exceptions.SSLError as exc:
            raise CloudflareError("%s: TLS verification of %s failed (%s)" % (where, self.api_url, exc)) from None
        except requests.exceptions.RequestException as exc:
            raise CloudflareError("%s: cannot reach %s (%s)" % (where, self.api_url, exc)) from None
        try:
            envelope = response.json()
        except ValueError:
            # A proxy's or load balancer's page: it may reflect the request (and its token), so only its shape.
            raise CloudflareError("%s: %s, not the API's JSON" % (where, _status_line(response)),
                                  status=response.status_code) from None
        if not isinstance(envelope, dict) or "success" not in envelope:
            raise CloudflareError("%s: HTTP %d with an answer that is not a Cloudflare API envelope"
                                  % (where, response.status_code), status=response.status_code)
        if not envelope.get("success") or response.status_code >= 400:
            errors = envelope.get("errors") or []
            hint = ""
            if response.status_code in (401, 403):
                hint = " (check that the API token is valid and has the permission this call needs)"
            raise CloudflareError("%s: HTTP %d: %s%s" % (where, response.status_code,
                                                         _error_text(errors) or "the call failed", hint),
                                  status=response.status_code, errors=errors)
        return envelope

    def paginate(self, path: str, params: dict | None = None, per_page: int = PER_PAGE) -> list:
        """Every item of a paginated list endpoint."""
        items: list = []
        page = 1
        while page <= MAX_PAGES:
            query = dict(params or {}, page=page, per_page=per_page)
            envelope = self.request("GET", path, params=query)
            result = envelope.get("result") or []
            items.extend(result)
            info = envelope.get("result_info") or {}
            total_pages = int(info.get("total_pages") or 1)
            if page >= total_pages or not result:
                break
            page += 1
        return items

    # -- DNS records

    def zone_id(self, name: str) -> str:
        name = name.strip().rstrip(".").lower()
        zones = [z for z in self.paginate("/zones", {"name": name}, per_page=50) if z.get("name", "").lower() == name]
        if not zones:
            raise CloudflareError("no zone named %s is visible to this API token" % name)
        if len(zones) > 1:
            raise CloudflareError("%d zones named %s are visible to this API token; expected one" % (len(zones), name))
        return zones[0]["id"]

    def dns_records(self, zone_id: str, name: str, rtype: str) -> list:
        return self.paginate("/zones/%s/dns_records" % zone_id, {"name": name, "type": rtype})

    def create_dns_record(self, zone_id: str, record: dict) -> dict:
        return self.request("POST", "/zones/%s/dns_records" % zone_id, body=record)["result"]

    def replace_dns_record(self, zone_id: str, record_id: str, record: dict) -> dict:
        return self.request("PUT", "/zones/%s/dns_records/%s" % (zone_id, record_id), body=record)["result"]

    def delete_dns_record(self, zone_id: str, record_id: str) -> None:
        self.request("DELETE", "/zones/%s/dns_records/%s" % (zone_id, record_id))

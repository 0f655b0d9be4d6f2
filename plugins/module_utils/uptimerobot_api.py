# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small UptimeRobot API v2 client on requests: every call, its errors and pagination in one place.

API v2 takes every call as a form-encoded POST to ``{api_url}/{method}`` with ``api_key`` and
``format=json`` among the fields, and answers ``{"stat": "ok", ...}`` or ``{"stat": "fail",
"error": {type, parameter_name, passed_value, message}}``. A failure's ``passed_value`` may be the
key itself, so it is never repeated. The key is a credential for the whole account: the client
trusts only what it is told, like the Cloudflare one whose pieces it reuses (https only, the CA
the caller names or OpenSSL's store, no proxy or .netrc from the environment, a non-API answer
described by its shape, never echoed). No Ansible imports.
"""

from __future__ import annotations

import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api as _hardened

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    HAS_REQUESTS = False

DEFAULT_API_URL = "https://api.uptimerobot.com/v2"
DEFAULT_TIMEOUT = 30.0
PAGE = 50           # getMonitors and getAlertContacts answer at most 50 a page
MAX_PAGES = 200

# The API's enumerations (https://uptimerobot.com/api/).
MONITOR_HTTP = 1
HTTP_METHODS = {"HEAD": 1, "GET": 2, "POST": 3}
POST_TYPE_RAW = 2
POST_CONTENT_JSON = 1
CONTACT_TYPES = {"email": 2, "slack": 11}


class UptimeRobotError(Exception):
    """A call failed; ``kind`` is UptimeRobot's error type (invalid_parameter, ...) or "" when unreachable."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


def _https_url(api_url: str) -> str:
    parts = urllib.parse.urlsplit(str(api_url or ""))
    if parts.scheme.lower() != "https" or not parts.hostname:
        shown = urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        raise UptimeRobotError("the UptimeRobot api_url must be an https:// URL (the API key would cross the "
                               "network in clear otherwise), got %r" % (shown or str(api_url)))
    return str(api_url).rstrip("/")


def _error_text(error: t.Any) -> tuple:
    """(sentence, kind) of a ``stat: fail`` answer, without ``passed_value``."""
    if not isinstance(error, dict):
        return "the call failed", ""
    kind = str(error.get("type") or "")
    text = kind or "error"
    if error.get("parameter_name"):
        text += " for %s" % error["parameter_name"]
    if error.get("message"):
        text += ": %s" % error["message"]
    return text, kind


class UptimeRobotClient:
    """Calls to one API base URL with one API key."""

    def __init__(self, api_key: str, api_url: str = DEFAULT_API_URL, timeout: float = DEFAULT_TIMEOUT,
                 verify: t.Any = True, session: t.Any = None) -> None:
        """``verify``: True (OpenSSL's default store), a CA file path (that CA only) or False."""
        if not HAS_REQUESTS:  # pragma: no cover
            raise UptimeRobotError("the UptimeRobot client needs the Python library requests")
        if not api_key:
            raise UptimeRobotError("no UptimeRobot API key: set monitoring_uptimerobot_api_key (from the vault) to "
                                   "the account's Main API key")
        self.api_url = _https_url(api_url)
        self.timeout = float(timeout)
        try:
            context = _hardened.trust_context(verify)
        except _hardened.CloudflareError:
            raise UptimeRobotError("cannot load the CA certificates for the UptimeRobot API from %r" % (verify,)) \
                from None
        self.verify = context is not None
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxy, CA bundle or .netrc credentials from the environment
        if context is not None:
            self.session.mount("https://", _hardened.TrustAdapter(context))
        self.session.headers.update({"Accept": "application/json", "Cache-Control": "no-cache"})
        self._key = api_key
        self.calls: list = []  # method names, in order: what a run asked

    def call(self, method: str, **params: t.Any) -> dict:
        """One call; the answer of a ``stat: ok``."""
        form = {"api_key": self._key, "format": "json"}
        form.update({k: str(v) for k, v in params.items() if v is not None})
        self.calls.append(method)
        try:
            response = self.session.post("%s/%s" % (self.api_url, method), data=form, timeout=self.timeout,
                                         verify=self.verify, allow_redirects=False)
        except requests.exceptions.Timeout:
            raise UptimeRobotError("%s: no answer from %s within %.0f s" % (method, self.api_url, self.timeout)) \
                from None
        except requests.exceptions.SSLError as exc:
            raise UptimeRobotError("%s: TLS verification of %s failed (%s)" % (method, self.api_url, exc)) from None
        except requests.exceptions.RequestException as exc:
            raise UptimeRobotError("%s: cannot reach %s (%s)" % (method, self.api_url, type(exc).__name__)) \
                from None
        try:
            answer = response.json()
        except ValueError:
            raise UptimeRobotError("%s: %s, not the API's JSON" % (method, _hardened._status_line(response))) \
                from None
        if not isinstance(answer, dict) or answer.get("stat") not in ("ok", "fail"):
            raise UptimeRobotError("%s: HTTP %d with an answer that is not UptimeRobot's"
                                   % (method, response.status_code))
        if answer["stat"] != "ok" or response.status_code >= 400:
            text, kind = _error_text(answer.get("error"))
            hint = ""
            if "api_key" in text:
                hint = " (check monitoring_uptimerobot_api_key: the account's Main API key, not a read-only one)"
            raise UptimeRobotError("%s: %s%s" % (method, text, hint), kind=kind)
        return answer

    def _pages(self, method: str, key: str, **params: t.Any) -> list:
        items: list = []
        offset = 0
        for _page in range(MAX_PAGES):
            answer = self.call(method, offset=offset, limit=PAGE, **params)
            page = answer.get(key) or []
            items.extend(page)
            info = answer.get("pagination") or answer  # getMonitors nests it, getAlertContacts does not
            total = int(info.get("total") or 0)
            offset += len(page)
            if not page or offset >= total:
                break
        return items

    def monitors(self) -> list:
        return self._pages("getMonitors", "monitors", alert_contacts=1)

    def alert_contacts(self) -> list:
        return self._pages("getAlertContacts", "alert_contacts")

    def new_monitor(self, fields: dict) -> dict:
        return self.call("newMonitor", **fields).get("monitor") or {}

    def edit_monitor(self, monitor_id: t.Any, fields: dict) -> None:
        self.call("editMonitor", id=monitor_id, **fields)

    def delete_monitor(self, monitor_id: t.Any) -> None:
        self.call("deleteMonitor", id=monitor_id)

    def new_alert_contact(self, fields: dict) -> dict:
        return self.call("newAlertContact", **fields).get("alertcontact") or {}

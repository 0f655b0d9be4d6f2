# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTP session for calls to services the operator configured (Prometheus, Alertmanager).

Like the Cloudflare client (issue #12 item 11): nothing is read from the environment (proxies,
CA bundles, ``.netrc`` credentials), no redirect is followed (a service that moved must be
configured again, not trusted to send the call elsewhere), and HTTPS is verified against
OpenSSL's default store plus the CA file given. Every call still passes its own timeout.
"""

from __future__ import annotations

import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api

try:
    import requests
    RequestException: t.Any = requests.RequestException
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - the callers' modules report the missing library
    RequestException = OSError
    HAS_REQUESTS = False


def session(ca_path: str | None = None) -> t.Any:
    """A requests session that trusts only what it is told to."""
    if not HAS_REQUESTS:  # pragma: no cover
        raise RuntimeError("the Python library requests is needed on the controller")
    http = requests.Session()
    http.trust_env = False
    http.max_redirects = 0
    http.mount("https://", cloudflare_api.TrustAdapter(cloudflare_api.trust_context(ca_path or True)))
    return http

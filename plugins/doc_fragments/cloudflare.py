# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every Cloudflare module of the collection reaches the API."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - requests
options:
  zone:
    description: Name of the zone (for example V(example.com)).
    type: str
    required: true
  api_url:
    description:
      - Base URL of the Cloudflare API v4.
      - Must be an C(https://) URL; an C(http://) URL is refused, since the API token would travel in clear.
    type: str
    default: https://api.cloudflare.com/client/v4
  timeout:
    description: Seconds each API call may take.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the API's TLS certificate, against OpenSSL's default store unless O(ca_path) is given.
      - Proxy, CA bundle and C(.netrc) settings from the environment (C(HTTPS_PROXY), C(REQUESTS_CA_BUNDLE),
        C(SSL_CERT_FILE)...) are never used.
    type: bool
    default: true
  ca_path:
    description: PEM file of CA certificates to trust for the API instead of the system store.
    type: path
"""

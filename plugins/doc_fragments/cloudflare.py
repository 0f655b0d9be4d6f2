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
    description: Base URL of the Cloudflare API v4.
    type: str
    default: https://api.cloudflare.com/client/v4
  timeout:
    description: Seconds each API call may take.
    type: float
    default: 30
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of CA certificates to trust for the API instead of the system store.
    type: path
"""

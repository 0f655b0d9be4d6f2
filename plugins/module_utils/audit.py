# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Stage 1 audit checks of one site: the entry point for plugins and tests."""

from __future__ import annotations

import typing as t

# Importing a family registers its checks.
from ansible_collections.launchready.ops.plugins.module_utils import (
    check_registry,
    checks_cache,
    checks_content,
    checks_dns,
    checks_edge,
    checks_email,
    checks_http,
    checks_privacy,
    checks_renewal,
    checks_secrets,
    checks_tls,
    past_bad_certificate,
    root_cause,
)
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod

FAMILY_MODULES = (checks_dns, checks_http, checks_tls, checks_email, checks_edge, checks_cache, checks_content,
                  checks_renewal, checks_secrets, checks_privacy)

DEFAULT_FAMILIES = ("dns.", "http.", "tls.", "email.", "edge.", "cache.", "content.", "secrets.", "privacy.")


def run(site_vars: dict, checks: t.Sequence[str] | None = None, workers: int = 16) -> list:
    """Findings for the site described by ``site_vars`` (launch_* variables).

    ``checks`` holds ids ("tls.cert_expiry") or family prefixes ending with a dot
    ("dns."); by default every DEFAULT_FAMILIES check runs.
    """
    site = site_mod.from_vars(site_vars)
    wanted = list(checks or DEFAULT_FAMILIES)
    ids = [c for c in wanted if not c.endswith(".")]
    prefixes = [c for c in wanted if c.endswith(".")]
    found = check_registry.run(site, check_registry.select(ids=ids, prefixes=prefixes), workers=workers)
    # One pass once every check of the site ran: echoes of a certificate, DNS or loop defect fold under it.
    found = root_cause.attach_blocked_by(found)
    # Then what the certificate kept from running runs again past it, pinned to the leaf tls.cert_valid saw.
    return past_bad_certificate.rejudge(site, found, workers=workers)

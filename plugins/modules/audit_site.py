#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: audit_site
short_description: Run the launch audit checks (DNS, redirects, HTTPS, TLS) of one site
version_added: 0.1.0
description:
  - Runs the Stage 1 checks of the launchready check catalog (C(dns.*), C(http.*), C(tls.*))
    against one site, from the controller, as a customer would reach it.
  - Names are resolved through C(launch_resolvers); every resolved address is probed with
    SNI and Host set to the name, trusting C(launch_ca_bundle) on top of the system store.
  - Every probe has a timeout; a check that cannot finish reports C(error), never C(pass).
  - Runs as an action plugin in the controller process; checks run concurrently.
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description:
      - The site description, as a dict of C(launch_*) variables (see the collection README).
      - When omitted, every C(launch_*) variable of the host is used.
    type: dict
  checks:
    description:
      - Check ids (V(tls.cert_expiry)) or family prefixes ending in a dot (V(dns.)) to run.
      - Default runs every C(dns.), C(http.), C(tls.), C(email.), C(edge.), C(cache.), C(content.) and C(privacy.) check
        (C(privacy.logs_pii) runs on the app hosts, through M(launchready.ops.logs_pii)).
    type: list
    elements: str
  workers:
    description: How many checks run at once.
    type: int
    default: 16
attributes:
  check_mode:
    support: full
    description: The audit only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing on a managed host changes, so there is nothing to diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Needs dnspython and cryptography on the controller.
seealso:
  - module: launchready.ops.launch_report
"""

EXAMPLES = r"""
- name: Audit the site described by this host's launch_* variables
  launchready.ops.audit_site:
  register: audit

- name: Only the TLS checks, for an explicit site
  launchready.ops.audit_site:
    checks: [tls.]
    site:
      launch_domain: shop.example
      launch_resolvers: ["1.1.1.1"]
"""

RETURN = r"""
site:
  description: The audited apex domain.
  returned: always
  type: str
  sample: shop.test
findings:
  description: One entry per check and target, in the report format.
  returned: success
  type: list
  elements: dict
  sample:
    - check: tls.cert_expiry
      status: fail
      impact: high
      stage: audit
      target: www.shop.test
      summary: certificate expires in 3 days (2026-12-02)
      evidence: {}
      fix: Renew the certificate.
counts:
  description: How many findings have each status.
  returned: success
  type: dict
  sample: {pass: 20, warn: 1, fail: 0, error: 0, skip: 1}
verdict:
  description: V(fail) if any finding failed or errored, V(warn) if any warned, else V(pass).
  returned: success
  type: str
  sample: pass
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "dict"},
    "checks": {"type": "list", "elements": "str"},
    "workers": {"type": "int", "default": 16},
}}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: load_check
short_description: Run the Stage 5 load sanity check of one site (load.* checks)
version_added: 0.1.0
description:
  - Sends a bounded load to the site's canonical host from the controller and returns the
    C(load.p95), C(load.errors), C(load.degradation), C(load.vendor_timeout) and C(load.db_queries) findings.
  - Open model first (each key route at a constant arrival rate, latency from the intended send
    time), then a closed model (1 user, then C(launch_load.users) users walking homepage, login,
    cart, checkout and chatbot, each with its own session; logins from C(launch_customers)).
  - Hard caps on duration, total requests and requests in flight; every request has a total deadline.
  - Names resolve through C(launch_resolvers); trust is the system store plus C(launch_ca_bundle);
    redirects are followed only on the same scheme, host and port.
  - Only where the site declares C(launch_load.fault_hook) is its chatbot vendor made to hang
    (and always released after); otherwise C(launch_load.chatbot_budget) is reported, or the check skips.
  - Per route it returns counts, errors by kind, p50/p90/p95/p99/max from HDR histograms, the
    connect, TLS and first-byte phases and a per-second timeline (in the evidence of C(load.errors)).
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description:
      - The site description, as a dict of C(launch_*) variables. When omitted, the host's C(launch_*) variables.
      - "C(launch_load): C(users) (5), C(rate) req/s (20), C(duration) s (30), C(max_requests) (2000),
        C(max_in_flight) (50), C(timeout) s (10), C(think_time) s (0.5), C(scheme) (https), C(port),
        C(checkout_body), C(chat_message), C(metrics_url), C(query_metric) (db_queries_total),
        C(requests_metric) (http_requests_total), C(query_header), C(fault_hook) ({url, set, clear}),
        C(chatbot_budget) s, C(vendor_burst) (3)."
    type: dict
attributes:
  check_mode:
    support: none
    description: It sends real traffic; in check mode it sends nothing and reports skipped.
  diff_mode:
    support: none
    description: Nothing changes on a managed host.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Needs hdrhistogram and dnspython on the controller.
  - Run it alone, after the audit; it never runs beside another check of the same site.
seealso:
  - module: launchready.ops.launch_report
"""

EXAMPLES = r"""
- name: Load sanity check of this host's site
  launchready.ops.load_check:
  register: load

- name: Write the findings (and the load section) into the site's report
  launchready.ops.launch_report:
    site: "{{ launch_domain }}"
    findings: "{{ load.findings }}"
    dest: "./reports/{{ inventory_hostname }}"
"""

RETURN = r"""
site:
  description: The site's apex domain.
  returned: success
  type: str
  sample: shop.test
findings:
  description: The load.* findings in the report format; C(load.errors) carries the run's data in C(evidence.load_run).
  returned: success
  type: list
  elements: dict
counts:
  description: How many findings have each status.
  returned: success
  type: dict
  sample: {pass: 8, warn: 0, fail: 1, error: 0, skip: 0}
verdict:
  description: V(fail) if any finding failed or errored, V(warn) if any warned, else V(pass).
  returned: success
  type: str
  sample: pass
recommendations:
  description: What to change, derived from the numbers (route, phase, queries).
  returned: success
  type: list
  elements: str
  sample: ["checkout (/api/checkout) p95 2.46 s, 2.45 s of it before the first byte: the time is spent in the app."]
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {"site": {"type": "dict"}}}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: status_page
short_description: Render the founder's status page (self-contained HTML, inline SVG charts) from Prometheus
version_added: 0.1.0
description:
  - Asks Prometheus (only O(prometheus_url), each request with O(timeout), the whole page within
    O(deadline)) for uptime per route over 24 h and 7 d, the error rate, p95 per route, the probes
    and the firing alerts, and draws the deploys of the release ledger as markers on the charts.
  - The page needs no network to view; every value is HTML-escaped.
author:
  - launchready.ops developers (@launchready)
options:
  prometheus_url:
    description: Prometheus's base URL, as seen from this host.
    type: str
    required: true
  site:
    description: The site label (launch_domain) the panels are filtered on.
    type: str
    required: true
  dest:
    description: Where to write the page.
    type: path
    required: true
  ledger:
    description: A release ledger (C(.launchready/releases.log)) to read the deploy markers from.
    type: path
  deploys:
    description: Deploy records C({release, commit, user, started, finished, state}), added to the ledger's.
    type: list
    elements: dict
    default: []
  window:
    description: Seconds of history the charts show.
    type: float
    default: 86400
  timeout:
    description: Seconds each Prometheus request may take.
    type: float
    default: 5
  deadline:
    description: Seconds the whole page may take.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reads Prometheus, writes nothing.
  diff_mode:
    support: none
    description: The page is a report, rewritten every run; no diff is shown.
  idempotent:
    support: none
    description: The page shows the time it was made.
"""

EXAMPLES = r"""
- name: Write the status page
  launchready.ops.status_page:
    prometheus_url: http://127.0.0.1:9090
    site: shop.example
    ledger: /srv/shop/.launchready/releases.log
    dest: /var/www/status/index.html
"""

RETURN = r"""
dest:
  description: The page written.
  returned: success
  type: str
panels:
  description: How many data points each chart holds (0 means an empty chart).
  returned: success
  type: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={
        "prometheus_url": {"type": "str", "required": True},
        "site": {"type": "str", "required": True},
        "dest": {"type": "path", "required": True},
        "ledger": {"type": "path"},
        "deploys": {"type": "list", "elements": "dict", "default": []},
        "window": {"type": "float", "default": 86400.0},
        "timeout": {"type": "float", "default": 5.0},
        "deadline": {"type": "float", "default": 30.0},
    }, supports_check_mode=True)
    p = module.params
    try:
        from ansible_collections.launchready.ops.plugins.module_utils import status_page as S
        deploys = (S.read_ledger(p["ledger"]) if p["ledger"] else []) + list(p["deploys"])
        data = S.build(p["prometheus_url"], p["site"], deploys, window=p["window"], timeout=p["timeout"],
                       deadline=p["deadline"])
    except Exception as exc:  # requests' and our errors alike: name the endpoint
        module.fail_json(msg="could not build the status page from %s: %s" % (p["prometheus_url"], exc))
    panels = {"errors": sum(len(v) for _l, v in data["errors"]), "p95": sum(len(v) for _l, v in data["p95"]),
              "up": sum(len(v) for _l, v in data["up"]), "uptime_routes": len(data["uptime"])}
    if not module.check_mode:
        page = S.render(data)
        directory = os.path.dirname(p["dest"]) or "."
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".status-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p["dest"])
    module.exit_json(changed=not module.check_mode, dest=p["dest"], panels=panels,
                     last_deploy=deploys[-1] if deploys else None)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_info
short_description: The release table of an app host, and whether the app serves the live release
version_added: 0.2.0
description:
  - Reads the release root written by M(launchready.ops.release) (ledger, C(releases/), C(current)) and
    returns one row per release - name, commit, ref, started, finished, user, host, state (V(live),
    V(good), V(pending), V(failed), V(rolled back)) - oldest first.
  - With O(version_url), asks the app what it serves (JSON with C(commit) and C(release)) and says
    whether that matches the live release.
  - Returns the C(deploy.*) findings of the launch check catalog for this host, ready for
    M(launchready.ops.launch_report).
author:
  - launchready.ops developers (@launchready)
options:
  root:
    description: Absolute path of the release root.
    type: path
    required: true
  version_url:
    description: URL of the app's version endpoint, asked from the host (for example V(http://127.0.0.1:8081/version)).
    type: str
  timeout:
    description: Seconds the version request may take.
    type: float
    default: 5
  second_plan:
    description: Internal to the deploy role. What a second deploy of the same ref would change, for C(deploy.repeatable).
    type: dict
  migrations:
    description: Internal to the deploy role. Both migration runs, for C(deploy.migrations_rerun).
    type: dict
  target:
    description: Name of this host in the findings. Default the host name.
    type: str
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the app host.
seealso:
  - module: launchready.ops.release
"""

EXAMPLES = r"""
- name: Read the release table
  launchready.ops.release_info:
    root: /srv/shop
    version_url: http://127.0.0.1:8081/version
  register: releases

- name: Show it
  ansible.builtin.debug:
    msg: "{{ releases.table }}"
"""

RETURN = r"""
releases:
  description: One entry per release, oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - release: 20261129T120000Z-0123456789ab
      commit: 0123456789abcdef0123456789abcdef01234567
      ref: main
      started: "2026-11-29T12:00:00Z"
      finished: "2026-11-29T12:00:09Z"
      user: deploy
      host: app1
      state: live
      on_disk: true
      complete: true
      live: true
live:
  description: The release C(current) points at.
  returned: always
  type: str
previous_good:
  description: The release a rollback would switch to.
  returned: always
  type: str
served:
  description: What the version endpoint answered (JSON), when O(version_url) is set and it answered.
  returned: when version_url is set
  type: dict
matches:
  description: Whether the app serves the live release (null when not asked or no answer).
  returned: always
  type: bool
table:
  description: The release table as text lines, for the terminal.
  returned: always
  type: list
  elements: str
findings:
  description:
    - The deploy.* findings for this host, in the report format - deploy.live_release and deploy.rollback_ready
      always, deploy.repeatable and deploy.migrations_rerun when O(second_plan) and O(migrations) are given.
  returned: always
  type: list
  elements: dict
lock:
  description: The deploy lock's holder, or null when free.
  returned: always
  type: dict
"""

import json
import socket
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.launchready.ops.plugins.module_utils import checks_deploy
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import release as R


def fetch_version(url: str, timeout: float) -> tuple:
    """(json dict, None) or (None, why not)."""
    try:
        resp = open_url(url, headers={"Accept": "application/json", "Cache-Control": "no-cache"}, timeout=timeout,
                        validate_certs=True)
        try:
            body = resp.read(256 * 1024)
        finally:
            resp.close()
        data = json.loads(body)
    except urllib.error.HTTPError as exc:
        return None, "HTTP %d" % exc.code
    except (urllib.error.URLError, OSError, socket.timeout) as exc:
        return None, "%s" % getattr(exc, "reason", exc)
    except ValueError:
        return None, "the answer is not JSON"
    if not isinstance(data, dict):
        return None, "the answer is not a JSON object"
    return data, None


def table(rows: list, served: dict | None) -> list:
    head = "%-32s %-12s %-20s %-20s %-12s %s" % ("release", "commit", "started", "finished", "user", "state")
    lines = [head]
    for row in rows:
        state = row["state"] or "?"
        if not row["on_disk"]:
            state += " (deleted)"
        elif not row["complete"]:
            state += " (incomplete)"
        lines.append("%-32s %-12s %-20s %-20s %-12s %s" % (
            row["release"], (row["commit"] or "?")[:12], row["started"] or "-", row["finished"] or "-",
            row["user"] or "-", state))
    if served is not None:
        lines.append("served: release %s commit %s" % (served.get("release", "?"), str(served.get("commit", "?"))[:12]))
    return lines


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            version_url=dict(type="str"),
            timeout=dict(type="float", default=5.0),
            second_plan=dict(type="dict"),
            migrations=dict(type="dict"),
            target=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        root = R.Root(p["root"])
    except R.ReleaseError as exc:
        module.fail_json(msg=str(exc))
    rows = root.releases()
    live = root.live()
    served, served_error = (None, None)
    if p["version_url"]:
        served, served_error = fetch_version(p["version_url"], p["timeout"])
    facts = checks_deploy.DeployFacts(
        domain=p["target"] or socket.gethostname(), root=root.path, releases=rows, live=live,
        previous_good=root.previous_good(), served=served, served_error=served_error,
        version_url=p["version_url"], second_plan=p["second_plan"], migrations=p["migrations"])
    # Only what this run judged: the report keeps earlier findings of the other checks.
    ids = [checks_deploy.LIVE_RELEASE.id, checks_deploy.ROLLBACK_READY.id]
    if p["second_plan"] is not None:
        ids.append(checks_deploy.REPEATABLE.id)
    if p["migrations"] is not None:
        ids.append(checks_deploy.MIGRATIONS_RERUN.id)
    found = checks_deploy.evaluate(facts, ids)
    by_id = {f.check: f for f in found}
    live_finding = by_id[checks_deploy.LIVE_RELEASE.id]
    matches = None
    if served is not None and live is not None:
        matches = live_finding.status == F.PASS
    module.exit_json(changed=False, root=root.path, releases=rows, live=live, previous_good=facts.previous_good,
                     served=served, served_error=served_error, matches=matches, table=table(rows, served),
                     findings=[f.to_dict() for f in found], lock=root.lock_holder())


if __name__ == "__main__":
    main()

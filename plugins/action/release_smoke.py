# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.release_smoke: the health gate runs on the controller.

Customers reach the site through its public name; so does the gate.
"""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import site, smoke
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self.validated_args()
        site_vars = args["site"]
        if site_vars is None:
            site_vars = {k: self._templar.template(v) for k, v in task_vars.items() if k.startswith("launch_")}
        if self._task.check_mode:
            result.update(changed=False, skipped=True, msg="the health gate does not run in check mode")
            return result
        try:
            outcome = smoke.run(site_vars, checks=args["checks"] or smoke.DEFAULT_CHECKS, base_url=args["base_url"],
                                expect_commit=args["expect_commit"], retries=args["retries"], delay=args["delay"])
        except site.SiteError as exc:
            result.update(failed=True, msg="invalid site description for the health gate: %s" % exc)
            return result
        result.update(changed=False, **outcome)
        if not outcome["ok"]:
            result.update(failed=True, msg="health gate failed: %s" % "; ".join(outcome["failures"]))
        return result

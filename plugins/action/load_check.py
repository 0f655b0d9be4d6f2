# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.load_check: the bounded load run, from the controller."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

try:
    from ansible_collections.launchready.ops.plugins.module_utils import findings, site
    from ansible_collections.launchready.ops.plugins.plugin_utils import load_check
    IMPORT_ERROR = None
except ImportError as exc:  # hdrhistogram or dnspython missing on the controller
    IMPORT_ERROR = exc


class ActionModule(TwinActionBase):
    _supports_check_mode = False  # it sends real traffic, and may inject the site's declared fault
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        if IMPORT_ERROR is not None:
            raise AnsibleError("launchready.ops.load_check needs hdrhistogram and dnspython on the controller: "
                               "pip install -r requirements.txt (%s)" % IMPORT_ERROR)
        if self._task.check_mode:
            result.update(skipped=True, msg="check mode: no load is sent")
            return result
        args = self.validated_args()
        site_vars = args["site"]
        if site_vars is None:
            site_vars = {k: self._templar.template(v) for k, v in task_vars.items() if k.startswith("launch_")}
        try:
            found = load_check.run(site_vars)
        except (site.SiteError, load_check.PlanError) as exc:
            result.update(failed=True, msg="invalid site description: %s" % exc)
            return result
        result.update(changed=False, site=site_vars.get("launch_domain"),
                      findings=[f.to_dict() for f in found], counts=findings.counts(found),
                      verdict=findings.overall(found),
                      recommendations=next((f.evidence.get("recommendations", []) for f in found
                                            if f.check == "load.errors"), []))
        return result

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.logs_pii: with no paths the skip is decided on the controller.

Without ``launch_log_paths`` the audit role still runs logs_pii once per site, with no paths,
for its ``skip`` finding.  Shipping and starting the module for that cost a Python process
per site (a quarter of a second each in a fleet); the same finding is made here instead.
With paths, the module runs on its host as before.
"""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import logs_pii
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        args = self.validated_args()
        # Only the plain skip is made here; anything else (paths, or no target to name) is the module's.
        if args.get("paths") == [] and args.get("target"):
            result = super().run(tmp, task_vars)
            found = logs_pii.skipped(args["target"], logs_pii.NO_PATHS)
            result.update(changed=False, findings=[found.to_dict()])
            return result
        return self._execute_module(module_name="launchready.ops.logs_pii", task_vars=task_vars)

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.app_env: compares environments' secrets on the controller.

The secrets of other environments (staging, when deploying production) never travel to
the app host: ``compare`` is judged here and dropped from the module's arguments; only
names and short fingerprints come back.
"""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import app_env as E
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        self.validated_args()  # fails here, before any secret is compared; the module gets the task's own args
        args = dict(self._task.args)
        compare = args.pop("compare", None)
        target = args.get("target") or task_vars.get("inventory_hostname")
        args["target"] = target
        separation = None
        if compare is not None:
            if not isinstance(compare, dict) or not all(isinstance(v, dict) for v in compare.values()):
                result.update(failed=True, msg="compare must map environment names to {NAME: value} mappings")
                return result
            separation = E.env_separation(target, compare)
        out = self._execute_module(module_name="launchready.ops.app_env", module_args=args, task_vars=task_vars)
        if separation is not None:
            out["findings"] = list(out.get("findings") or []) + [separation.to_dict()]
        result.update(out)
        return result

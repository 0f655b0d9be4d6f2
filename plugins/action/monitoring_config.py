# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.monitoring_config: validate the inputs, build the stack's configs (controller side)."""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import monitoring_config as M
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.validated_args()
        try:
            built = M.build_all(args["sites"], args["settings"])
        except (M.MonitoringConfigError, site_mod.SiteError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, **built)
        return result

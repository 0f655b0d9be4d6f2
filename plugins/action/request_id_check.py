# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.request_id_check: the logs.request_id verdict from the gathered facts."""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import checks_monitoring as C
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import request_id_trace
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.validated_args()
        gathered = request_id_trace.facts(args["request"], args["searches"])
        found = C.evaluate(C.MonitorFacts(domain=args["site"], request_id=gathered), [C.REQUEST_ID.id])
        result.update(changed=False, request_id=gathered, findings=[f.to_dict() for f in found],
                      verdict=F.overall(found))
        return result

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.launch_report: writes the reports on the controller."""

from __future__ import annotations

import os

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.plugin_utils import reports
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.validated_args()
        try:
            items = [F.Finding.from_dict(f) for f in args["findings"]]
        except (TypeError, ValueError) as exc:
            result.update(failed=True, msg="findings are not in the report format: %s" % exc)
            return result
        report = reports.build(args["site"], items)
        previous = reports.load(os.path.join(args["dest"], "report.json"))
        if args["merge"]:
            report = reports.merge(previous, report)
        changed = not reports.same(previous, report)
        paths = {name: os.path.join(args["dest"], name) for name in reports.REPORT_FILES}
        if not self._task.check_mode:
            paths = reports.write(args["dest"], report)
        merged = [F.Finding.from_dict(f) for f in report["findings"]]
        result.update(
            changed=changed,
            paths=paths,
            verdict=F.overall(merged),
            counts=F.counts(merged),
            summary=reports.summary_lines(report),
            risks=reports.risks_of(report),
        )
        return result

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.chatbot_eval: the eval talks to the site from the controller."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

try:
    from ansible_collections.launchready.ops.plugins.module_utils import (
        chatbot_eval,
        checks_privacy,
        findings,
        site,
    )
    IMPORT_ERROR = None
except ImportError as exc:  # dnspython missing on the controller
    IMPORT_ERROR = exc


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def _site_from_vars(self, task_vars: dict) -> dict:
        return {k: self._templar.template(task_vars[k]) for k in task_vars if k.startswith("launch_")}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        if IMPORT_ERROR is not None:
            raise AnsibleError("launchready.ops.chatbot_eval needs dnspython on the controller: "
                               "pip install -r requirements.txt (%s)" % IMPORT_ERROR)
        args = self.validated_args()
        site_vars = dict(args["site"] if args["site"] is not None else self._site_from_vars(task_vars))
        if args["sets"]:
            evaluation = dict(site_vars.get("launch_chatbot_eval") or {})
            evaluation["sets"] = list(evaluation.get("sets") or []) + list(args["sets"])
            site_vars["launch_chatbot_eval"] = evaluation
        try:
            the_site = site.from_vars(site_vars)
            chatbot_eval.load_sets(the_site.chatbot_eval["sets"])  # a bad set file stops here, by name
        except (site.SiteError, chatbot_eval.EvalSetError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        found, run = checks_privacy.eval_findings(the_site)
        result.update(changed=False, findings=[f.to_dict() for f in found], verdict=findings.overall(found))
        if run:
            result.update(categories=run["categories"], failures=run["failures"], errors=run["errors"],
                          requests=run["requests"], elapsed_s=run["elapsed_s"])
        return result

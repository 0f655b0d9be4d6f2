# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.audit_site: probes run in the controller process.

The public edge is probed from the controller, as a customer would reach it, and
an action plugin costs milliseconds where a module costs a process per task.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

try:
    from ansible_collections.launchready.ops.plugins.module_utils import audit, findings, site
    IMPORT_ERROR = None
except ImportError as exc:  # dnspython or cryptography missing on the controller
    IMPORT_ERROR = exc


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def _site_from_vars(self, task_vars: dict) -> dict:
        # edge_provider is the edge playbook's switch; launch_edge_provider falls back to it.
        names = [k for k in task_vars if k.startswith("launch_") or k == "edge_provider"]
        return {k: self._templar.template(task_vars[k]) for k in names}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        if IMPORT_ERROR is not None:
            raise AnsibleError("launchready.ops.audit_site needs dnspython and cryptography on the "
                               "controller: pip install -r requirements.txt (%s)" % IMPORT_ERROR)
        args = self.validated_args()
        site_vars = args["site"] if args["site"] is not None else self._site_from_vars(task_vars)
        try:
            found = audit.run(site_vars, checks=args["checks"], workers=args["workers"])
        except site.SiteError as exc:
            result.update(failed=True, msg="invalid site description: %s" % exc)
            return result
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(
            changed=False,
            site=site_vars.get("launch_domain"),
            findings=[f.to_dict() for f in found],
            counts=findings.counts(found),
            verdict=findings.overall(found),
        )
        return result

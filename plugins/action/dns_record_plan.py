# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.dns_record_plan: read the sets, merge, show the diff (controller side)."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

try:
    from ansible_collections.launchready.ops.plugins.module_utils import dns_record_sets as R
    from ansible_collections.launchready.ops.plugins.module_utils import rfc2136
    IMPORT_ERROR = None if rfc2136.HAS_DNSPYTHON else ImportError("dnspython")
except ImportError as exc:  # pragma: no cover
    IMPORT_ERROR = exc


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        if IMPORT_ERROR is not None:
            raise AnsibleError("launchready.ops.dns_record_plan needs dnspython on the controller (%s)" % IMPORT_ERROR)
        args = self.validated_args()
        try:
            wants = [R.want_from_dict(item, args["zone"], default_ttl=args["ttl"]) for item in args["records"]]
        except ValueError as exc:
            result.update(failed=True, msg="records: %s" % exc)
            return result
        records, changes, diffs = [], [], []
        for want in wants:
            try:
                current = rfc2136.read_set(args["server"], args["port"], want.name, want.type, args["timeout"])
            except rfc2136.Rfc2136Error as exc:
                result.update(failed=True, msg="cannot read the current %s %s records, so nothing is published: %s"
                                               % (want.name, want.type, exc))
                return result
            merged = R.merge(want, current["values"])
            state = "present" if merged["after"] else "absent"
            records.append({"record": want.name + ".", "type": want.type, "ttl": want.ttl, "state": state,
                            "value": [rfc2136.for_nsupdate(want.type, v) for v in merged["after"] if v != ""]})
            ttl_changed = bool(merged["after"]) and current["ttl"] is not None and current["ttl"] != want.ttl
            if merged["changed"] or ttl_changed:
                changes.append({"record": want.name, "type": want.type, "before": merged["before"],
                                "after": merged["after"], "kept": merged["foreign"]})
                # One TTL per set in DNS: the values kept take the set's new TTL too.
                diffs.append(R.diff(want.name, want.type, [(v, current["ttl"]) for v in merged["before"]],
                                    [(v, want.ttl) for v in merged["after"]],
                                    where="%s:%s" % (args["server"], args["port"])))
        # changed says that the server's sets differ from the wanted ones (the next task will write),
        # which is also what lets Ansible show the diff.
        result.update(changed=bool(changes), records=records, changes=changes)
        if diffs and self._task.diff:
            result["diff"] = diffs
        return result

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.request_id_send: one request with a fresh X-Request-ID, from the controller."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

try:
    from ansible_collections.launchready.ops.plugins.module_utils import check_registry, request_id_trace
    from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
    IMPORT_ERROR = None
except ImportError as exc:  # dnspython missing on the controller
    IMPORT_ERROR = exc


def log_hosts(log_paths, groups: dict) -> list:
    """launch_log_paths ({host group or host: [globs]}) as [{host, paths}], groups expanded; ValueError if malformed."""
    if not isinstance(log_paths, dict):
        raise ValueError("launch_log_paths must map a host group or host to a list of log file globs, got %r"
                         % (log_paths,))
    out: dict = {}
    for key, globs in log_paths.items():
        if isinstance(globs, str):
            globs = [globs]
        if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g.strip() for g in globs):
            raise ValueError("launch_log_paths[%r] must be a non-empty list of log file globs, got %r" % (key, globs))
        for host in groups.get(key) or [key]:
            out.setdefault(host, [])
            out[host].extend(g for g in globs if g not in out[host])
    return [{"host": host, "paths": paths} for host, paths in out.items()]


class ActionModule(TwinActionBase):
    _supports_check_mode = True  # a GET of the health route changes nothing
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        if IMPORT_ERROR is not None:
            raise AnsibleError("launchready.ops.request_id_send needs dnspython on the controller: "
                               "pip install -r requirements.txt (%s)" % IMPORT_ERROR)
        args = self.validated_args()
        try:
            site = site_mod.from_vars(args["site"])
        except site_mod.SiteError as exc:
            result.update(failed=True, msg="invalid site description: %s" % exc)
            return result
        log_paths = args["site"].get("launch_log_paths")
        try:
            hosts = None if log_paths is None else log_hosts(log_paths, (task_vars or {}).get("groups") or {})
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, request=request_id_trace.send(site, check_registry.Probes()), log_hosts=hosts)
        return result

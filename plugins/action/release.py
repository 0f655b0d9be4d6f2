# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for launchready.ops.release: says who deploys, and recovers locks of dead deploys.

The module runs on the app host and cannot see the controller. This plugin adds the
controller's user, host name, machine-id, boot id and the ansible-playbook pid with its
start time to the module's ``owner``, so the ledger records who deployed and the lock names
its holder. When a lock is refused and its holder is a process of this very machine (same
machine-id, not just the same host name) that no longer runs - gone, or its pid reused by
another process - the lock is provably abandoned (a deploy killed with SIGKILL, a closed
laptop lid): the plugin clears it by its token and takes it, and says so. Any other held
lock stays refused.
"""

from __future__ import annotations

import getpass
import os
import socket

from ansible_collections.launchready.ops.plugins.module_utils import release as R
from ansible_collections.launchready.ops.plugins.plugin_utils.module_twin import TwinActionBase

# Where a controller without /etc/machine-id keeps the id generated for it.
MACHINE_ID_FALLBACK = os.path.join(os.path.expanduser("~"), ".ansible", "launchready", "machine-id")


def controller_owner(target: str) -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    host = socket.gethostname()
    # Workers are forked from ansible-playbook: the parent is the run that holds the lock.
    owner = {"owner": "%s@%s" % (user, host), "user": user, "controller": host, "target": target}
    owner.update(R.process_identity(os.getppid(), MACHINE_ID_FALLBACK))
    return owner


class ActionModule(TwinActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        # Checked here, before the lock is touched; the module on the host gets the task's own
        # arguments (paths are the host's, not expanded on the controller).
        self.validated_args()
        args = dict(self._task.args)
        owner = controller_owner(task_vars.get("inventory_hostname", "?"))
        owner.update(args.get("owner") or {})
        args["owner"] = owner
        out = self._execute_module(module_name="launchready.ops.release", module_args=args, task_vars=task_vars)
        holder = out.get("holder") or {}
        if (out.get("failed") and args.get("action") == "lock" and not self._task.check_mode
                and holder.get("token") and R.holder_gone(holder, owner)):
            retry = dict(args, break_token=holder["token"])
            out = self._execute_module(module_name="launchready.ops.release", module_args=retry, task_vars=task_vars)
            if not out.get("failed"):
                out["recovered"] = holder
                out["warnings"] = list(out.get("warnings") or []) + [
                    "took over the deploy lock of %s: its process %s on this machine is gone (a deploy that "
                    "was killed)" % (holder.get("owner"), holder.get("pid"))]
        result.update(out)
        return result

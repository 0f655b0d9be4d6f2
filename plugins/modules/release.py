#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release
short_description: One step of a release-tracked deploy on an app host (plan, prepare, switch, lock, cleanup)
version_added: 0.2.0
description:
  - Owns the on-host logic of the launchready.ops.release role, one O(action) per task.
  - "Layout under O(root): C(releases/NAME), C(shared/), C(current) (a symlink switched by renaming a
    temporary link over it, never removed first) and C(.launchready/releases.log), a JSON-lines ledger of
    every state change (V(pending), V(live), V(good), V(failed), V(rolled back)), written with fsync."
  - The deploy lock is a directory made with mkdir (atomic) holding C(owner.json) (owner, controller pid,
    ref, time, TTL, and the controller's machine-id, boot id and process start time). A held lock refuses
    with the holder named; a stale one is reported and cleared only with O(force). An action plugin of the
    same name adds the controller's identity, and takes over a lock only when its owner ran on this same
    machine (machine-id, not host name) and its process (pid and start time) is provably gone.
  - C(.launchready/) (ledger, lock, repository cache) is readable by its owner only (0700, files 0600).
  - A release only counts as complete once its C(REVISION) file exists; it is written just before the
    first switch, so a deploy killed at any point leaves C(current) on a complete release.
author:
  - launchready.ops developers (@launchready)
options:
  root:
    description: Absolute path of the release root.
    type: path
    required: true
  action:
    description:
      - V(plan) resolves O(version) to a commit and says what a deploy would do (read-only). Needs O(repo)
        (with O(version)) or O(archive) (with O(commit)).
      - V(prepare) exports the commit (or unpacks O(archive)) into C(releases/NAME), links the shared paths
        and writes a V(pending) ledger line. Needs O(name) and O(commit).
      - V(switch) makes O(name) live (writes C(REVISION) first when O(reason=deploy)) and records it.
      - V(finish) records that the live release O(name) serves and passed the health gate; until then a
        later deploy of the same commit resumes (restart, gate) instead of doing nothing. Needs O(name).
      - V(mark) records O(state) for O(name). Needs both.
      - V(lock), V(unlock) take and release the deploy lock.
      - V(cleanup) deletes old releases beyond O(keep) (never the live or the previous good one).
      - V(status) returns the release table.
    type: str
    required: true
    choices: [plan, prepare, switch, finish, mark, lock, unlock, cleanup, status]
  repo:
    description:
      - Git repository to deploy from (URL or path on the host), for O(action=plan) and O(action=prepare).
      - "A password or token in an http(s) URL (V(https://user:TOKEN@host/shop.git)) never reaches git's argv,
        the repository cache or a message: git gets the URL without it and the credentials through a
        credential helper reading the environment; messages show V(user:***@)."
      - A value starting with V(-) is refused (git would read it as an option).
      - Needs O(version).
    type: str
  version:
    description:
      - Branch, tag or commit to deploy (V(plan)), or the ref recorded in the ledger (V(prepare)).
      - A value starting with V(-) is refused.
    type: str
  archive:
    description: Path on the host of a tar archive of the app to deploy instead of O(repo). Needs O(commit).
    type: path
  name:
    description: Release name (V(prepare), V(switch), V(mark)). V(plan) proposes one.
    type: str
  commit:
    description: Commit (or archive checksum) of the release (V(prepare), and V(plan) of an O(archive)).
    type: str
  reason:
    description:
      - Why V(switch) runs. The release it replaces is recorded V(good) on a deploy (or a roll forward to a
        newer release), V(rolled back) on a rollback.
    type: str
    choices: [deploy, rollback]
    default: deploy
  state:
    description: State V(mark) records.
    type: str
    choices: [failed, good, rolled back]
  note:
    description: A short sentence stored with the ledger line (why a release failed, ...).
    type: str
  shared_files:
    description:
      - Files under C(shared/) linked into every release (V(prepare)).
      - Relative paths without empty, V(.) or V(..) parts; a path whose parent resolves outside the release
        (a symlink committed in the repository) is refused before anything is linked.
    type: list
    elements: str
    default: []
  shared_dirs:
    description: Directories under C(shared/) linked into every release (V(prepare)), checked like O(shared_files).
    type: list
    elements: str
    default: []
  keep:
    description: How many complete releases V(cleanup) keeps (failed and unfinished ones never count).
    type: int
    default: 5
  protect:
    description: Releases V(cleanup) must keep whatever their age.
    type: list
    elements: str
    default: []
  ttl:
    description: Seconds after which a held lock is reported stale (V(lock)).
    type: int
    default: 1800
  token:
    description: Token V(lock) returned; V(unlock) releases the lock only while it still holds this token.
    type: str
  force:
    description: V(lock) clears a held lock (stale or not) before taking it; V(unlock) releases whoever holds it.
    type: bool
    default: false
  owner:
    description:
      - Who takes the lock and deploys (set by the action plugin; C(owner), C(user), C(controller), C(pid),
        C(pid_start), C(machine_id), C(boot_id)).
    type: dict
    default: {}
  break_token:
    description: Internal to the action plugin. Clears a held lock only while it holds this token.
    type: str
attributes:
  check_mode:
    support: full
    description: Nothing is written; V(plan) and V(status) run as usual, the other actions report what would change.
  diff_mode:
    support: full
    description: V(plan) and V(switch) show C(current) before and after (release and commit).
  platform:
    support: full
    platforms: posix
    description: Runs on the app host; needs git there for O(repo), tar for O(archive).
notes:
  - The lock and the repository cache are bookkeeping; V(lock), V(unlock) and V(plan) never report a change.
seealso:
  - module: launchready.ops.release_info
"""

EXAMPLES = r"""
- name: Take the deploy lock
  launchready.ops.release:
    root: /srv/shop
    action: lock
    ttl: 1800
  register: lock

- name: Plan the deploy of a tag
  launchready.ops.release:
    root: /srv/shop
    action: plan
    repo: https://git.example.com/shop.git
    version: v1.4.0
  register: plan

- name: Switch to the new release
  launchready.ops.release:
    root: /srv/shop
    action: switch
    name: "{{ plan.release }}"

- name: Release the lock
  launchready.ops.release:
    root: /srv/shop
    action: unlock
    token: "{{ lock.token }}"
"""

RETURN = r"""
release:
  description: The release concerned (V(plan) proposes a new name, or the live one when nothing changes).
  returned: when relevant
  type: str
  sample: 20261129T120000Z-0123456789ab
commit:
  description: The commit O(version) resolves to (V(plan)).
  returned: when relevant
  type: str
live:
  description: The live release before this step.
  returned: always
  type: str
previous_good:
  description: The release a rollback would switch to.
  returned: always
  type: str
noop:
  description: V(plan) only. True when the live release already runs this commit.
  returned: when action is plan
  type: bool
token:
  description: V(lock) only. Pass it to V(unlock).
  returned: when action is lock
  type: str
holder:
  description: Who holds the lock, when V(lock) is refused.
  returned: when the lock is held
  type: dict
deleted:
  description: V(cleanup) only. Releases deleted (or that would be, in check mode).
  returned: when action is cleanup
  type: list
  elements: str
releases:
  description: V(status) only. The release table, oldest first.
  returned: when action is status
  type: list
  elements: dict
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.launchready.ops.plugins.module_utils import release as R


def _current_text(root: R.Root, name: str | None) -> str:
    if not name:
        return "current -> (nothing)\n"
    rev = root.revision(name) or {}
    commit = (rev.get("commit") or "?")[:12]
    return "current -> releases/%s (commit %s, ref %s)\n" % (name, commit, rev.get("ref") or "?")


def do_plan(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    live = root.live()
    live_rev = root.revision(live) if live else None
    # MODULE_SPEC requires repo with version, or archive with commit.
    if p["archive"]:
        commit = p["commit"]
    else:
        if module.check_mode:
            commit = R.resolve_remote(p["repo"], p["version"])
            if commit is None:
                module.fail_json(msg="%r is not a branch or tag of %s (in check mode only refs are resolved)"
                                 % (p["version"], R.GitSource(p["repo"])))
        else:
            # The layout and the repository cache are bookkeeping: no change is reported.
            root.ensure_layout()
            R.update_cache(root, p["repo"])
            commit = R.resolve_cached(root, p["version"])
    same = bool(live_rev and live_rev.get("commit") == commit)
    # Same commit, but the deploy that switched to it never finished (killed after the
    # switch): resume it on the same release (restart, health gate, ledger) instead of a no-op.
    resume = same and not root.live_confirmed()
    noop = same and not resume
    name = live if same else (p["name"] or R.new_name(commit))
    result = {"changed": False, "release": name, "commit": commit, "noop": noop, "resume": resume, "live": live,
              "live_commit": (live_rev or {}).get("commit"), "previous_good": root.previous_good(),
              "release_path": root.release_path(name), "existing": root.is_complete(name)}
    if module._diff:
        after = "current -> releases/%s (commit %s, ref %s)\n" % (name, commit[:12], p["version"] or p["archive"])
        result["diff"] = {"before_header": "%s (live)" % root.current, "after_header": "%s (planned)" % root.current,
                          "before": _current_text(root, live), "after": _current_text(root, live) if noop else after}
    return result


def do_prepare(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    name = R.check_name(p["name"] or "")
    path = root.release_path(name)
    result = {"release": name, "release_path": path, "live": root.live(), "previous_good": root.previous_good()}
    if root.is_complete(name):
        result["changed"] = False
        return result
    if module.check_mode:
        result["changed"] = True
        return result
    root.ensure_layout()
    if not os.path.isdir(path):
        staging = os.path.join(root.releases_dir, ".staging-%s-%d" % (name, os.getpid()))
        if p["archive"]:
            os.makedirs(staging, exist_ok=True)
            rc, out, err = module.run_command(["tar", "-x", "-f", p["archive"], "-C", staging])
            if rc != 0:
                module.fail_json(msg="unpacking %s failed: %s" % (p["archive"], err or out))
        else:
            if not p["repo"] and not os.path.isdir(root.repo_cache):
                module.fail_json(msg="action=prepare needs repo (or archive)")
            if p["repo"] and not R.has_commit(root, p["commit"]):
                R.update_cache(root, p["repo"])
            R.export(root, p["commit"], staging)
        os.rename(staging, path)
    root.link_shared(name, p["shared_files"], p["shared_dirs"])
    owner = p["owner"] or {}
    root.append(R.ledger_entry(name, R.PENDING, commit=p["commit"], ref=p["version"] or p["archive"],
                               started=R.utcnow(), user=owner.get("user"), host=owner.get("target")))
    result["changed"] = True
    return result


def rollback_target(module: AnsibleModule, root: R.Root) -> str:
    """The release a rollback goes to: NAME (a release name, commit or ref), else the previous good one."""
    wanted = module.params["name"] or module.params["version"]
    if wanted:
        record = root.find(wanted)
        if record is None:
            module.fail_json(msg="no complete release matches %r under %s; known: %s" % (
                wanted, root.releases_dir, ", ".join(r["release"] for r in root.releases() if r["complete"]) or "none"))
        return record["release"]
    prev = root.previous_good()
    if prev is None:
        module.fail_json(msg="no previous good release under %s to roll back to (live: %s)"
                         % (root.releases_dir, root.live()))
    return prev


def do_switch(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    name = rollback_target(module, root) if p["reason"] == "rollback" else R.check_name(p["name"] or "")
    live = root.live()
    rev = root.revision(name) or {}
    result = {"release": name, "commit": rev.get("commit") or p["commit"], "live": live, "previous": live,
              "previous_good": root.previous_good()}
    if module._diff:
        result["diff"] = {"before": _current_text(root, live), "after": _current_text(root, name)}
    if not os.path.isdir(root.release_path(name)):
        if module.check_mode and p["reason"] == "deploy":
            result["changed"] = True  # prepare would have made it
            return result
        module.fail_json(msg="release %s is not on disk under %s" % (name, root.releases_dir), **result)
    if live == name:
        # Switched by a run that never finished (killed before its restart or health gate):
        # report a change, so the restart and the gate run again.
        result["changed"] = not root.live_confirmed()
        return result
    if p["reason"] == "rollback" and not root.is_complete(name):
        module.fail_json(msg="release %s is not complete: it never finished a deploy" % name, **result)
    result["changed"] = True
    if module.check_mode:
        return result
    if not root.is_complete(name):
        rev_commit = p["commit"]
        if not rev_commit:
            module.fail_json(msg="release %s has no REVISION yet: pass commit to complete it" % name)
        R.write_revision(root, name, rev_commit, p["version"] or "")
    root.switch(name)
    owner = p["owner"] or {}
    who = {"user": owner.get("user"), "host": owner.get("target")}
    if live:
        old_state = R.ROLLED_BACK if p["reason"] == "rollback" else R.GOOD
        order = [r["release"] for r in root.releases()]
        if old_state == R.ROLLED_BACK and live in order and name in order and order.index(name) > order.index(live):
            # Going back to a newer release than the live one is a roll forward: the one
            # left was not found bad.
            old_state = R.GOOD
        root.append(R.ledger_entry(live, old_state, note=p["note"] if p["reason"] == "rollback" else None, **who))
    root.append(R.ledger_entry(name, R.LIVE, event=p["reason"], **who))
    result["previous_good"] = root.previous_good()
    return result


def do_finish(module: AnsibleModule, root: R.Root) -> dict:
    """The live release serves and passed the health gate: its deploy (or rollback) is finished."""
    p = module.params
    name = R.check_name(p["name"] or "")
    live = root.live()
    if module.check_mode and live != name:
        return {"changed": True, "release": name, "live": live}  # the switch before it would have made it live
    if live != name:
        module.fail_json(msg="release %s is not the live one (%s): it cannot be finished" % (name, live))
    changed = not root.live_confirmed()
    if changed and not module.check_mode:
        owner = p["owner"] or {}
        root.append(R.ledger_entry(name, R.LIVE, finished=R.utcnow(), event=p["reason"], user=owner.get("user"),
                                   host=owner.get("target")))
    return {"changed": changed, "release": name, "live": live, "previous_good": root.previous_good()}


def do_mark(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    name = R.check_name(p["name"] or "")
    record = next((r for r in root.releases() if r["release"] == name), None)
    changed = record is None or record["state"] != p["state"]
    if changed and not module.check_mode:
        owner = p["owner"] or {}
        root.append(R.ledger_entry(name, p["state"], note=p["note"], finished=R.utcnow(), user=owner.get("user"),
                                   host=owner.get("target")))
    return {"changed": changed, "release": name, "live": root.live(), "previous_good": root.previous_good()}


def do_lock(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    owner = dict(p["owner"] or {})
    owner.setdefault("owner", R.default_owner()["owner"])
    if p["version"]:
        owner["ref"] = p["version"]
    result = {"changed": False, "live": root.live(), "previous_good": root.previous_good()}
    if module.check_mode:
        holder = root.lock_holder()
        if holder and not p["force"]:
            module.fail_json(msg=R.describe_holder(holder), holder=holder, stale=holder["stale"], **result)
        result.update(token=None, holder=holder)
        return result
    try:
        taken = root.lock(owner, p["ttl"], force=p["force"], break_token=p["break_token"])
    except R.LockHeld as exc:
        module.fail_json(msg=str(exc), holder=exc.holder, stale=exc.stale, **result)
    result.update(token=taken["token"], cleared=taken["cleared"], lock=root.lock_path)
    return result


def do_unlock(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    if module.check_mode:
        return {"changed": False, "released": False}
    released = root.unlock(p["token"], force=p["force"])
    return {"changed": False, "released": released}


def do_cleanup(module: AnsibleModule, root: R.Root) -> dict:
    p = module.params
    doomed = root.cleanup_plan(p["keep"], p["protect"])
    swept = []
    if not module.check_mode:
        for name in doomed:
            root.remove_release(name)
        swept = root.sweep()
    return {"changed": bool(doomed or swept), "deleted": doomed, "swept": swept, "live": root.live(), "previous_good": root.previous_good()}


def do_status(module: AnsibleModule, root: R.Root) -> dict:
    return {"changed": False, "releases": root.releases(), "live": root.live(), "previous_good": root.previous_good(),
            "lock": root.lock_holder()}


ACTIONS = {"plan": do_plan, "prepare": do_prepare, "switch": do_switch, "finish": do_finish, "mark": do_mark, "lock": do_lock,
           "unlock": do_unlock, "cleanup": do_cleanup, "status": do_status}


# AnsibleModule's keywords; the action plugin of the same name validates the task's arguments
# with the same spec on the controller.
MODULE_SPEC = dict(
    argument_spec=dict(
        root=dict(type="path", required=True),
        action=dict(type="str", required=True, choices=sorted(ACTIONS)),
        repo=dict(type="str", no_log=True),
        version=dict(type="str"),
        archive=dict(type="path"),
        name=dict(type="str"),
        commit=dict(type="str"),
        reason=dict(type="str", default="deploy", choices=["deploy", "rollback"]),
        state=dict(type="str", choices=[R.FAILED, R.GOOD, R.ROLLED_BACK]),
        note=dict(type="str"),
        shared_files=dict(type="list", elements="str", default=[]),
        shared_dirs=dict(type="list", elements="str", default=[]),
        keep=dict(type="int", default=5),
        protect=dict(type="list", elements="str", default=[]),
        ttl=dict(type="int", default=1800),
        token=dict(type="str", no_log=False),
        force=dict(type="bool", default=False),
        owner=dict(type="dict", default={}),
        break_token=dict(type="str", no_log=False),
    ),
    # What each action needs besides root: checked before any step runs, here and by the action
    # plugin on the controller.
    required_if=[
        ("action", "plan", ("repo", "archive"), True),
        ("action", "prepare", ("name", "commit")),
        ("action", "finish", ("name",)),
        ("action", "mark", ("name", "state")),
    ],
    # A repository is deployed at a ref; an archive is known by its checksum.
    required_by={"repo": ("version",), "archive": ("commit",)},
    supports_check_mode=True,
)


def main() -> None:
    module = AnsibleModule(**MODULE_SPEC)
    try:
        # First step, before git sees anything: no value it would read as an option.
        for option, role_var in (("repo", "release_repo"), ("version", "release_version"), ("name", None),
                                 ("commit", None)):
            R.check_git_arg("%s (%s)" % (option, role_var) if role_var else option, module.params[option])
        root = R.Root(module.params["root"])
        result = ACTIONS[module.params["action"]](module, root)
    except R.ReleaseError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="%s: %s" % (type(exc).__name__, exc), exception=traceback.format_exc())
    result.setdefault("live", root.live())
    result.setdefault("previous_good", root.previous_good())
    module.exit_json(root=root.path, action=module.params["action"], **result)


if __name__ == "__main__":
    main()

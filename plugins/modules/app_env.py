#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_env
short_description: Check and write an app's environment file without ever showing a value
version_added: 0.2.0
description:
  - V(check) works out the names the app needs - O(required) plus the names its code reads without a
    default (C(os.environ["X"]), C(os.getenv("X")), C(process.env.X)) under O(scan_paths) - and fails,
    listing them, when any is not defined for O(environment). It returns the C(secrets.env_complete) finding.
  - V(write) renders O(values) as C(NAME="value") lines into O(path), atomically, with O(mode) and
    O(owner). O(values) is a no_log parameter; the diff shows names only (added, changed, removed).
  - With O(compare), the action plugin compares the secrets of production and staging on the controller
    and returns the C(secrets.env_separation) finding (names and fingerprints only); those values are never
    sent to the host.
author:
  - launchready.ops developers (@launchready)
options:
  action:
    description: V(check) the names, or V(write) the file.
    type: str
    choices: [check, write]
    default: write
  path:
    description: The environment file (V(write)).
    type: path
  values:
    description: Every variable of the file, plain and secret (V(write)).
    type: dict
    default: {}
  defined:
    description: Names defined for the environment (V(check)); values are not needed to check names.
    type: list
    elements: str
    default: []
  required:
    description: Names the app declares it needs.
    type: list
    elements: str
    default: []
  scan_paths:
    description: Files or directories of the app's code, on the host, to scan for the names it reads (V(check)).
    type: list
    elements: path
    default: []
  environment:
    description: Name of the target environment, for messages and findings.
    type: str
    default: production
  compare:
    description:
      - "Secrets of several environments, C({production: {NAME: value}, staging: {...}}), compared on the
        controller by the action plugin (V(check))."
    type: dict
  owner:
    description: Owner of the file (V(write)).
    type: str
  group:
    description: Group of the file (V(write)).
    type: str
  mode:
    description: Mode of the file (V(write)).
    type: raw
    default: "0600"
  target:
    description: Name of this host in the findings.
    type: str
attributes:
  check_mode:
    support: full
    description: V(check) runs as usual; V(write) reports whether the file would change and writes nothing.
  diff_mode:
    support: full
    description: Shows the names that would be added, changed or removed, never a value.
  platform:
    support: full
    platforms: posix
    description: Runs on the app host (the separation comparison on the controller).
seealso:
  - module: launchready.ops.release
"""

EXAMPLES = r"""
- name: Check that every name the app needs is defined
  launchready.ops.app_env:
    action: check
    defined: "{{ (app_env_vars | combine(app_env_secrets)).keys() | list }}"
    required: [SHOP_SECRET_KEY]
    scan_paths: [/srv/shop/releases/20261129T120000Z-0123456789ab]
    environment: production

- name: Write the environment file
  launchready.ops.app_env:
    path: /srv/shop/shared/.env
    values: "{{ app_env_vars | combine(app_env_secrets) }}"
    owner: shop
    mode: "0600"
"""

RETURN = r"""
names:
  description: The names in the file (V(write)) or the names the app needs (V(check)).
  returned: always
  type: list
  elements: str
missing:
  description: Needed names not defined for the environment.
  returned: always
  type: list
  elements: str
found_in_code:
  description: Names the code reads without a default, with up to three places each (V(check)).
  returned: when action is check
  type: dict
findings:
  description: secrets.env_complete (and secrets.env_separation with O(compare)) in the report format.
  returned: when action is check
  type: list
  elements: dict
"""

import os
import pwd
import socket
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.launchready.ops.plugins.module_utils import app_env as E


def do_check(module: AnsibleModule) -> None:
    p = module.params
    target = p["target"] or socket.gethostname()
    found = E.scan(p["scan_paths"])
    values = {name: "defined" for name in p["defined"]}
    finding = E.env_complete(target, p["environment"], p["required"], found, values)
    needed = finding.evidence["required"]
    gone = finding.evidence.get("missing", [])
    result = dict(changed=False, names=needed, missing=gone, found_in_code=found["required"],
                  optional_in_code=sorted(found["optional"]), findings=[finding.to_dict()])
    if gone:
        module.fail_json(msg="%s: the app needs %s, not defined for environment %s; nothing was switched"
                         % (target, ", ".join(gone), p["environment"]), **result)
    module.exit_json(**result)


def do_write(module: AnsibleModule) -> None:
    p = module.params
    if not p["path"]:
        module.fail_json(msg="action=write needs path")
    path = p["path"]
    text = E.render(p["values"], header="Written by launchready.ops.app_env: do not edit by hand.")
    try:
        with open(path, encoding="utf-8") as fh:
            old_text = fh.read()
    except FileNotFoundError:
        old_text = None
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, exc))
    before = E.parse(old_text) if old_text is not None else {}
    changed = old_text != text
    result = dict(path=path, names=sorted(p["values"]), missing=[])
    if module._diff:
        old, new = E.name_diff(before, {k: v if isinstance(v, str) else E.parse(E.render({k: v}))[k]
                                        for k, v in p["values"].items()})
        result["diff"] = {"before_header": path, "after_header": path, "before": old, "after": new}
    if changed and not module.check_mode:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            module.fail_json(msg="the directory of %s does not exist" % path)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".env.tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            module.fail_json(msg="cannot write %s: %s" % (path, exc))
    file_args = module.load_file_common_arguments(dict(path=path, owner=p["owner"], group=p["group"],
                                                       mode=p["mode"]))
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    elif p["owner"]:
        try:
            pwd.getpwnam(p["owner"])
        except KeyError:
            module.fail_json(msg="user %s does not exist on this host" % p["owner"])
    module.exit_json(changed=changed, **result)


# AnsibleModule's keywords; the action plugin of the same name validates the task's arguments
# with the same spec on the controller.
MODULE_SPEC = dict(
    argument_spec=dict(
        action=dict(type="str", default="write", choices=["check", "write"]),
        path=dict(type="path"),
        values=dict(type="dict", default={}, no_log=True),
        defined=dict(type="list", elements="str", default=[]),
        required=dict(type="list", elements="str", default=[]),
        scan_paths=dict(type="list", elements="path", default=[]),
        environment=dict(type="str", default="production"),
        compare=dict(type="dict", no_log=True),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw", default="0600"),
        target=dict(type="str"),
    ),
    supports_check_mode=True,
)


def main() -> None:
    module = AnsibleModule(**MODULE_SPEC)
    if module.params["action"] == "check":
        do_check(module)
    else:
        do_write(module)


if __name__ == "__main__":
    main()

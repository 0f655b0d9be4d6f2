#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: secret_scan
short_description: Scan an app's repository, history, deploy config and built output for secrets (the CI gate)
version_added: 0.2.0
description:
  - Scans the working tree of O(repo), every commit of every branch (deleted files too), the extra O(paths)
    (deploy config such as inventories, group_vars and env files; built frontend output), for the keys a
    founder-led shop has (Stripe secret and restricted keys, AWS, GCP service accounts, OpenAI, Anthropic,
    Shopify, SendGrid, Postmark, Mailgun, Twilio, Slack, GitHub, private keys, database URLs with passwords,
    high-entropy C(*_SECRET)/C(*_KEY) values, server-side names behind C(NEXT_PUBLIC_)/C(VITE_)/C(REACT_APP_)).
  - Minified one-line bundles are scanned whole and C(*.map) files source by source.
  - Builds on detect-secrets' plugin patterns where they fit; a Stripe publishable key is never reported.
  - With O(env_files) or O(env_values), also checks that every variable the code reads is defined for each
    environment (C(secrets.env_complete)) and that production and staging share no secret value
    (C(secrets.env_separation)).
  - A finding shows kind, file, line, commit, author date and a fingerprint (HMAC-SHA256 under a per-run key, or
    the baseline's key), never the value, in every output and at every verbosity.
author:
  - launchready.ops developers (@launchready)
options:
  repo:
    description: The app's git checkout.
    type: path
    required: true
  paths:
    description: More files or directories to scan (deploy config, env files, built output).
    type: list
    elements: path
    default: []
  history:
    description: Scan every commit of every branch too.
    type: bool
    default: true
  baseline:
    description:
      - Baseline file of allowlisted fingerprints. Default O(repo)/.launchready-secrets.json when present.
      - It stores its own HMAC key so its fingerprints stay valid from run to run.
    type: path
  update_baseline:
    description: Allowlist every current hit in O(baseline) (review them first). Reports C(changed).
    type: bool
    default: false
  env_files:
    description: "C({environment: path}) of env definitions: C(.env), C(.json) or C(.yml) files."
    type: dict
    default: {}
  env_values:
    description: "C({environment: {NAME: value}}), for definitions held in a vault. Never logged."
    type: dict
    default: {}
  production:
    description: Name of the production environment in O(env_files)/O(env_values).
    type: str
    default: production
  staging:
    description: Name of the staging environment.
    type: str
    default: staging
  code_paths:
    description: Where the app's code is, for the env names it reads. Default O(repo).
    type: list
    elements: path
  dest:
    description: Directory to write C(secrets.json) and C(secrets.sarif) (SARIF 2.1.0) into, mode 0600.
    type: path
notes:
  - Needs detect-secrets (pinned in requirements.txt) and git where the module runs.
  - For JUnit XML, pass RV(findings) to M(launchready.ops.launch_report), as the secrets_gate playbook does.
attributes:
  check_mode:
    support: full
    description: Scanning only reads; in check mode the baseline is not written.
  diff_mode:
    support: none
    description: Only the baseline can change, and its entries are fingerprints.
  platform:
    support: full
    platforms: posix
    description: Runs where the repository is, usually the controller or a CI runner (git must be installed).
seealso:
  - module: launchready.ops.launch_report
"""

EXAMPLES = r"""
- name: Gate a CI run on committed secrets and env definitions
  launchready.ops.secret_scan:
    repo: "{{ playbook_dir }}/../app"
    paths: ["{{ playbook_dir }}/../inventories/production"]
    env_files:
      production: deploy/production.env
      staging: deploy/staging.env
    dest: reports/secrets-gate
  register: secrets

- name: Allowlist the current hits (fixtures, rotated keys) after a review
  launchready.ops.secret_scan:
    repo: .
    update_baseline: true
"""

RETURN = r"""
findings:
  description: secrets.repo_files, secrets.repo_history and, with environments, secrets.env_complete (one per
    environment) and secrets.env_separation, in the report format.
  returned: success
  type: list
  elements: dict
  sample:
    - check: secrets.repo_files
      status: fail
      impact: blocker
      stage: audit
      target: /srv/app
      summary: "1 secret(s) in the repository and deploy files: stripe-secret-key at config/settings.py:1
        (hmac:7d88180ed9186ba2)"
      evidence: {}
      fix: Rotate each key at its vendor first, ...
hits:
  description: Every secret found, by scope (C(files), C(history)); kind, path, line, column, fingerprint, rule,
    and for history the commit, author date and whether HEAD still has it.
  returned: success
  type: dict
  sample:
    history:
      - {kind: aws-access-key-id, path: deploy/old.env, line: 1, column: 19, fingerprint: "hmac:3d9078a35e614984",
         rule: "detect-secrets:AWSKeyDetector", commit: 2c748a6eb9bb0e1f4c1d2a3b4c5d6e7f8a9b0c1d,
         author_date: "2026-12-03T18:28:26+00:00", in_head: false}
counts:
  description: How many findings have each status.
  returned: success
  type: dict
  sample: {pass: 2, warn: 0, fail: 1, error: 0, skip: 0}
verdict:
  description: V(fail) if any finding failed or errored, else V(pass) (or V(warn)).
  returned: success
  type: str
  sample: fail
outputs:
  description: Paths of the files written into O(dest).
  returned: when O(dest) is set
  type: dict
  sample: {json: reports/secrets-gate/secrets.json, sarif: reports/secrets-gate/secrets.sarif}
baseline:
  description: The baseline file used (or written), if any.
  returned: success
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible_collections.launchready.ops.plugins.module_utils import findings as F
    from ansible_collections.launchready.ops.plugins.module_utils import secret_gate as G
    IMPORT_ERROR = None
except ImportError as exc:  # detect-secrets or dnspython missing where the module runs
    IMPORT_ERROR = exc


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "repo": {"type": "path", "required": True},
            "paths": {"type": "list", "elements": "path", "default": []},
            "history": {"type": "bool", "default": True},
            "baseline": {"type": "path"},
            "update_baseline": {"type": "bool", "default": False},
            "env_files": {"type": "dict", "default": {}},
            "env_values": {"type": "dict", "default": {}, "no_log": True},
            "production": {"type": "str", "default": "production"},
            "staging": {"type": "str", "default": "staging"},
            "code_paths": {"type": "list", "elements": "path"},
            "dest": {"type": "path"},
        },
        supports_check_mode=True,
    )
    if IMPORT_ERROR is not None:
        module.fail_json(msg="launchready.ops.secret_scan needs detect-secrets: pip install -r requirements.txt (%s)"
                         % IMPORT_ERROR)
    p = module.params
    environments = {}
    try:
        for name, path in p["env_files"].items():
            environments[name] = G.read_env_file(str(path))
        for name, values in p["env_values"].items():
            if not isinstance(values, dict):
                module.fail_json(msg="env_values.%s must be a mapping of variable name to value" % name)
            environments.setdefault(name, {}).update(values)
        result = G.run(p["repo"], paths=p["paths"], history=p["history"], baseline=p["baseline"],
                       environments=environments, production=p["production"], staging=p["staging"],
                       code_paths=p["code_paths"])
    except (OSError, ValueError, RuntimeError) as exc:
        module.fail_json(msg="secret scan of %s could not run: %s" % (p["repo"], exc))
    changed = False
    baseline = result["baseline"]
    if p["update_baseline"]:
        baseline = p["baseline"] or baseline or os.path.join(p["repo"], ".launchready-secrets.json")
        new = result["hits"]["files"] + result["hits"]["history"]
        changed = any(h.fingerprint not in result["scanner"].baseline for h in new)
        if changed and not module.check_mode:
            G.update_baseline(result, baseline)
    out = {"changed": changed, "baseline": baseline,
           "findings": [f.to_dict() for f in result["findings"]],
           "hits": {k: [h.to_dict() for h in v] for k, v in result["hits"].items()},
           "counts": F.counts(result["findings"]), "verdict": G.verdict(result["findings"])}
    if p["dest"]:
        out["outputs"] = G.write_outputs(result, p["dest"], junit=False)
    module.exit_json(**out)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CI secrets gate's command line (no Ansible knowledge needed; scripts/secrets-gate wraps it)::

    python -m ansible_collections.launchready.ops.plugins.plugin_utils.secret_gate_cli . \\
        --env production=deploy/production.env --env staging=deploy/staging.env --out secrets-report

Exit status: 0 nothing found, 1 the gate fails, 2 the gate could not run. The gate itself is
module_utils/secret_gate.py (shared with the secret_scan module).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import checks_secrets as C
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.secret_gate import (
    read_env_file,
    run,
    to_json,
    to_sarif,
    update_baseline,
    verdict,
    write_outputs,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="secrets-gate", description="Fail a pipeline on committed secrets (working tree and every commit of "
        "every branch), on env variables the code reads but an environment does not define, and on secrets "
        "shared by production and staging. Prints kinds, places and fingerprints, never values.")
    p.add_argument("repo", nargs="?", default=".", help="the app's git checkout (default: .)")
    p.add_argument("--path", action="append", default=[], dest="paths",
                   help="more files or directories to scan: deploy config, env files, built output (repeatable)")
    p.add_argument("--no-history", action="store_true", help="scan the working tree only (pre-commit)")
    p.add_argument("--baseline", help="baseline of allowlisted fingerprints (default: REPO/%s when present)"
                   % C.DEFAULT_BASELINE)
    p.add_argument("--update-baseline", action="store_true",
                   help="allowlist every current hit in the baseline, then exit 0 (review the list first)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=FILE",
                   help="an environment's definitions: .env, .json or .yml file (repeatable)")
    p.add_argument("--production", default="production", help="name of the production environment")
    p.add_argument("--staging", default="staging", help="name of the staging environment")
    p.add_argument("--code", action="append", default=[], help="where the app's code is (default: REPO)")
    p.add_argument("--out", help="write secrets.json, secrets.sarif and junit.xml into this directory")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="what to print")
    return p


def main(argv: t.Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        environments = {}
        for item in args.env:
            name, eq, path = item.partition("=")
            if not eq or not name or not path:
                raise ValueError("--env takes NAME=FILE, got %r" % item)
            environments[name] = read_env_file(path)
        result = run(args.repo, paths=args.paths, history=not args.no_history, baseline=args.baseline,
                     environments=environments, production=args.production, staging=args.staging,
                     code_paths=args.code or None)
        if args.update_baseline:
            path = args.baseline or result["baseline"] or os.path.join(args.repo, C.DEFAULT_BASELINE)
            data = update_baseline(result, path)
            print("baseline %s: %d fingerprint(s) allowlisted" % (path, len(data["fingerprints"])))
            return 0
        if args.out:
            write_outputs(result, args.out)
    except (OSError, ValueError, RuntimeError) as exc:
        print("secrets-gate: cannot run: %s" % exc, file=sys.stderr)
        return 2
    found = result["findings"]
    if args.format == "json":
        print(json.dumps(to_json(result), indent=2, sort_keys=True))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(result), indent=2))
    else:
        for f in found:
            print("%-5s %-24s %s" % (f.status.upper(), f.check, f.summary))
        print("secrets gate: %s" % verdict(found).upper())
    return 1 if verdict(found) == F.FAIL else 0


if __name__ == "__main__":
    sys.exit(main())

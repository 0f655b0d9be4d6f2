"""make bench: the secret scanner beside detect-secrets (PyPI) on the same inputs, in one run.

Inputs: the fixture repository of the tests (secrets in the tree, only in history, on a second branch, in a
minified bundle, in a source map, in deploy config) and a generated tree of about 50 MB (code, minified bundles,
source maps) with secrets planted in each kind of file. Figures: throughput (MB/s) of each tool on the
generated tree, their ratio, and each tool's recall on the planted secrets. Results go to stdout and to
.bench/secrets.json.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from ansible_collections.launchready.ops.plugins.module_utils import secret_rules as R  # noqa: E402
from ansible_collections.launchready.ops.plugins.module_utils import secret_scan as S  # noqa: E402
from tests.support import secret_fixtures as X  # noqa: E402

TARGET_MB = float(os.environ.get("BENCH_SECRETS_MB", "50"))


def generate_tree(path: str, rng: random.Random, target_mb: float) -> dict:
    """~target_mb of code, minified bundles and maps; returns {value: where} of the planted secrets."""
    planted: dict = {}
    size, n = 0, 0
    while size < target_mb * 1024 * 1024:
        v = X.values(rng)
        kind = n % 4
        if kind == 0:  # a minified bundle, one line, the key in the middle
            text = X.minified(rng, 600_000, '{stripeKey:"%s"}' % v["stripe"]) + "\n"
            planted[v["stripe"]] = "bundle"
            rel = "dist/chunk-%04d.min.js" % n
        elif kind == 1:  # a source map whose sourcesContent holds a key
            body = X.minified(rng, 300_000)
            text = json.dumps({"version": 3, "sources": ["src/a.js", "src/b.js"], "mappings": "AAAA",
                               "sourcesContent": [body, "export const key = '%s';\n" % v["sendgrid"]]})
            planted[v["sendgrid"]] = "map"
            rel = "dist/chunk-%04d.min.js.map" % n
        elif kind == 2:  # ordinary code with a key in a settings line
            lines = ["def f%d(x):\n    return x * %d  # %s\n" % (i, i, X.rand(X.ALNUM, 30, rng)) for i in range(4000)]
            lines.insert(2000, 'GITHUB_TOKEN = "%s"\n' % v["github"])
            planted[v["github"]] = "code"
            text = "".join(lines)
            rel = "app/module_%04d.py" % n
        else:  # deploy config
            lines = ["setting_%d: value-%s\n" % (i, X.rand(X.ALNUM, 20, rng)) for i in range(8000)]
            lines.insert(4000, "aws_access_key_id: %s\n" % v["aws_id"])
            planted[v["aws_id"]] = "config"
            text = "".join(lines)
            rel = "deploy/group_vars/env_%04d.yml" % n
        X.write(path, rel, text)
        size += len(text)
        n += 1
    return planted


def ours(path: str, history: bool) -> tuple:
    scan = S.Scanner()
    started = time.monotonic()
    hits = scan.scan_paths([path])
    if history:
        hits += scan.scan_history(path)
    return time.monotonic() - started, {h.fingerprint for h in hits}, scan


def detect_secrets(path: str) -> tuple:
    """detect-secrets scan --all-files PATH: (seconds, set of reported secret hashes, results)."""
    exe = os.path.join(os.path.dirname(sys.executable), "detect-secrets")
    started = time.monotonic()
    proc = subprocess.run([exe, "scan", "--all-files", path], capture_output=True, text=True, check=False,
                          timeout=3600, cwd=path)
    seconds = time.monotonic() - started
    results = json.loads(proc.stdout or "{}").get("results", {})
    return seconds, {r["hashed_secret"] for items in results.values() for r in items}, results


def _sha1(value: str) -> str:
    import hashlib
    return hashlib.sha1(value.encode()).hexdigest()  # detect-secrets reports a SHA-1 of each value


def recall(planted: dict, found_ours: set, key: bytes, found_ds: set) -> dict:
    ours_hit = [v for v in planted if R.fingerprint(key, v) in found_ours]
    ds_hit = [v for v in planted if _sha1(v) in found_ds]
    by_where: dict = {}
    for v, where in planted.items():
        row = by_where.setdefault(where, {"planted": 0, "launchready": 0, "detect_secrets": 0})
        row["planted"] += 1
        row["launchready"] += v in ours_hit
        row["detect_secrets"] += v in ds_hit
    return {"planted": len(planted), "launchready": round(len(ours_hit) / len(planted), 3),
            "detect_secrets": round(len(ds_hit) / len(planted), 3), "by_place": by_where}


def main() -> int:
    work = tempfile.mkdtemp(prefix="bench-secrets-")
    out: dict = {}
    try:
        # 1. The fixture repository (history and branches count: detect-secrets reads the working tree only).
        repo = X.make(os.path.join(work, "fixture"))
        planted = {v: repo.where[k] for k, v in repo.planted.items() if k != "private_key"}
        secs, fps, scan = ours(repo.path, history=True)
        ds_secs, ds_found, _r = detect_secrets(repo.path)
        out["fixture_repo"] = {"launchready_s": round(secs, 3), "detect_secrets_s": round(ds_secs, 3),
                               "recall": recall(planted, fps, scan.key, ds_found)}
        # 2. The generated ~50 MB tree.
        tree = os.path.join(work, "tree")
        planted = generate_tree(tree, random.Random(50), TARGET_MB)
        mb = sum(os.path.getsize(os.path.join(d, f)) for d, _s, fs in os.walk(tree) for f in fs) / 1024 / 1024
        secs, fps, scan = ours(tree, history=False)
        ds_secs, ds_found, _r = detect_secrets(tree)
        out["generated_tree"] = {"mb": round(mb, 1), "files": scan.files_scanned,
                                 "launchready_s": round(secs, 2), "detect_secrets_s": round(ds_secs, 2),
                                 "launchready_mb_s": round(mb / secs, 1), "detect_secrets_mb_s": round(mb / ds_secs, 2),
                                 "throughput_ratio": round(ds_secs / secs, 1),
                                 "recall": recall(planted, fps, scan.key, ds_found)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "secrets.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=2)
    tree = out["generated_tree"]
    print("secrets bench: %.1f MB at %.1f MB/s (detect-secrets %.2f MB/s, %.1fx); recall %.0f%% vs %.0f%% "
          "(generated), %.0f%% vs %.0f%% (fixture repo)"
          % (tree["mb"], tree["launchready_mb_s"], tree["detect_secrets_mb_s"], tree["throughput_ratio"],
             100 * tree["recall"]["launchready"], 100 * tree["recall"]["detect_secrets"],
             100 * out["fixture_repo"]["recall"]["launchready"], 100 * out["fixture_repo"]["recall"]["detect_secrets"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

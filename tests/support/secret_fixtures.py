"""A git repository with secrets planted where founders' shops leak them, for the scanner's tests and bench.

    repo = secret_fixtures.make(tmp_path / "app")
    repo.path, repo.planted (label -> value: every one must be found), repo.not_secrets (label -> value:
    publishable or allowlisted, never reported)

Values are drawn at random per build (the right shape for each kind), so no real key is in this file
and an output that holds one can only have copied it from the scan.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import string
import subprocess

from ansible_collections.launchready.ops.plugins.module_utils import secret_rules as R
from ansible_collections.launchready.ops.plugins.module_utils import secret_scan as S

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int, rng: random.Random) -> str:
    return "".join(rng.choice(alphabet) for _n in range(n))


def values(rng: random.Random) -> dict:
    """One random value of each planted kind."""
    upper = string.ascii_uppercase + string.digits
    return {
        "stripe": "sk_live_" + rand(ALNUM, 24, rng),
        "aws_id": "AKIA" + rand(upper, 16, rng),
        "aws_secret": rand(ALNUM + "/+", 40, rng),
        "sendgrid": "SG." + rand(ALNUM, 22, rng) + "." + rand(ALNUM, 43, rng),
        "anthropic": "sk-ant-api03-" + rand(ALNUM, 90, rng),
        "openai": "sk-proj-" + rand(ALNUM, 48, rng),
        "github": "ghp_" + rand(ALNUM, 36, rng),
        "db_password": rand(ALNUM, 18, rng),
        "jwt_secret": rand(HEX, 48, rng),
        "slack_webhook": "https://hooks.slack.com/services/T%s/B%s/%s" % (rand(upper, 8, rng), rand(upper, 8, rng),
                                                                          rand(ALNUM, 24, rng)),
        "private_key_body": rand(ALNUM + "+/", 64, rng),
    }


def git(cwd: str, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Fixture", GIT_AUTHOR_EMAIL="fixture@shop.test",
               GIT_COMMITTER_NAME="Fixture", GIT_COMMITTER_EMAIL="fixture@shop.test",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", cwd, *args], check=True, capture_output=True, text=True, env=env,
                          timeout=60).stdout


def write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def minified(rng: random.Random, size: int, secret_js: str = "") -> str:
    """One line of ``size`` characters of minified-looking JS, ``secret_js`` in the middle."""
    parts, total = [], 0
    while total < size:
        name = rand(string.ascii_lowercase, 2, rng)
        chunk = ('function %s(e,t){return e.call(t,"%s")}var %s=%s(1,2);'
                 % (name, rand(ALNUM, 12, rng), name.upper(), name))
        parts.append(chunk)
        total += len(chunk)
    middle = len(parts) // 2
    return "".join(parts[:middle]) + secret_js + "".join(parts[middle:])


@dataclasses.dataclass
class FixtureRepo:
    path: str
    planted: dict  # label -> value that must be found
    not_secrets: dict  # label -> value that must never be reported
    where: dict  # label -> where it is (working tree, history, branch, bundle, map, deploy config)
    baseline: str


def make(path: str, seed: int = 8, bundle_size: int = 300_000) -> FixtureRepo:
    rng = random.Random(seed)
    v = values(rng)
    allow_inline = "sk_live_" + rand(ALNUM, 24, rng)
    allow_baseline = "ghp_" + rand(ALNUM, 36, rng)
    publishable = "pk_live_" + rand(ALNUM, 24, rng)
    os.makedirs(path, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    write(path, "app.py", 'import os\nDB = os.environ["DATABASE_URL"]\nKEY = os.getenv("STRIPE_SECRET_KEY")\n'
                          'MAIL = os.environ.get("MAIL_FROM", "shop@shop.test")\n')
    write(path, "src/checkout.js", 'const stripe = Stripe("%s");\nexport const api = process.env.API_BASE;\n'
          % publishable)
    write(path, ".env.example", "STRIPE_PUBLISHABLE_KEY=%s\nSTRIPE_SECRET_KEY=\nSESSION_SECRET=${SESSION_SECRET}\n"
          % publishable)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "shop skeleton")
    # Only in history: an env file committed, then deleted.
    write(path, "deploy/old.env", "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (v["aws_id"], v["aws_secret"]))
    git(path, "add", "-A")
    git(path, "commit", "-qm", "deploy env")
    git(path, "rm", "-q", "deploy/old.env")
    git(path, "commit", "-qm", "oops, remove env")
    # On a second branch only.
    git(path, "checkout", "-q", "-b", "feature/mail")
    write(path, "src/mail.js", 'export const sendgrid = "%s";\n' % v["sendgrid"])
    git(path, "add", "-A")
    git(path, "commit", "-qm", "mail")
    git(path, "checkout", "-q", "main")
    # Working tree (committed): settings, a minified bundle, its source map, deploy config, a key.
    write(path, "config/settings.py", 'STRIPE_SECRET_KEY = "%s"\n' % v["stripe"])
    write(path, "dist/app.min.js", minified(rng, bundle_size, '{ANTHROPIC:"%s"}' % v["anthropic"])
          + "\n//# sourceMappingURL=app.min.js.map\n")
    write(path, "dist/app.min.js.map", json.dumps({
        "version": 3, "file": "app.min.js", "sources": ["src/config.js", "src/ai.js"], "mappings": "AAAA,CAAC",
        "sourcesContent": ["export const a = 1;\nexport const gh = '%s';\n" % v["github"],
                           "const client = new OpenAI({ apiKey: '%s' });\n" % v["openai"]]}))
    write(path, "inventories/production/group_vars/all.yml",
          "db_url: postgres://shop:%s@db.internal:5432/shop\n" % v["db_password"])
    write(path, "deploy/production.env", "JWT_SECRET=%s\nLOG_LEVEL=info\n" % v["jwt_secret"])
    write(path, "deploy/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n%s\n-----END OPENSSH PRIVATE KEY-----\n"
          % (v["private_key_body"], rand(ALNUM, 64, rng)))
    # Allowlisted: an inline marker, and a baseline entry.
    write(path, "tests/fixtures/fake_keys.py", 'FAKE = "%s"  # launchready: allow-secret\n' % allow_inline)
    write(path, "docs/example.md", "A GitHub token looks like `%s`.\n" % allow_baseline)
    key = R.new_key()
    baseline = os.path.join(path, ".launchready-secrets.json")
    fp = R.fingerprint(key, allow_baseline)
    S.write_baseline(baseline, key, [S.Hit("github-token", "docs/example.md", 1, 1, fp, "test")])
    git(path, "add", "-A")
    git(path, "commit", "-qm", "settings, bundle, deploy config")
    planted = {"stripe": v["stripe"], "aws_id": v["aws_id"], "aws_secret": v["aws_secret"],
               "sendgrid": v["sendgrid"], "anthropic": v["anthropic"], "openai": v["openai"], "github": v["github"],
               "db_password": v["db_password"], "jwt_secret": v["jwt_secret"], "private_key": v["private_key_body"]}
    where = {"stripe": "tree", "aws_id": "history", "aws_secret": "history", "sendgrid": "branch",
             "anthropic": "bundle", "openai": "map", "github": "map", "db_password": "deploy", "jwt_secret": "deploy",
             "private_key": "tree"}
    return FixtureRepo(path=path, planted=planted, where=where, baseline=baseline,
                       not_secrets={"publishable": publishable, "allow_inline": allow_inline,
                                    "allow_baseline": allow_baseline})

"""Versions of the demo shop as commits of a git repository, for deploy tests and the bench.

    repo = shop_repo.make(tmp_path)      # bare repo: main (demo/shop), v2, v3-broken, ...
    shop_repo.commit(repo, "v9", edit)   # another branch from main, edited by edit(worktree)

The repository is a clone of the lab's (when the lab made one) or a fresh commit of
demo/shop, so the lab's own repository is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "demo", "shop")
GIT = ["git", "-c", "user.name=launchready tests", "-c", "user.email=tests@shop.test", "-c", "init.defaultBranch=main"]


def git(cwd: str, *args: str) -> str:
    proc = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError("git %s failed: %s" % (" ".join(args), proc.stderr))
    return proc.stdout.strip()


def _replace(path: str, old: str, new: str) -> None:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if old not in text:
        raise AssertionError("%r not found in %s" % (old, path))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace(old, new))


def v2(worktree: str) -> None:
    _replace(os.path.join(worktree, "app.py"), "<title>%s - Demo Shop</title>", "<title>%s - Demo Shop v2</title>")


def v3_broken_health(worktree: str) -> None:
    _replace(os.path.join(worktree, "app.py"), 'return web.json_response({"status": "ok"})',
             'return web.json_response({"status": "broken on purpose"}, status=500)')


def v3_broken_checkout(worktree: str) -> None:
    _replace(os.path.join(worktree, "app.py"), '    total = sum(line["qty"] * line["price_cents"] for line in lines)\n',
             '    total = sum(line["qty"] * line["price_cents"] for line in lines) // 0\n')


def needs_new_env(worktree: str) -> None:
    _replace(os.path.join(worktree, "app.py"), '        "secret_key": os.environ["SHOP_SECRET_KEY"],\n',
             '        "secret_key": os.environ["SHOP_SECRET_KEY"],\n        "flag": os.environ["SHOP_PAYMENT_WEBHOOK_SECRET"],\n')


def comment(text: str) -> t.Callable[[str], None]:
    def edit(worktree: str) -> None:
        with open(os.path.join(worktree, "app.py"), "a", encoding="utf-8") as fh:
            fh.write("# %s\n" % text)
    return edit


VERSIONS = {"v2": v2, "v3-broken": v3_broken_health, "v3-checkout": v3_broken_checkout,
            "v4": comment("v4"), "v5": comment("v5"), "needs-env": needs_new_env}


def make(directory: str, lab_repo: str | None = None, versions: dict | None = None) -> str:
    """A bare repository under DIRECTORY with main and one branch per version; returns its path."""
    bare = os.path.join(directory, "shop.git")
    work = os.path.join(directory, "shop-work")
    if lab_repo and os.path.isdir(os.path.join(lab_repo, "objects")):
        git(directory, "clone", "-q", "--bare", lab_repo, bare)
        git(directory, "clone", "-q", bare, work)
    else:
        git(directory, "init", "-q", "--bare", bare)
        shutil.copytree(DEMO, work, ignore=shutil.ignore_patterns("__pycache__", "static"))
        git(work, "init", "-q")
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", "demo shop")
        git(work, "remote", "add", "origin", bare)
        git(work, "push", "-q", "origin", "HEAD:refs/heads/main")
    for name, edit in (versions or VERSIONS).items():
        commit(bare, name, edit, work)
    return bare


def commit(bare: str, branch: str, edit: t.Callable[[str], None], work: str | None = None) -> str:
    """Branch BRANCH from main with EDIT applied to a worktree; pushed to BARE; returns the commit."""
    work = work or bare + "-work"
    if not os.path.isdir(work):
        git(os.path.dirname(bare), "clone", "-q", bare, work)
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", branch, "origin/main")
    edit(work)
    git(work, "commit", "-qam", branch)
    git(work, "push", "-q", "-f", "origin", "HEAD:refs/heads/%s" % branch)
    return git(work, "rev-parse", "HEAD")


def head(bare: str, ref: str) -> str:
    return git(bare, "rev-parse", ref)

"""The release's git calls against a real private git host: no token in argv, on disk or in a
message; no repository or ref git would read as an option (issue #12 items 2 and 10)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import release as R
from tests.support import ansible_run, git_http, shop_repo

TOKEN = "glpat-" + uuid.uuid4().hex  # what a deploy token looks like, unique to this run
USER = "deployer"


@pytest.fixture(scope="module")
def git_host(tmp_path_factory):
    projects = tmp_path_factory.mktemp("git-projects")
    work = projects / "work"
    work.mkdir()
    (work / "app.py").write_text("v1\n")
    shop_repo.git(str(work), "init", "-q", "-b", "main")
    shop_repo.git(str(work), "add", "-A")
    shop_repo.git(str(work), "commit", "-q", "-m", "v1")
    shop_repo.git(str(work), "tag", "v1")
    shop_repo.git(str(projects), "clone", "-q", "--bare", str(work), str(projects / "shop.git"))
    host = git_http.GitHttp(str(projects), USER, TOKEN, address="127.0.3.1", delay=0.15)
    host.head = shop_repo.head(str(projects / "shop.git"), "main")
    try:
        yield host
    finally:
        host.stop()


@pytest.fixture
def root(tmp_path) -> R.Root:
    return R.Root(str(tmp_path / "app"))


def files_holding(top: str, needle: str) -> list:
    hits = []
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as fh:
                if needle.encode() in fh.read():
                    hits.append(path)
    return hits


def open_to_others(top: str) -> list:
    out = []
    for dirpath, dirs, names in os.walk(top):
        for path in [dirpath] + [os.path.join(dirpath, n) for n in dirs + names]:
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                out.append("%s %o" % (path, mode & 0o777))
    return out


# --- a token in the repository URL ----------------------------------------------------------------

def test_a_token_url_deploys_and_the_token_is_in_no_argv_file_or_config(git_host, root):
    url = git_host.url("shop.git", USER, TOKEN)
    with git_http.CmdlineWatch() as watch:
        assert R.resolve_remote(url, "main") == git_host.head
        root.ensure_layout()
        R.update_cache(root, url)  # clone
        R.update_cache(root, url)  # fetch into the existing cache
    assert R.resolve_cached(root, "v1") == git_host.head
    assert [x for x in git_host.log if x[2]], "git never authenticated"
    # The watch saw the git processes talking to the host, and none had the token in its argv.
    assert watch.matching("127.0.3.1:%d" % git_host.port), "no git process was sampled"
    assert watch.matching(TOKEN) == []
    assert files_holding(root.path, TOKEN) == []
    with open(os.path.join(root.repo_cache, "config"), encoding="utf-8") as fh:
        assert "url = http://127.0.3.1:%d/shop.git" % git_host.port in fh.read()
    assert stat.S_IMODE(os.stat(root.private_dir).st_mode) == 0o700
    assert open_to_others(root.private_dir) == []


def test_a_wrong_token_fails_with_the_url_redacted(git_host, root):
    wrong = "glpat-wrong" + uuid.uuid4().hex
    url = git_host.url("shop.git", USER, wrong)
    root.ensure_layout()
    for attempt in (lambda: R.resolve_remote(url, "main"), lambda: R.update_cache(root, url)):
        with pytest.raises(R.ReleaseError) as failed:
            attempt()
        message = str(failed.value)
        assert wrong not in message
        assert "%s:***@127.0.3.1:%d" % (USER, git_host.port) in message, message
    # A fetch into an existing cache fails the same way.
    R.update_cache(root, git_host.url("shop.git", USER, TOKEN))
    with pytest.raises(R.ReleaseError) as failed:
        R.update_cache(root, url)
    assert wrong not in str(failed.value) and TOKEN not in str(failed.value)


def test_a_cache_an_older_version_left_with_the_token_is_cleaned_on_the_next_fetch(git_host, root):
    url = git_host.url("shop.git", USER, TOKEN)
    root.ensure_layout()
    os.chmod(root.private_dir, 0o755)
    # What the previous version did: the token in argv and in the mirror's config, 0644 files.
    subprocess.run(["git", "clone", "--mirror", "--quiet", url, root.repo_cache], check=True, capture_output=True,
                   timeout=60)
    assert files_holding(root.repo_cache, TOKEN)
    root.ensure_layout()
    R.update_cache(root, url)
    assert files_holding(root.path, TOKEN) == []
    assert open_to_others(root.private_dir) == []


def test_credential_helpers_of_the_host_never_store_the_token(git_host, root, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    monkeypatch.setenv("HOME", str(home))
    root.ensure_layout()
    R.update_cache(root, git_host.url("shop.git", USER, TOKEN))
    assert not (home / ".git-credentials").exists()
    assert files_holding(str(home), TOKEN) == []


def test_redact_hides_passwords_and_token_users():
    assert R.redact("fatal: https://bob:s3cr3t@git.example/x.git") == "fatal: https://bob:***@git.example/x.git"
    assert R.redact("'https://ghp_abc123@github.com/x'") == "'https://***@github.com/x'"
    assert R.redact("token s3cr3t here", ["s3cr3t"]) == "token *** here"
    assert R.GitSource("https://bob:s%2Fcret@h/x.git").url == "https://h/x.git"
    assert str(R.GitSource("https://bob:s%2Fcret@h/x.git")) == "https://bob:***@h/x.git"
    assert R.GitSource("https://bob:s%2Fcret@h/x.git").env()["LAUNCHREADY_GIT_PASSWORD"] == "s/cret"
    assert R.GitSource("/srv/git/shop.git").env() == {}


# --- options in disguise --------------------------------------------------------------------------

def test_a_repo_or_ref_starting_with_a_dash_is_refused_before_git_runs(git_host, root, tmp_path):
    sentinel = tmp_path / "SENTINEL"
    evil = "--upload-pack=touch %s #" % sentinel  # "#": the path git appends is no second file
    root.ensure_layout()
    for attempt in (lambda: R.resolve_remote(evil, "main"), lambda: R.update_cache(root, evil),
                    lambda: R.resolve_remote(git_host.url("shop.git", USER, TOKEN), evil),
                    lambda: R.resolve_cached(root, "--output=%s" % sentinel),
                    lambda: R.export(root, "--output=%s" % sentinel, str(tmp_path / "out"))):
        with pytest.raises(R.ReleaseError, match="starts with '-'"):
            attempt()
    assert not sentinel.exists()


def test_check_mode_plan_with_an_upload_pack_repo_runs_nothing(tmp_path):
    """The module as the role calls it, in check mode: refused, and the command never ran."""
    sentinel = tmp_path / "SENTINEL"
    args = {"root": str(tmp_path / "app"), "action": "plan", "repo": "--upload-pack=touch %s #" % sentinel,
            "version": "main"}
    proc = subprocess.run(["ansible", "all", "-i", "localhost,", "-c", "local", "--check",
                           "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-m", "launchready.ops.release", "-a", json.dumps(args)],
                          cwd=ansible_run.ROOT, env=ansible_run.env(), capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode != 0
    assert "starts with '-'" in proc.stdout, proc.stdout + proc.stderr
    assert not sentinel.exists()
    assert not os.path.exists(tmp_path / "app")

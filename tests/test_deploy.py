"""Stage 3 end to end: deploy, rollback, health gate, lock, crash recovery, env and vault.

Every test deploys the demo shop (versions from tests/support/shop_repo.py) into a release
root of its own under a tmp dir, served by a supervisord of its own on a free loopback
port, so the lab's live release is never disturbed. The tests of this module run in order
and build on each other (v1, v2, rollback, ...): one module-scoped stack, like an app server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid

import pytest

from tests.support import ansible_run, git_http, procs, shop_repo

pytestmark = pytest.mark.lab

ROOT = ansible_run.ROOT
HOOKS = os.path.join(ROOT, "demo", "shop", "deploy")
SUPERVISORCTL = ["/usr/bin/python3", "/usr/bin/supervisorctl"]
SECRETS = {
    "production": {"SHOP_SECRET_KEY": "prod-secret-Xq7Lp2Vn9", "SHOP_VENDOR_API_KEY": "vk_live_shared_K3y8Zt"},
    # The vendor key is shared with production on purpose: secrets.env_separation must say so.
    "staging": {"SHOP_SECRET_KEY": "stage-secret-Hw4Rj6Mc1", "SHOP_VENDOR_API_KEY": "vk_live_shared_K3y8Zt"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class Stack:
    base: str
    root: str
    repo: str
    port: int
    inventory: str
    vault_pw: str
    supervisor_conf: str
    reports: str

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return ansible_run.playbook("-i", self.inventory, "--vault-id", "test@" + self.vault_pw, *args,
                                    timeout=timeout)

    def deploy(self, version: str, *args: str) -> subprocess.CompletedProcess:
        return self.run("launchready.ops.deploy", "-e", "release_version=%s" % version, *args)

    def popen(self, *args: str) -> subprocess.Popen:
        argv = ["ansible-playbook", "-i", self.inventory, "--vault-id", "test@" + self.vault_pw, *args]
        return subprocess.Popen(argv, cwd=ROOT, env=ansible_run.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def get(self, path: str) -> tuple:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def served(self) -> dict:
        return json.loads(self.get("/version")[1])

    def ledger(self) -> list:
        with open(os.path.join(self.root, ".launchready", "releases.log"), encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def states(self) -> dict:
        """{release: state} from the ledger (last line wins)."""
        out = {}
        for entry in self.ledger():
            out[entry["release"]] = entry["state"]
        return out

    def live(self) -> str:
        return os.path.basename(os.readlink(os.path.join(self.root, "current")))

    def release_of(self, commit: str) -> str:
        names = [e["release"] for e in self.ledger() if e.get("commit") == commit]
        assert names, "no release of %s in the ledger" % commit
        return names[-1]

    def snapshot(self) -> dict:
        """Every path under the root with its size and mtime (the repository cache aside)."""
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != "repo.git"]
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                out[os.path.relpath(path, self.root)] = (st.st_size, st.st_mtime_ns,
                                                         os.readlink(path) if os.path.islink(path) else None)
        return out


def _vault(value: str, pw: str) -> str:
    # What `ansible-vault encrypt_string --vault-id test@PW` prints, without a process per value.
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(open(pw, "rb").read().strip())
    body = VaultLib([("test", secret)]).encrypt(value, secret=secret, vault_id="test").decode()
    return "!vault |\n" + textwrap.indent(body, " " * 16)


def _inventory(base: str, root: str, repo: str, port: int, conf: str, pw: str, reports: str) -> str:
    secrets = ""
    for env, values in SECRETS.items():
        secrets += "            %s:\n" % env
        for name, value in values.items():
            secrets += "              %s: %s\n" % (name, _vault(value, pw))
    text = """\
all:
  children:
    app_servers:
      hosts:
        t-app:
          ansible_connection: local
          ansible_python_interpreter: {python}
          release_root: {root}
          release_repo: {repo}
          release_keep: 3
          release_lock_ttl: 600
          release_site_host: shop.test
          release_smoke_base_url: http://127.0.0.1:{port}
          release_version_url: http://127.0.0.1:{port}/version
          release_smoke_retries: 2
          release_smoke_delay: 0.5
          release_build_tasks_file: {hooks}/build.yml
          release_migrate_tasks_file: {hooks}/migrate.yml
          release_restart_tasks_file: {restart}
          shop_python: {python}
          shop_supervisorctl: {ctl}
          shop_program: shop
          shop_numprocs: 2
          app_env_environment: production
          app_env_vars:
            SHOP_DB: {base}/shop.db
            SHOP_VENDOR_URL: http://127.0.0.1:8082/v1/chat
          app_env_required: [SHOP_DB, SHOP_SECRET_KEY, SHOP_VENDOR_URL, SHOP_VENDOR_API_KEY]
          app_env_secrets_by_environment:
{secrets}
    sites:
      hosts:
        shop.test:
          ansible_connection: local
          launch_domain: shop.test
          launch_routes: {{homepage: /, login: /login, checkout: /api/checkout, chatbot: /api/chat,
                          health: /healthz, version: /version}}
          launch_report_dir: {reports}
""".format(python=sys.executable, root=root, repo=repo, port=port, hooks=HOOKS, base=base, reports=reports,
           restart=os.path.join(base, "restart.yml"), ctl=json.dumps(SUPERVISORCTL + ["-c", conf]),
           secrets=secrets.rstrip("\n"))
    path = os.path.join(base, "hosts.yml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


# A restart hook that can be held: the crash tests hold it to kill the deploy after the switch.
RESTART_HOOK = """\
- name: Hold here while the test says so
  ansible.builtin.wait_for:
    path: "{hold}"
    state: absent
    timeout: 120
  when: ("{hold}" is ansible.builtin.exists)
- name: The demo shop's restart hook
  ansible.builtin.include_tasks: {hooks}/restart.yml
"""
# A build hook that can be held the same way, before the switch.
BUILD_HOOK = """\
- name: Say the build started
  ansible.builtin.copy:
    content: "building\\n"
    dest: "{marker}"
    mode: "0644"
- name: Hold here while the test says so
  ansible.builtin.wait_for:
    path: "{hold}"
    state: absent
    timeout: 120
- name: The demo shop's build hook
  ansible.builtin.include_tasks: {hooks}/build.yml
"""


@pytest.fixture(scope="module")
def stack(lab, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("deploy"))
    repo = shop_repo.make(base, lab_repo=os.path.join(lab["lab_dir"], "git", "shop.git"))
    port = free_port()
    root = os.path.join(base, "app")
    sup = os.path.join(base, "supervisor")
    os.makedirs(sup)
    conf = os.path.join(sup, "supervisord.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(textwrap.dedent("""\
            [unix_http_server]
            file={sup}/supervisor.sock
            [supervisord]
            nodaemon=true
            logfile={sup}/supervisord.log
            pidfile={sup}/supervisord.pid
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://{sup}/supervisor.sock
            [fcgi-program:shop]
            socket=tcp://127.0.0.1:{port}
            command={python} {root}/current/app.py --env-file {root}/shared/.env --socket-fd 0
            directory={root}/current
            process_name=%(program_name)s_%(process_num)d
            numprocs=2
            startsecs=1
            startretries=1
            stopwaitsecs=10
            stdout_logfile={sup}/shop.log
            stdout_logfile_maxbytes=0
            redirect_stderr=true
            """).format(sup=sup, port=port, python=sys.executable, root=root))
    with open(os.path.join(base, "restart.yml"), "w", encoding="utf-8") as fh:
        fh.write(RESTART_HOOK.format(hold=os.path.join(base, "hold-restart"), hooks=HOOKS))
    with open(os.path.join(base, "build-held.yml"), "w", encoding="utf-8") as fh:
        fh.write(BUILD_HOOK.format(hold=os.path.join(base, "hold-build"), marker=os.path.join(base, "building"),
                                   hooks=HOOKS))
    pw = os.path.join(base, "vault-pass")
    with open(pw, "w", encoding="utf-8") as fh:
        fh.write("test-vault-password\n")
    reports = os.path.join(base, "reports")

    def ready() -> bool:
        return subprocess.run(SUPERVISORCTL + ["-c", conf, "pid"], capture_output=True, timeout=10,
                              check=False).returncode == 0

    server = procs.start("supervisord", ["/usr/bin/python3", "/usr/bin/supervisord", "-n", "-c", conf],
                         os.path.join(sup, "out.log"), ready, timeout=20)
    try:
        yield Stack(base=base, root=root, repo=repo, port=port,
                    inventory=_inventory(base, root, repo, port, conf, pw, reports), vault_pw=pw,
                    supervisor_conf=conf, reports=reports)
    finally:
        server.stop(timeout=20)


def ok(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    return run.stdout


def changed(run: subprocess.CompletedProcess) -> int:
    return ansible_run.recap(run.stdout)["t-app"]["changed"]


def assert_current_complete(stack: Stack) -> None:
    target = os.path.join(stack.root, "current")
    assert os.path.islink(target)
    assert os.path.isfile(os.path.join(target, "REVISION")), "current points at an incomplete release"
    assert os.path.isfile(os.path.join(target, "app.py"))


# --- deploy, redeploy, rollback -------------------------------------------------------------------

def test_deploy_v1_serves_it_and_records_it(stack):
    ok(stack.deploy("main"))
    v1 = shop_repo.head(stack.repo, "main")
    served = stack.served()
    assert served["commit"] == v1
    assert stack.states()[served["release"]] == "live" and stack.live() == served["release"]
    entry = [e for e in stack.ledger() if e["release"] == served["release"]][0]
    assert {"release", "commit", "ref", "started", "user", "host", "state"} <= set(entry)
    assert entry["ref"] == "main" and entry["host"] == "t-app"
    env = os.path.join(stack.root, "shared", ".env")
    assert oct(os.stat(env).st_mode & 0o777) == "0o600"


def test_a_second_deploy_of_the_same_ref_changes_nothing(stack):
    before = stack.ledger()
    run = stack.deploy("main")
    ok(run)
    assert changed(run) == 0, run.stdout[-4000:]
    assert stack.ledger() == before


def test_deploy_v2_then_rollback_serves_v1_and_the_ledger_says_so(stack):
    v1, v2 = shop_repo.head(stack.repo, "main"), shop_repo.head(stack.repo, "v2")
    ok(stack.deploy("v2"))
    assert stack.served()["commit"] == v2
    assert "Demo Shop v2" in stack.get("/")[1]
    r1, r2 = stack.release_of(v1), stack.release_of(v2)
    assert stack.states()[r1] == "good" and stack.states()[r2] == "live"

    started = time.monotonic()
    out = ok(stack.run("launchready.ops.rollback"))
    took = time.monotonic() - started
    assert stack.served()["commit"] == v1 and stack.live() == r1
    assert stack.states()[r1] == "live" and stack.states()[r2] == "rolled back"
    assert took < 30, "rollback took %.1f s" % took
    assert "rollback" in out


def test_rollback_to_a_named_release(stack):
    v2 = shop_repo.head(stack.repo, "v2")
    r2 = stack.release_of(v2)
    ok(stack.run("launchready.ops.rollback", "-e", "release_version=%s" % r2))
    assert stack.served()["commit"] == v2 and stack.live() == r2
    run = stack.run("launchready.ops.rollback", "-e", "release_version=no-such-release")
    assert run.returncode != 0 and "no complete release matches 'no-such-release'" in run.stdout
    assert stack.live() == r2


def test_releases_playbook_prints_the_table_and_the_match(stack):
    out = ok(stack.run("launchready.ops.releases"))
    assert "matches the version endpoint: yes" in out
    assert "rolled back" in out or "good" in out
    report = json.load(open(os.path.join(stack.reports, "shop.test", "report.json")))
    found = {f["check"]: f for f in report["findings"]}
    assert found["deploy.live_release"]["status"] == "pass"
    assert found["deploy.rollback_ready"]["status"] == "pass"


# --- the health gate ------------------------------------------------------------------------------

@pytest.mark.parametrize("broken", ["v3-broken", "v3-checkout"])
def test_a_broken_release_is_rolled_back_automatically(stack, broken):
    v2 = shop_repo.head(stack.repo, "v2")
    r2 = stack.release_of(v2)
    assert stack.live() == r2
    run = stack.deploy(broken)
    assert run.returncode != 0
    bad = stack.release_of(shop_repo.head(stack.repo, broken))
    assert "health gate failed" in run.stdout
    assert ("/healthz" if broken == "v3-broken" else "/api/checkout") in run.stdout
    assert "Rolled back to %s" % r2 in run.stdout
    assert stack.states()[bad] == "failed"
    assert stack.served()["commit"] == v2 and stack.live() == r2
    assert os.path.isdir(os.path.join(stack.root, "releases", r2)), "cleanup deleted the live release"


def test_cleanup_keeps_the_live_and_previous_good_and_ignores_failed(stack):
    # keep=3 in this inventory: deploy two more good releases, then check what is left.
    ok(stack.deploy("v4"))
    ok(stack.deploy("v5"))
    on_disk = sorted(n for n in os.listdir(os.path.join(stack.root, "releases")) if not n.startswith("."))
    states = stack.states()
    complete = [n for n in on_disk if states.get(n) in ("live", "good")]
    assert len(complete) <= 3
    assert stack.live() in on_disk
    r4 = stack.release_of(shop_repo.head(stack.repo, "v4"))
    assert r4 in on_disk  # the previous good release


# --- the lock -------------------------------------------------------------------------------------

def test_two_deploys_at_once_the_second_is_refused(stack):
    hold = os.path.join(stack.base, "hold-build")
    open(hold, "w").close()
    first = stack.popen("launchready.ops.deploy", "-e", "release_version=v2",
                        "-e", "release_build_tasks_file=%s" % os.path.join(stack.base, "build-held.yml"))
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(stack.base, "building")) and time.monotonic() < deadline:
            time.sleep(0.2)
        second = stack.deploy("v4")
        assert second.returncode != 0
        assert "the deploy lock is held by" in second.stdout and "deploying v2" in second.stdout
        assert "(pid %d" % first.pid in second.stdout
    finally:
        os.unlink(hold)
        out = first.communicate(timeout=180)[0]
        os.unlink(os.path.join(stack.base, "building"))
    assert first.returncode == 0, out[-4000:]
    assert stack.served()["commit"] == shop_repo.head(stack.repo, "v2")


def test_a_stale_lock_is_reported_and_cleared_only_with_force(stack):
    lock = os.path.join(stack.root, ".launchready", "deploy.lock")
    os.makedirs(lock)
    with open(os.path.join(lock, "owner.json"), "w") as fh:
        json.dump({"owner": "alice@laptop", "controller": "laptop", "pid": 4242, "ref": "v9", "ttl": 60,
                   "since": "2026-01-01T00:00:00Z", "since_epoch": time.time() - 3600, "token": "t0"}, fh)
    run = stack.deploy("v4")
    assert run.returncode != 0
    assert "alice@laptop" in run.stdout and "STALE" in run.stdout and "release_force_unlock" in run.stdout
    assert os.path.isdir(lock)
    ok(stack.deploy("v4", "-e", "release_force_unlock=true"))
    assert not os.path.exists(lock)
    assert stack.served()["commit"] == shop_repo.head(stack.repo, "v4")


# --- killed mid-deploy ----------------------------------------------------------------------------

def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def test_killed_before_the_switch_current_stays_complete_and_the_next_deploy_recovers(stack):
    live = stack.live()
    hold = os.path.join(stack.base, "hold-build")
    open(hold, "w").close()
    proc = stack.popen("launchready.ops.deploy", "-e", "release_version=v5",
                       "-e", "release_build_tasks_file=%s" % os.path.join(stack.base, "build-held.yml"))
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(stack.base, "building")) and time.monotonic() < deadline:
            time.sleep(0.2)
        _kill(proc)
    finally:
        os.unlink(hold)
        os.unlink(os.path.join(stack.base, "building"))
    assert stack.live() == live
    assert_current_complete(stack)
    assert os.path.isdir(os.path.join(stack.root, ".launchready", "deploy.lock")), "the killed deploy held the lock"
    run = stack.deploy("v5")
    ok(run)
    assert "took over the deploy lock" in run.stdout + run.stderr
    assert stack.served()["commit"] == shop_repo.head(stack.repo, "v5")


def test_killed_after_the_switch_current_is_complete_and_the_next_deploy_finishes_it(stack):
    hold = os.path.join(stack.base, "hold-restart")
    open(hold, "w").close()
    v4 = shop_repo.head(stack.repo, "v4")
    proc = stack.popen("launchready.ops.deploy", "-e", "release_version=v4")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if json.load(open(os.path.join(stack.root, "current", "REVISION")))["commit"] == v4:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        time.sleep(0.5)
        _kill(proc)
    finally:
        os.unlink(hold)
    assert_current_complete(stack)
    assert json.load(open(os.path.join(stack.root, "current", "REVISION")))["commit"] == v4
    assert stack.served()["commit"] != v4  # switched, never restarted
    run = stack.deploy("v4")
    ok(run)
    assert "took over the deploy lock" in run.stdout + run.stderr
    assert stack.served()["commit"] == v4
    assert stack.states()[stack.live()] == "live"


# --- env and secrets ------------------------------------------------------------------------------

def test_a_missing_env_var_stops_the_deploy_before_the_switch_with_the_names(stack):
    live = stack.live()
    run = stack.deploy("needs-env")
    assert run.returncode != 0
    assert "SHOP_PAYMENT_WEBHOOK_SECRET" in run.stdout and "nothing was switched" in run.stdout
    assert "Nothing was switched; %s is still live" % live in run.stdout
    assert stack.live() == live
    assert stack.states()[stack.release_of(shop_repo.head(stack.repo, "needs-env"))] == "failed"
    run = stack.deploy("v5", "-e", '{"app_env_vars": {"SHOP_DB": "%s/shop.db"}}' % stack.base)
    assert run.returncode != 0 and "SHOP_VENDOR_URL" in run.stdout
    assert stack.live() == live


def test_an_archive_deploys_like_a_ref(stack):
    archive = os.path.join(stack.base, "shop-v5.tar")
    subprocess.run(["git", "archive", "--format=tar", "-o", archive, "v5"], cwd=stack.repo, check=True, timeout=30)
    ok(stack.run("launchready.ops.deploy", "-e", "release_archive=%s" % archive))
    served = stack.served()
    assert served["commit"].startswith("archive-") and stack.states()[stack.live()] == "live"
    run = stack.run("launchready.ops.deploy", "-e", "release_archive=%s" % archive)
    assert changed(ok(run) and run) == 0


def test_vvv_output_of_a_full_deploy_holds_no_vault_value(stack):
    # One more plain setting, so the env file changes and its diff is shown.
    env_vars = {"SHOP_DB": stack.base + "/shop.db", "SHOP_VENDOR_URL": "http://127.0.0.1:8082/v1/chat",
                "SHOP_CHAT_TIMEOUT": "2.5"}
    run = stack.deploy("v2", "-vvv", "--diff", "-e", json.dumps({"app_env_vars": env_vars}))
    out = ok(run) + run.stderr
    assert "Switch current to the new release" in out and "changed: [t-app]" in out
    assert "+SHOP_CHAT_TIMEOUT=<added>" in out and "SHOP_SECRET_KEY=<value>" in out  # the env diff: names only
    for values in SECRETS.values():
        for name, value in values.items():
            assert value not in out, "%s leaked into the -vvv output" % name
    env = open(os.path.join(stack.root, "shared", ".env")).read()
    assert SECRETS["production"]["SHOP_SECRET_KEY"] in env and SECRETS["staging"]["SHOP_SECRET_KEY"] not in env
    report = json.load(open(os.path.join(stack.reports, "shop.test", "report.json")))
    found = {f["check"]: f for f in report["findings"]}
    assert found["secrets.env_complete"]["status"] == "pass"
    assert found["secrets.env_separation"]["status"] == "fail"
    assert "SHOP_VENDOR_API_KEY" in found["secrets.env_separation"]["summary"]
    assert SECRETS["production"]["SHOP_VENDOR_API_KEY"] not in json.dumps(report)
    for check in ("deploy.live_release", "deploy.rollback_ready", "deploy.repeatable", "deploy.migrations_rerun"):
        assert found[check]["status"] == "pass", found[check]


def test_check_mode_changes_nothing_on_disk_and_diff_shows_the_plan(stack):
    before = stack.snapshot()
    ledger = stack.ledger()
    served = stack.served()
    run = stack.deploy("v5", "--check", "--diff")
    out = ok(run)
    assert stack.snapshot() == before
    assert stack.ledger() == ledger
    v5 = shop_repo.head(stack.repo, "v5")
    assert "+current -> releases/" in out and v5[:12] in out
    assert "-current -> releases/%s" % stack.live() in out
    assert stack.served() == served


# --- security: tokens, repository symlinks, locks, git options (issue #12) -------------------------

def _vars_file(stack: Stack, name: str, data: dict) -> str:
    """Extra vars in a file (-e @FILE): a value on the command line would sit in ansible-playbook's argv."""
    path = os.path.join(stack.base, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    return "@" + path


def test_a_token_in_release_repo_is_in_no_output_file_or_argv(stack):
    token = "glpat-" + uuid.uuid4().hex
    wrong = "glpat-wrong" + uuid.uuid4().hex
    host = git_http.GitHttp(stack.base, "deployer", token, address="127.0.3.2", delay=0.2)
    try:
        good = _vars_file(stack, "token-repo.json", {"release_repo": host.url("shop.git", "deployer", token)})
        with git_http.CmdlineWatch() as watch:
            run = stack.deploy("v5", "-vvv", "-e", good)
        out = ok(run) + run.stderr
        assert stack.served()["commit"] == shop_repo.head(stack.repo, "v5")
        assert [entry for entry in host.log if entry[2]], "the deploy never fetched from the token repository"
        assert watch.matching("127.0.3.2:%d" % host.port), "no git process was sampled during the deploy"
        assert watch.matching(token) == []
        assert token not in out
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in out  # the module's repo option is no_log
        for dirpath, dirnames, filenames in os.walk(stack.root):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as fh:
                        assert token.encode() not in fh.read(), "the token is on disk in %s" % path
                if ".launchready" in os.path.relpath(path, stack.root).split(os.sep) and not os.path.islink(path):
                    assert os.lstat(path).st_mode & 0o077 == 0, "%s is open to others" % path
        assert os.stat(os.path.join(stack.root, ".launchready")).st_mode & 0o777 == 0o700

        live = stack.live()
        bad = _vars_file(stack, "wrong-token-repo.json", {"release_repo": host.url("shop.git", "deployer", wrong)})
        run = stack.deploy("v4", "-vvv", "-e", bad)
        out = run.stdout + run.stderr
        assert run.returncode != 0
        assert "deployer:***@127.0.3.2:%d" % host.port in out and "Authentication failed" in out
        assert wrong not in out and token not in out
        assert stack.live() == live
    finally:
        host.stop()


def _commit_public_symlink(target: str):
    def edit(worktree: str) -> None:
        os.symlink(target, os.path.join(worktree, "public"))
        shop_repo.git(worktree, "add", "public")
    return edit


def test_a_repository_symlink_out_of_the_release_refuses_the_deploy(stack):
    outside = os.path.join(stack.base, "outside")
    os.makedirs(os.path.join(outside, "uploads"))
    with open(os.path.join(outside, "uploads", "keep.txt"), "w") as fh:
        fh.write("customer upload\n")
    shop_repo.commit(stack.repo, "public-symlink", _commit_public_symlink(outside))
    live = stack.live()
    run = stack.deploy("public-symlink", "-e", json.dumps({"release_shared_dirs": ["public/uploads"]}))
    assert run.returncode != 0
    assert "'public/uploads'" in run.stdout and "outside the release" in run.stdout
    assert open(os.path.join(outside, "uploads", "keep.txt")).read() == "customer upload\n"
    assert stack.live() == live


def test_a_lock_of_another_machine_with_this_host_name_is_not_taken_over(stack):
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = os.path.join(stack.root, ".launchready", "deploy.lock")
    os.makedirs(lock)
    with open(os.path.join(lock, "owner.json"), "w") as fh:
        # A cloned CI runner: same host name, its own machine-id; its pid means nothing here.
        json.dump({"owner": "ci@%s" % socket.gethostname(), "controller": socket.gethostname(), "pid": dead.pid,
                   "pid_start": 12345, "machine_id": "f" * 32, "boot_id": "b" * 36, "ref": "v9", "ttl": 600,
                   "since": "2026-01-01T00:00:00Z", "since_epoch": time.time(), "token": "other-runner"}, fh)
    try:
        run = stack.deploy("v4")
        assert run.returncode != 0
        assert "the deploy lock is held by ci@" in run.stdout and "took over" not in run.stdout + run.stderr
        assert json.load(open(os.path.join(lock, "owner.json")))["token"] == "other-runner"
    finally:
        shutil.rmtree(lock)


def test_check_mode_with_an_option_as_release_repo_runs_nothing(stack):
    sentinel = os.path.join(stack.base, "SENTINEL")
    evil = _vars_file(stack, "evil-repo.json", {"release_repo": "--upload-pack=touch %s #" % sentinel})
    before = stack.snapshot()
    run = stack.deploy("main", "--check", "-e", evil)
    assert run.returncode != 0
    assert "release_repo" in run.stdout and "starts with '-'" in run.stdout
    assert not os.path.exists(sentinel)
    assert stack.snapshot() == before


# --- molecule -------------------------------------------------------------------------------------

def test_molecule_default_scenario(tmp_path):
    if not shutil.which("molecule", path=ansible_run.env()["PATH"]):
        pytest.skip("molecule is not installed")
    env = dict(ansible_run.env(), MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "molecule"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(["molecule", "test", "-s", "default"], cwd=os.path.join(ROOT, "roles", "release"),
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]

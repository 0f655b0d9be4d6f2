"""tls.auto_renew: the renewal job read from its cron file or systemd timer (files only, no network).

The job tls_acme installs is a renew.sh with job.json and last-run.json beside it; these tests
write such jobs (and certbot's and unknown ones) by hand, healthy and broken.  The real job,
issued and renewed against pebble, is proven in tests/test_tls_renewal.py.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_renewal as C
from tests.support import pki

NOW = dt.datetime.now(dt.timezone.utc)


def stamp(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(tmp_path, *, schedule="17 3 * * *", renew_days=30, cert_days=80, last=None, user="root",
        wrapper=True) -> str:
    """A tls_acme-shaped job in tmp_path: cron file, renew.sh, job.json, certificate, last-run.json."""
    renew = tmp_path / "renew"
    renew.mkdir(exist_ok=True)
    script = renew / "renew.sh"
    if wrapper:
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o700)
    ca = pki.TestCA("renewal")
    crt, _key = ca.write(str(tmp_path), "site", ca.issue(["shop.test"], days=cert_days))
    (renew / "job.json").write_text(json.dumps({"renew_days": renew_days, "fullchain": crt, "domains": ["shop.test"]}))
    if last is not None:
        (renew / "last-run.json").write_text(json.dumps(last))
    cron = renew / "cron"
    cron.write_text("#Ansible: launchready.ops tls_acme renewal of shop.test\n%s %s%s\n"
                    % (schedule, user + " " if user else "", script))
    return str(cron)


def check(path, **extra):
    variables = {"launch_domain": "shop.test", "launch_renewal_job": path}
    variables.update(extra)
    (f,) = check_registry.run(site.from_vars(variables), check_registry.select(ids=["tls.auto_renew"]))
    return f


def test_catalog():
    assert (C.AUTO_RENEW.impact, C.AUTO_RENEW.stage) == ("high", "edge")


def test_daily_job_that_renews_30_days_ahead_passes(tmp_path):
    f = check(job(tmp_path, last={"started": stamp(0.5), "finished": stamp(0.5), "rc": 0}))
    assert f.status == "pass", f.summary
    assert "a cron entry (17 3 * * *, every 1 day(s)) renews when fewer than 30 days remain" in f.summary
    assert f.evidence["tool"] == "tls_acme" and 79 < f.evidence["days_left"] < 81


def test_a_job_that_never_ran_passes_while_the_certificate_is_not_due(tmp_path):
    f = check(job(tmp_path, last=None))
    assert f.status == "pass" and "not run yet" in f.summary


def test_no_renewal_job_fails(tmp_path):
    f = check(str(tmp_path / "missing-cron"))
    assert f.status == "fail" and f.impact == "high" and "no renewal job" in f.summary and f.fix


def test_a_job_file_without_entries_fails(tmp_path):
    path = tmp_path / "cron"
    path.write_text("# nothing scheduled\nSHELL=/bin/sh\n")
    assert check(str(path)).status == "fail"


def test_renewing_too_late_fails(tmp_path):
    f = check(job(tmp_path, renew_days=10))
    assert f.status == "fail" and "fewer than 10 days" in f.summary


def test_running_too_rarely_fails(tmp_path):
    f = check(job(tmp_path, schedule="0 3 1 * *"))
    assert f.status == "fail" and "too rarely" in f.summary


def test_a_failed_last_run_is_stale(tmp_path):
    f = check(job(tmp_path, last={"started": stamp(1), "finished": stamp(1), "rc": 2}))
    assert f.status == "fail" and f.summary.startswith("stale: the renewal job's last run failed (rc=2")


def test_a_certificate_deep_in_the_window_with_no_recent_run_is_stale(tmp_path):
    f = check(job(tmp_path, cert_days=12, last={"started": stamp(20), "finished": stamp(20), "rc": 0}))
    assert f.status == "fail" and f.summary.startswith("stale: the certificate has 12 days left")


def test_the_wrapper_must_exist(tmp_path):
    f = check(job(tmp_path, wrapper=False))
    assert f.status == "fail" and "does not exist" in f.summary


def test_a_systemd_timer_is_read_with_its_service(tmp_path):
    job(tmp_path)
    (tmp_path / "renew-shop.service").write_text(
        "[Service]\nType=oneshot\nExecStart=%s\n" % (tmp_path / "renew" / "renew.sh"))
    (tmp_path / "renew-shop.timer").write_text("[Timer]\nOnCalendar=*-*-* 03:17:00\nPersistent=true\n")
    f = check(str(tmp_path / "renew-shop.timer"))
    assert f.status == "pass" and f.evidence["kind"] == "systemd timer"


def test_certbot_renews_30_days_ahead(tmp_path):
    path = tmp_path / "certbot"
    path.write_text("0 */12 * * * root test -x /usr/bin/certbot && perl -e 'sleep int(rand(43200))' && "
                    "certbot -q renew\n")
    f = check(str(path))
    assert f.status == "pass" and f.evidence["tool"] == "certbot"


def test_an_unknown_command_warns(tmp_path):
    program = tmp_path / "my-renewer"
    program.write_text("#!/bin/sh\n")
    path = tmp_path / "cron"
    path.write_text("@daily root %s\n" % program)
    f = check(str(path))
    assert f.status == "warn" and "cannot tell when it renews" in f.summary


def test_skips_without_a_job_and_for_cloudflare():
    assert check(None).status == "skip"
    f = check(None, launch_edge_provider="cloudflare")
    assert f.status == "skip" and "Cloudflare renews" in f.summary


@pytest.mark.parametrize("fields,days", [
    ("17 3 * * *", 1.0), ("0 */12 * * *", 0.5), ("0 3 * * 1", 7.0), ("0 3 * * 1,4", 3.5), ("0 3 1 * *", 31.0),
    ("0 3 1,15 * *", 15.5), ("0 3 1 1 *", 366.0),
])
def test_cron_intervals(fields, days):
    assert C.cron_interval_days(fields.split()) == pytest.approx(days)


@pytest.mark.parametrize("value,days", [
    ("daily", 1.0), ("weekly", 7.0), ("*-*-* 03:17:00", 1.0), ("*-*-* 00,12:00:00", 0.5), ("Mon *-*-* 03:00", 7.0),
    ("*-*-01 03:00:00", 31.0),
])
def test_calendar_intervals(value, days):
    assert C.calendar_interval_days(value) == pytest.approx(days)

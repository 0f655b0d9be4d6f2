# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls.auto_renew: a renewal job exists and would renew before 30 days remain (checks.md, Stage 2).

The check reads the job's definition from the file ``launch_renewal_job`` names, on the
machine the audit runs on (the edge host itself, or a copy fetched from it):

- a cron file (``/etc/cron.d`` format, with the user field, or a crontab without it), or
- a systemd ``.timer`` unit (its ``.service`` beside it names the command).

How often the job runs comes from the schedule.  When the command is the wrapper the
``tls_acme`` role installs (``renew.sh``), its ``job.json`` beside it gives the renewal
threshold (``renew_days``) and the certificate, and ``last-run.json`` the last run's
outcome; ``certbot renew`` renews 30 days ahead by default.  "Stale" means the job no
longer does its work: its last run failed, or the certificate is well inside the renewal
window with no successful run for two intervals.

With Cloudflare as the edge and no job given, the edge certificates are Cloudflare's to
renew (skip).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - reported by the plugins
    pass

RENEW_BEFORE_DAYS = 30
CERTBOT_RENEW_DAYS = 30
EXPIRY_FAIL_DAYS = 14  # tls.cert_expiry fails below this

_CRON_MACROS = {"@yearly": 366.0, "@annually": 366.0, "@monthly": 31.0, "@weekly": 7.0, "@daily": 1.0,
                "@midnight": 1.0, "@hourly": 1 / 24}
_CALENDAR_WORDS = {"minutely": 1 / 1440, "hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 31.0,
                   "quarterly": 92.0, "semiannually": 183.0, "yearly": 366.0, "annually": 366.0}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|sec|seconds?|m|min|minutes?|h|hr|hours?|d|days?|w|weeks?)?\s*$",
                   re.I)
_SPAN_DAYS = {"s": 1 / 86400, "m": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- reading job definitions -------------------------------------------------------------------------

def _cron_field_count(field: str, low: int, high: int) -> int | None:
    """How many values a cron field allows (None when it is '*' with no step)."""
    if field == "*":
        return None
    values = set()
    for part in field.split(","):
        rng, _sep, step = part.partition("/")
        step_n = int(step) if step.isdigit() else 1
        if rng == "*":
            start, end = low, high
        elif "-" in rng:
            a, b = rng.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = end = int(rng)
        values.update(range(start, end + 1, max(step_n, 1)))
    return len(values)


def cron_interval_days(fields: list) -> float:
    """Longest gap between runs, in days, for the five schedule fields of a cron entry."""
    minute, hour, dom, month, dow = fields
    if month != "*":
        return 366.0 / (_cron_field_count(month, 1, 12) or 12)
    if dom != "*" and dow == "*":
        days = _cron_field_count(dom, 1, 31) or 31
        return 31.0 / days if days < 31 else 1.0
    if dow != "*":
        days = _cron_field_count(dow.replace("7", "0"), 0, 6) or 7
        return 7.0 / days
    per_day = (_cron_field_count(hour, 0, 23) or 24)
    return 1.0 / per_day if per_day > 1 else 1.0


def read_cron(text: str) -> list:
    """[{schedule, interval_days, command}] of a cron file (cron.d lines with a user field, or crontab lines)."""
    jobs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        parts = line.split()
        if parts[0].startswith("@"):
            interval = _CRON_MACROS.get(parts[0].lower())
            if interval is None:  # @reboot: not a schedule
                continue
            schedule, rest = parts[0], parts[1:]
        elif len(parts) >= 6:
            schedule, rest = " ".join(parts[:5]), parts[5:]
            try:
                interval = cron_interval_days(parts[:5])
            except ValueError:
                continue
        else:
            continue
        # cron.d lines carry a user before the command; a crontab's do not.
        if len(rest) > 1 and re.match(r"^[a-z_][a-z0-9_-]*\$?$", rest[0]) and (rest[1].startswith("/") or "=" in rest[1]):
            user, rest = rest[0], rest[1:]
        else:
            user = None
        jobs.append({"schedule": schedule, "interval_days": interval, "user": user, "command": " ".join(rest)})
    return jobs


def _span_days(text: str) -> float | None:
    total = 0.0
    for token in text.split():
        m = _SPAN.match(token)
        if not m:
            return None
        unit = (m.group(2) or "s").lower()
        unit = "m" if unit.startswith("min") or unit == "m" else unit[0]
        if unit == "u":
            continue
        total += float(m.group(1)) * _SPAN_DAYS.get(unit, 1 / 86400)
    return total or None


def calendar_interval_days(value: str) -> float | None:
    """Longest gap, in days, of a systemd OnCalendar= expression (the common shapes)."""
    value = value.strip().lower()
    if value in _CALENDAR_WORDS:
        return _CALENDAR_WORDS[value]
    parts = value.split()
    if parts and re.match(r"^[a-z][a-z,.]*$", parts[0]):  # "Mon,Thu *-*-* 03:00"
        days = sum(3 if ".." in d else 1 for d in parts[0].split(","))
        return 7.0 / max(1, min(days, 7))
    date, clock = "*-*-*", "00:00"
    for part in parts:
        if ":" in part:
            clock = part
        elif "-" in part:
            date = part
    ymd = date.split("-")
    if len(ymd) == 3:
        if ymd[1] != "*":
            return 366.0 / max(1, len(ymd[1].split(",")))
        if ymd[2] != "*":
            return 31.0 / max(1, len(ymd[2].split(",")))
    hours = clock.split(":")[0]
    if hours == "*" or "/" in hours:
        return 1 / 24
    return 1.0 / max(1, len(hours.split(",")))


def read_timer(path: str, text: str) -> dict:
    """{schedule, interval_days, command} of a systemd timer and the service it starts."""
    keys: dict = {}
    for raw in text.splitlines():
        line = raw.strip()
        if "=" in line and not line.startswith(("#", ";")):
            k, _sep, v = line.partition("=")
            keys.setdefault(k.strip(), []).append(v.strip())
    intervals, schedule = [], []
    for value in keys.get("OnCalendar", []):
        schedule.append("OnCalendar=%s" % value)
        days = calendar_interval_days(value)
        if days:
            intervals.append(days)
    for key in ("OnUnitActiveSec", "OnUnitInactiveSec"):
        for value in keys.get(key, []):
            schedule.append("%s=%s" % (key, value))
            days = _span_days(value)
            if days:
                intervals.append(days)
    unit = (keys.get("Unit") or [os.path.basename(path)[:-len(".timer")] + ".service"])[0]
    service = os.path.join(os.path.dirname(path), unit)
    command = ""
    try:
        with open(service, encoding="utf-8") as fh:
            for raw in fh:
                if raw.strip().startswith("ExecStart="):
                    command = raw.strip().partition("=")[2].lstrip("-@+!:")
    except OSError:
        command = ""
    return {"schedule": "; ".join(schedule), "interval_days": min(intervals) if intervals else None,
            "command": command, "service": service}


def _load_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def _days_left(path: str) -> tuple:
    """(days until notAfter of the first certificate in ``path``, notAfter text) or (None, why)."""
    try:
        with open(path, "rb") as fh:
            cert = x509.load_pem_x509_certificates(fh.read())[0]
    except (OSError, ValueError, IndexError) as exc:
        return None, "cannot read %s: %s" % (path, exc)
    left = (cert.not_valid_after_utc - _now()).total_seconds() / 86400
    return left, cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_job(path: str) -> dict:
    """Everything the check knows about the job at ``path`` (raises OSError when unreadable)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    if path.endswith(".timer"):
        timer = read_timer(path, text)
        jobs = [timer] if timer["interval_days"] else []
        kind = "systemd timer"
    else:
        jobs = read_cron(text)
        kind = "cron entry"
    info: dict = {"path": path, "kind": kind, "jobs": jobs}
    renewing = [j for j in jobs if "renew" in j["command"] or "certbot" in j["command"]]
    job = (renewing or jobs or [None])[0]
    info["job"] = job
    if job is None:
        return info
    try:
        argv = shlex.split(job["command"])
    except ValueError:
        argv = job["command"].split()
    program = argv[0] if argv else ""
    info["program"] = program
    if program.endswith("renew.sh"):
        info["tool"] = "tls_acme"
        base = os.path.dirname(program)
        info["description"] = _load_json(os.path.join(base, "job.json"))
        info["last_run"] = _load_json(os.path.join(base, "last-run.json"))
        info["renew_days"] = (info["description"] or {}).get("renew_days")
        info["certificate"] = (info["description"] or {}).get("fullchain")
    elif "certbot" in job["command"]:
        info["tool"] = "certbot"
        info["renew_days"] = CERTBOT_RENEW_DAYS
    else:
        info["tool"] = "unknown"
    return info


# --- tls.auto_renew ----------------------------------------------------------------------------------

AUTO_RENEW = F.CheckSpec(
    id="tls.auto_renew", impact=F.HIGH, stage="edge",
    title="A renewal job exists and would renew the certificate before 30 days remain",
    fix="Install the renewal job with the tls_acme role (a cron entry, or a systemd timer where systemd runs: "
        "daily, renewing when fewer than 30 days remain, then reloading nginx) and point launch_renewal_job at "
        "it; check the job's renew.log when it fails.",
    why="A certificate that does not renew itself expires on a weekend in 60 to 90 days, and every customer then "
        "gets a full-page browser error.")


def _when(days: float) -> str:
    if days < 1:
        return "every %g h" % round(days * 24, 2)
    return "every %g day(s)" % round(days, 2)


@check(AUTO_RENEW)
def auto_renew(site: Site, probes) -> list:
    target = site.canonical_host
    if not site.renewal_job:
        if site.edge_provider == "cloudflare":
            return [F.make(AUTO_RENEW, F.SKIP, target, "Cloudflare renews the edge certificates; set "
                           "launch_renewal_job to check the origin's renewal job too")]
        return [F.make(AUTO_RENEW, F.SKIP, target, "launch_renewal_job is not set: give the path of the renewal "
                       "job (cron file or systemd timer, e.g. the one tls_acme installs) on this machine")]
    path = site.renewal_job
    if not os.path.exists(path):
        return [F.make(AUTO_RENEW, F.FAIL, target, "no renewal job: %s does not exist" % path,
                       evidence={"path": path})]
    try:
        info = describe_job(path)
    except OSError as exc:
        return [F.make(AUTO_RENEW, F.ERROR, target, "cannot read the renewal job %s: %s" % (path, exc),
                       evidence={"path": path})]
    job = info["job"]
    if job is None or not job.get("command"):
        return [F.make(AUTO_RENEW, F.FAIL, target, "%s holds no scheduled job (no %s with a command)"
                       % (path, info["kind"]), evidence=info)]
    interval = job["interval_days"]
    program = info.get("program", "")
    if program.startswith("/") and not os.path.exists(program):
        return [F.make(AUTO_RENEW, F.FAIL, target, "the renewal job runs %s, which does not exist" % program,
                       evidence=info)]
    renew_days = info.get("renew_days")
    if renew_days is None:
        return [F.make(AUTO_RENEW, F.WARN, target, "%s runs %r %s, but it is not tls_acme's or certbot's job: cannot "
                       "tell when it renews" % (path, job["command"], _when(interval)), evidence=info)]
    renew_days = float(renew_days)
    if renew_days < RENEW_BEFORE_DAYS:
        return [F.make(AUTO_RENEW, F.FAIL, target, "the renewal job renews only when fewer than %g days remain "
                       "(at least %d)" % (renew_days, RENEW_BEFORE_DAYS), evidence=info)]
    if interval > renew_days - EXPIRY_FAIL_DAYS:
        return [F.make(AUTO_RENEW, F.FAIL, target, "the renewal job runs only %s, too rarely to renew within the %g "
                       "days it has" % (_when(interval), renew_days - EXPIRY_FAIL_DAYS), evidence=info)]
    last = info.get("last_run") or {}
    finished = _parse_time(last.get("finished"))
    if last and last.get("rc") not in (0, None):
        # tls_acme's renew.sh says why when it refused to run (an unsafe runtime path).
        why = (": %s" % last["error"]) if isinstance(last.get("error"), str) and last["error"] else ""
        return [F.make(AUTO_RENEW, F.FAIL, target, "stale: the renewal job's last run failed (rc=%s at %s)%s; see "
                       "renew.log beside %s" % (last.get("rc"), last.get("finished"), why, program), evidence=info)]
    recent = finished is not None and (_now() - finished).total_seconds() / 86400 <= max(2 * interval, 1.0)
    left, not_after = (None, "")
    if info.get("certificate"):
        left, not_after = _days_left(info["certificate"])
        info["days_left"] = None if left is None else round(left, 2)
        info["not_after"] = not_after
    if left is not None and left < renew_days - 2 * interval and not recent:
        return [F.make(AUTO_RENEW, F.FAIL, target, "stale: the certificate has %.0f days left, inside the %g-day "
                       "renewal window, and the job has not run successfully for two intervals (%s)"
                       % (left, renew_days, "last run %s" % last.get("finished") if last else "never ran"),
                       evidence=info)]
    ran = ("last run ok at %s" % last.get("finished")) if last else "not run yet"
    cert = "; the certificate has %.0f days left" % left if left is not None else ""
    return [F.make(AUTO_RENEW, F.PASS, target, "a %s (%s, %s) renews when fewer than %g days remain%s; %s"
                   % (info["kind"], job["schedule"], _when(interval), renew_days, cert, ran), evidence=info)]

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The founder's status page: one self-contained HTML file with inline SVG charts, no internet needed.

Panels, from Prometheus queries (only the configured Prometheus URL is asked, each request with a
timeout, the whole page under one deadline): uptime % per route over 24 h and 7 d, the error rate,
p95 latency per route, the firing alerts; the current release, and the recent deploys of the
release ledger drawn as markers on the time charts. Every value is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import time
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import api_session

W, H, PAD = 640, 180, 36


class StatusPageError(RuntimeError):
    pass


class Prom:
    def __init__(self, base: str, timeout: float, deadline: float) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.http = api_session.session()
        self.end_by = time.monotonic() + deadline

    def _get(self, path: str, params: dict) -> t.Any:
        left = self.end_by - time.monotonic()
        if left <= 0:
            raise StatusPageError("the status page ran out of its deadline asking Prometheus")
        resp = self.http.get(self.base + path, params=params, timeout=min(self.timeout, left))
        resp.raise_for_status()
        body = resp.json()
        if body.get("status") != "success":
            raise StatusPageError("Prometheus refused %s: %s" % (params, body.get("error")))
        return body["data"]

    def instant(self, expr: str) -> list:
        return self._get("/api/v1/query", {"query": expr})["result"]

    def series(self, expr: str, start: float, end: float, step: float) -> list:
        return self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})["result"]

    def alerts(self) -> list:
        return self._get("/api/v1/alerts", {})["alerts"]


def read_ledger(path: str, limit: int = 10) -> list:
    """The last ``limit`` deploys and rollbacks of a release ledger (JSON lines), newest last."""
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("release"):
                    out.append(rec)
    except OSError:
        return []
    return out[-limit:]


def _epoch(value: t.Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _chart(title: str, series: list, start: float, end: float, markers: list, unit: str) -> str:
    """An SVG line chart; ``series`` [(label, [(ts, value)])]; ``markers`` [(ts, label)]."""
    points = [v for _l, pts in series for _ts, v in pts]
    top = max(points + [1e-9]) * 1.1
    span = max(end - start, 1)
    colours = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")

    def x(ts: float) -> float:
        return PAD + (ts - start) / span * (W - 2 * PAD)

    def y(v: float) -> float:
        return H - PAD + -(v / top) * (H - 2 * PAD)

    parts = ['<svg class="chart" data-title="%s" data-points="%d" viewBox="0 0 %d %d" width="%d" height="%d" '
             'role="img" aria-label="%s">' % (html.escape(title), len(points), W, H, W, H, html.escape(title)),
             '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>' % (PAD, H - PAD, W - PAD, H - PAD),
             '<text x="2" y="%d" font-size="10">%s</text>' % (PAD, html.escape("%.3g %s" % (top, unit)))]
    for i, (label, pts) in enumerate(series):
        if not pts:
            continue
        path = " ".join("%.1f,%.1f" % (x(ts), y(v)) for ts, v in pts)
        colour = colours[i % len(colours)]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (colour, path))
        parts.append('<text x="%d" y="%d" font-size="10" fill="%s">%s</text>'
                     % (W - PAD - 150, 12 + 11 * i, colour, html.escape(label)))
    for ts, label in markers:
        if start <= ts <= end:
            parts.append('<g class="deploy-marker"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#f59e0b" '
                         'stroke-dasharray="4 2"/><text x="%.1f" y="%d" font-size="9">%s</text></g>'
                         % (x(ts), PAD - 8, x(ts), H - PAD, x(ts) + 2, H - PAD + 12, html.escape(label)))
    parts.append("</svg>")
    return "".join(parts)


def _values(result: list, label: str) -> list:
    out = []
    for r in result:
        pts = [(float(ts), float(v)) for ts, v in r.get("values", []) if v not in ("NaN", "+Inf", "-Inf")]
        out.append((r["metric"].get(label, "all"), pts))
    return out


def build(prom_url: str, site: str, deploys: list, window: float = 3600.0, step: float | None = None,
          timeout: float = 5.0, deadline: float = 30.0, now: float | None = None) -> dict:
    """Ask Prometheus for every panel; returns the data the page is drawn from."""
    prom = Prom(prom_url, timeout, deadline)
    end = now or time.time()
    start = end - window
    step = step or max(window / 240, 1.0)
    sel = 'site="%s"' % site.replace("\\", "").replace('"', "")
    uptime = {}
    for span in ("24h", "7d"):
        for r in prom.instant('avg by (route) (avg_over_time(probe_success{job="launch_http",%s}[%s]))' % (sel, span)):
            uptime.setdefault(r["metric"].get("route", "?"), {})[span] = float(r["value"][1]) * 100
    # "or vector(0)": no 5xx at all is a flat zero line, not an empty chart.
    errors = prom.series('(sum(rate(http_requests_total{job="launch_app",status=~"5..",route!="/metrics",%s}[1m])) '
                         'or vector(0)) / '
                         'sum(rate(http_requests_total{job="launch_app",route!="/metrics",%s}[1m]))' % (sel, sel),
                         start, end, step)
    p95 = prom.series('histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket'
                      '{job="launch_app",route!="/metrics",%s}[1m])))' % sel, start, end, step)
    up = prom.series('avg by (route) (probe_success{job="launch_http",%s})' % sel, start, end, step)
    release = prom.instant('max by (release, commit) (shop_build_info{%s})' % sel)
    alerts = [a for a in prom.alerts() if a.get("state") == "firing"]
    return {"site": site, "start": start, "end": end, "uptime": uptime, "errors": _values(errors, "route"),
            "p95": _values(p95, "route"), "up": _values(up, "route"),
            "release": [r["metric"] for r in release], "alerts": alerts, "deploys": deploys}


def render(data: dict) -> str:
    e = html.escape
    markers = []
    for d in data["deploys"]:
        ts = _epoch(d.get("finished") or d.get("started"))
        if ts is not None:
            markers.append((ts, "%s %s" % (d.get("state", "deploy"), d.get("release", "?"))))
    start, end = data["start"], data["end"]
    last = data["deploys"][-1] if data["deploys"] else None
    rows = "".join("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        e(route), e("%.2f %%" % v["24h"]) if "24h" in v else "-", e("%.2f %%" % v["7d"]) if "7d" in v else "-")
        for route, v in sorted(data["uptime"].items()))
    bars = "".join('<div class="bar"><span>%s</span><svg class="chart" data-points="1" width="300" height="14">'
                   '<rect width="%.1f" height="14" fill="%s"/></svg> %.2f %%</div>'
                   % (e(route), 3 * v.get("24h", 0), "#16a34a" if v.get("24h", 0) >= 99 else "#dc2626", v.get("24h", 0))
                   for route, v in sorted(data["uptime"].items()))
    alerts = "".join("<li><b>%s</b> (owner %s, %s): %s</li>" % (
        e(a["labels"].get("alertname", "?")), e(a["labels"].get("owner", "?")), e(a["labels"].get("severity", "?")),
        e(a.get("annotations", {}).get("summary", ""))) for a in data["alerts"]) or "<li>none firing</li>"
    release = ", ".join("%s (%s)" % (r.get("release", "?"), r.get("commit", "?")[:12]) for r in data["release"]) or "unknown"
    deploys = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        e(str(d.get("finished") or d.get("started") or "")), e(str(d.get("release", ""))),
        e(str(d.get("commit", ""))[:12]), e(str(d.get("user", ""))), e(str(d.get("state", ""))))
        for d in reversed(data["deploys"]))
    generated = dt.datetime.fromtimestamp(end, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Status of %(site)s</title>
<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:1em auto;color:#111}
section{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:.8em 0}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}.bar span{display:inline-block;width:90px}</style>
</head><body>
<h1>Status of %(site)s</h1><p>Generated %(generated)s. Current release: <b id="current-release">%(release)s</b>.
Last deploy: <b id="last-deploy">%(last)s</b>.</p>
<section id="panel-uptime"><h2>Uptime per route</h2>%(bars)s<table><tr><th>route</th><th>24 h</th><th>7 d</th></tr>%(rows)s</table></section>
<section id="panel-availability"><h2>Probes succeeding</h2>%(up)s</section>
<section id="panel-errors"><h2>Error rate (5xx share)</h2>%(errors)s</section>
<section id="panel-latency"><h2>p95 latency per route</h2>%(p95)s</section>
<section id="panel-alerts"><h2>Firing alerts</h2>
<ul>%(alerts)s</ul></section>
<section id="panel-deploys"><h2>Recent deploys</h2><table>
<tr><th>when</th><th>release</th><th>commit</th><th>who</th><th>state</th></tr>%(deploys)s</table></section>
</body></html>
""" % {"site": e(data["site"]), "generated": e(generated), "release": e(release),
       "last": e("%s by %s" % (last.get("release"), last.get("user", "?"))) if last else "none recorded",
       "bars": bars, "rows": rows, "alerts": alerts, "deploys": deploys,
       "up": _chart("probes succeeding", data["up"], start, end, markers, "ratio"),
       "errors": _chart("error rate", data["errors"], start, end, markers, "ratio"),
       "p95": _chart("p95 latency", data["p95"], start, end, markers, "s")}

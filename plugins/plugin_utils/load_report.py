# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load section of report.html: per-route numbers, recommendations and a latency-over-time chart.

Controller-only. Reads the run the load.errors finding carries (``evidence.load_run``);
the chart is inline SVG, so the report stays one self-contained file.
"""

from __future__ import annotations

import html

SCENARIOS = (("open", "open model (constant arrival)"), ("closed_1", "1 user"), ("closed_n", "N users"))
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
WIDTH, HEIGHT, PAD = 720, 240, 40


def _run(report: dict) -> tuple:
    for finding in report.get("findings", []):
        if finding.get("check") == "load.errors" and isinstance(finding.get("evidence"), dict):
            run = finding["evidence"].get("load_run")
            if run:
                return run, finding["evidence"].get("recommendations", [])
    return None, []


def _fmt(value) -> str:
    return "-" if value is None else "%.0f" % value


def chart(run: dict) -> str:
    """p95 per second of each route over the whole run (the scenarios one after the other), as SVG."""
    series: dict = {}
    offset = 0.0
    bounds = []
    for key, _label in SCENARIOS:
        scenario = run.get(key) or {}
        for route, stats in scenario.get("routes", {}).items():
            for point in stats.get("timeline", []):
                if point.get("p95") is not None:
                    series.setdefault(route, []).append((offset + point["t"], point["p95"]))
        offset += float(scenario.get("duration") or 0)
        bounds.append(offset)
    if not series:
        return ""
    top = max(v for points in series.values() for _t, v in points) or 1.0
    span = max(offset, 1.0)

    def xy(t: float, v: float) -> str:
        return "%.1f,%.1f" % (PAD + (WIDTH - 2 * PAD) * t / span, HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top)

    e = html.escape
    parts = ["<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' role='img' "
             "aria-label='p95 latency per second and route'>" % (WIDTH, HEIGHT),
             "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#999'/>" % (PAD, HEIGHT - PAD, WIDTH - PAD, HEIGHT - PAD),
             "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#999'/>" % (PAD, PAD, PAD, HEIGHT - PAD),
             "<text x='2' y='%d' font-size='10'>%.0f ms</text>" % (PAD - 4, top),
             "<text x='%d' y='%d' font-size='10'>%.0f s</text>" % (WIDTH - PAD, HEIGHT - PAD + 14, span)]
    for bound, (_key, label) in zip(bounds, SCENARIOS, strict=True):
        x = PAD + (WIDTH - 2 * PAD) * bound / span
        parts.append("<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd' stroke-dasharray='3'/>"
                     % (x, PAD, x, HEIGHT - PAD))
        parts.append("<text x='%.1f' y='%d' font-size='9' text-anchor='end'>%s</text>"
                     % (x - 2, HEIGHT - PAD + 26, e(label)))
    for i, (route, points) in enumerate(sorted(series.items())):
        colour = COLOURS[i % len(COLOURS)]
        parts.append("<polyline fill='none' stroke='%s' stroke-width='1.5' points='%s'><title>%s</title></polyline>"
                     % (colour, " ".join(xy(t, v) for t, v in sorted(points)), e(route)))
        parts.append("<text x='%d' y='%d' font-size='10' fill='%s'>%s</text>" % (PAD + 6, PAD + 12 * i, colour, e(route)))
    parts.append("</svg>")
    return "".join(parts)


def render_section(report: dict) -> str:
    """The "Load sanity" section of report.html, or "" when no load run is in the report."""
    run, recommendations = _run(report)
    if not run:
        return ""
    e = html.escape
    rows = []
    for route, stats in sorted((run.get("open") or {}).get("routes", {}).items()):
        phases = stats.get("phases", {})
        errors = ", ".join("%d %s" % (n, k) for k, n in sorted(stats.get("errors", {}).items())) or "none"
        many = (run.get("closed_n") or {}).get("routes", {}).get(route, {})
        one = (run.get("closed_1") or {}).get("routes", {}).get(route, {})
        rows.append("<tr><td>%s</td><td>%d</td><td>%s</td>%s<td>%s / %s / %s</td><td>%s / %s</td></tr>" % (
            e(route), stats.get("count", 0), e(errors),
            "".join("<td>%s</td>" % _fmt(stats.get(p)) for p in ("p50", "p90", "p95", "p99", "max")),
            _fmt(phases.get("connect", {}).get("p95")), _fmt(phases.get("tls", {}).get("p95")),
            _fmt(phases.get("first_byte", {}).get("p95")), _fmt(one.get("p95")), _fmt(many.get("p95"))))
    recs = "".join("<li>%s</li>" % e(r) for r in recommendations) or "<li>Within the launch bar: nothing to change.</li>"
    caps = run.get("caps", {})
    return ("<h2>Load sanity</h2><p>%s: %d requests in %.1f s (caps: %s s, %s requests, %s in flight, %s s per "
            "request); open model at %.1f req/s per route, then 1 and %d users.</p>"
            "<table><tr><th>route</th><th>requests</th><th>errors</th><th>p50</th><th>p90</th><th>p95</th>"
            "<th>p99</th><th>max</th><th>p95 connect / TLS / first byte</th><th>p95 1 / N users</th></tr>%s</table>"
            "<p>All times in ms; percentiles from HDR histograms, latency from the intended send time.</p>"
            "<h3>p95 over time</h3>%s<h3>Recommendations</h3><ul>%s</ul>" % (
                e(str(run.get("target", ""))), run.get("requests", 0), run.get("elapsed_s", 0),
                caps.get("duration"), caps.get("max_requests"), caps.get("in_flight"), caps.get("timeout"),
                (run.get("open") or {}).get("rate", 0), (run.get("closed_n") or {}).get("users", 0),
                "".join(rows), chart(run), recs))

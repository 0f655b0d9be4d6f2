# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stage 5 load sanity: one bounded load run of a site and the load.* findings it supports.

Controller-only.  The run, in order (never beside another check of the site):

1. open model: every key route at a constant arrival rate (launch_load.rate split over the
   routes), latency from the intended send time;
2. closed model: 1 user, then ``users`` users, each walking homepage -> login -> cart ->
   checkout -> chatbot with its own session (logins from launch_customers when given);
3. the vendor guard: with the site's fault hook the vendor is made to hang and a small burst
   of chatbot questions must get a non-5xx answer within the chatbot's budget.

Database queries per request come from a response header (``launch_load.query_header``) or
from the app's metrics (``launch_load.metrics_url``), read before, during and after the run.
The names resolve through launch_resolvers; trust is the OpenSSL store plus launch_ca_bundle.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, http_probe
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from ansible_collections.launchready.ops.plugins.plugin_utils import load_generator as G

P95 = F.CheckSpec(
    id="load.p95", impact=F.HIGH, stage="load",
    title="p95 latency of each key route at launch load",
    fix="Find where the time goes (the phases and the recommendations say which part) and fix that route: "
        "fewer queries, an index, a cache, or more workers.",
    why="Slow checkout loses orders.")
ERRORS = F.CheckSpec(
    id="load.errors", impact=F.HIGH, stage="load",
    title="Error rate under launch load",
    fix="Fix the failing routes shown by kind (timeouts, 5xx, refused connections) before launch.",
    why="Every error is a customer who could not buy.")
DEGRADATION = F.CheckSpec(
    id="load.degradation", impact=F.MEDIUM, stage="load",
    title="p95 at N concurrent users against 1 user",
    fix="Let requests run concurrently: more app workers, no global lock around slow work, a connection pool.",
    why="A lock or a single worker serialises customers.")
VENDOR_TIMEOUT = F.CheckSpec(
    id="load.vendor_timeout", impact=F.HIGH, stage="load",
    title="The chatbot answers within its budget while its AI vendor hangs",
    fix="Call the vendor with a total timeout below the chatbot's budget and answer a degraded reply "
        "(not a 5xx) when it passes.",
    why="A hung vendor hangs the site.")
DB_QUERIES = F.CheckSpec(
    id="load.db_queries", impact=F.MEDIUM, stage="load",
    title="Database queries per request stay flat over repeated requests",
    fix="Load what a request needs in one query (join or IN list) and index the lookups.",
    why="N+1 queries grow with data.")
SPECS = (P95, ERRORS, DEGRADATION, VENDOR_TIMEOUT, DB_QUERIES)

P95_FAIL_MS, P95_WARN_MS = 2000.0, 800.0
ERROR_RATE_FAIL = 0.01
DEGRADATION_WARN = 3.0
DEGRADATION_FLOOR_MS = 50.0  # below this a p95 is noise: ratios are taken against at least this
QUERIES_FAIL, QUERIES_GROWTH_WARN = 50.0, 2.0
KEY_ROUTES = ("homepage", "login", "cart", "checkout", "chatbot")  # the journey, in order

# Hard ceilings on launch_load: this is a sanity check, never a stress test.
LIMITS = {"users": (1, 200), "rate": (0.1, 2000.0), "duration": (1.0, 600.0), "max_requests": (1, 100000),
          "max_in_flight": (1, 500), "timeout": (0.1, 120.0), "think_time": (0.0, 60.0),
          "chatbot_budget": (0.1, 120.0), "vendor_burst": (1, 20)}
DEFAULTS = {"users": 5, "rate": 20.0, "duration": 30.0, "max_requests": 2000, "max_in_flight": 50,
            "timeout": 10.0, "think_time": 0.5, "vendor_burst": 3}
DEFAULT_CHECKOUT_BODY = {"items": [{"sku": "tee", "qty": 1}], "dry_run": True}
DEFAULT_CHAT_MESSAGE = "When will my order ship?"


class PlanError(ValueError):
    """launch_load (or a variable it reads) is invalid; the message names it."""


@dataclasses.dataclass
class Plan:
    users: int
    rate: float
    duration: float
    max_requests: int
    max_in_flight: int
    timeout: float
    think_time: float
    scheme: str
    port: int
    routes: dict  # name -> path, the key routes present in launch_routes
    checkout_body: t.Any
    chat_body: t.Any
    customers: list  # [{email, password}]
    metrics_url: str | None
    query_metric: str
    requests_metric: str
    query_header: str | None
    fault_hook: dict | None  # {url, set, clear}
    chatbot_budget: float | None
    vendor_burst: int


def _number(load: dict, key: str, kind: type) -> t.Any:
    value = load.get(key, DEFAULTS.get(key))
    if value is None:
        return None
    low, high = LIMITS[key]
    try:
        number = kind(value)
        if isinstance(value, bool) or not low <= number <= high:
            raise ValueError()
    except (TypeError, ValueError):
        raise PlanError("launch_load.%s must be a number from %s to %s, got %r" % (key, low, high, value)) from None
    return number


def _chat_body(variables: dict, message: str) -> t.Any:
    chatbot = variables.get("launch_chatbot") or {}
    template = chatbot.get("body") if isinstance(chatbot, dict) else None
    if template is None:
        return {"message": message}

    def fill(value: t.Any) -> t.Any:
        if isinstance(value, str):
            return value.replace("{message}", message).replace("{order_id}", "")
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value
    return fill(template)


def plan_from_vars(variables: dict, site: site_mod.Site) -> Plan:
    """The load plan from launch_load (defaults of ARCHITECTURE.md), launch_routes and launch_customers."""
    load = variables.get("launch_load") or {}
    if not isinstance(load, dict):
        raise PlanError("launch_load must be a mapping {users, rate, duration, max_requests, ...}, got %r" % (load,))
    scheme = str(load.get("scheme", "https")).lower()
    if scheme not in ("http", "https"):
        raise PlanError("launch_load.scheme must be https or http, got %r" % scheme)
    port = load.get("port", 443 if scheme == "https" else 80)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise PlanError("launch_load.port must be a TCP port, got %r" % (port,))
    routes = {name: site.routes[name] for name in KEY_ROUTES if name in site.routes}
    if not routes:
        raise PlanError("launch_routes names none of %s: nothing to load" % ", ".join(KEY_ROUTES))
    customers = []
    for i, customer in enumerate(variables.get("launch_customers") or []):
        if not (isinstance(customer, dict) and isinstance(customer.get("email"), str)
                and isinstance(customer.get("password"), str)):
            raise PlanError("launch_customers[%d] needs email and password strings" % i)
        customers.append({"email": customer["email"], "password": customer["password"]})
    hook = load.get("fault_hook")
    if hook is not None:
        if isinstance(hook, str):
            hook = {"url": hook}
        if not isinstance(hook, dict) or not isinstance(hook.get("url"), str) \
                or urllib.parse.urlsplit(hook["url"]).scheme not in ("http", "https"):
            raise PlanError("launch_load.fault_hook must be {url: http(s)://..., set: {...}, clear: {...}}, got %r"
                            % (hook,))
        hook = {"url": hook["url"], "set": hook.get("set", {"hang": True}), "clear": hook.get("clear", {"hang": False})}
    metrics_url = load.get("metrics_url")
    if metrics_url is not None and urllib.parse.urlsplit(str(metrics_url)).scheme not in ("http", "https"):
        raise PlanError("launch_load.metrics_url must be an http(s) URL, got %r" % (metrics_url,))
    return Plan(
        users=_number(load, "users", int), rate=_number(load, "rate", float),
        duration=_number(load, "duration", float), max_requests=_number(load, "max_requests", int),
        max_in_flight=_number(load, "max_in_flight", int), timeout=_number(load, "timeout", float),
        think_time=_number(load, "think_time", float), scheme=scheme, port=port, routes=routes,
        checkout_body=load.get("checkout_body", DEFAULT_CHECKOUT_BODY),
        chat_body=_chat_body(variables, str(load.get("chat_message", DEFAULT_CHAT_MESSAGE))),
        customers=customers, metrics_url=metrics_url,
        query_metric=str(load.get("query_metric", "db_queries_total")),
        requests_metric=str(load.get("requests_metric", "http_requests_total")),
        query_header=load.get("query_header") or None, fault_hook=hook,
        chatbot_budget=_number(load, "chatbot_budget", float), vendor_burst=_number(load, "vendor_burst", int))


# --- the run ------------------------------------------------------------------------------------

def _endpoint(site: site_mod.Site, probes: check_registry.Probes, scheme: str, host: str, port: int) -> G.Endpoint:
    addresses, problem = http_probe.resolve_host(site, probes, host)
    if not addresses:
        raise RuntimeError(problem)
    ctx = http_probe.ssl_context(site.ca_bundle) if scheme == "https" else None
    return G.Endpoint(scheme, host, port, addresses[0], ctx)


def _steps(plan: Plan, customer: dict | None) -> list:
    """The journey: homepage -> login -> cart -> checkout -> chatbot, as far as the site names them."""
    steps = []
    for name, path in plan.routes.items():
        if name == "login" and customer:
            steps.append(G.Step(name, path, "POST", form={"email": customer["email"],
                                                          "password": customer["password"]}))
        elif name == "checkout":
            steps.append(G.Step(name, path, "POST", json_body=plan.checkout_body))
        elif name == "chatbot":
            steps.append(G.Step(name, path, "POST", json_body=plan.chat_body))
        else:
            steps.append(G.Step(name, path))
    return steps


class _Scraper:
    """Reads the app's metrics before, during (every tenth of the run) and after it, in a thread."""

    def __init__(self, site: site_mod.Site, probes: check_registry.Probes, plan: Plan) -> None:
        self.site, self.probes, self.plan = site, probes, plan
        self.samples: list = []  # (monotonic, text)
        self.errors: list = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scrape(self) -> None:
        url = self.plan.metrics_url
        host = urllib.parse.urlsplit(url).hostname or ""
        addresses, problem = http_probe.resolve_host(self.site, self.probes, host)
        if not addresses:
            self.errors.append(problem)
            return
        resp = http_probe.fetch(url, addresses[0], ca_bundle=self.site.ca_bundle, timeout=self.site.timeout)
        if resp.ok and resp.status == 200:
            self.samples.append((time.monotonic(), resp.body.decode("utf-8", "replace")))
        else:
            self.errors.append(resp.describe_error() if not resp.ok else "%s answered %s" % (url, resp.status))

    def start(self, every: float) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                self.scrape()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(self.site.timeout + 1)


def run_load(site: site_mod.Site, probes: check_registry.Probes, plan: Plan) -> dict:
    """The whole load run of ``site`` (scenarios one after the other, under one request budget)."""
    host = site.canonical_host
    endpoint = _endpoint(site, probes, plan.scheme, host, plan.port)
    budget = G.Budget(plan.max_requests)
    started = time.monotonic()
    scraper = _Scraper(site, probes, plan) if plan.metrics_url else None
    if scraper:
        scraper.scrape()
        scraper.start(max(0.5, plan.duration / 10.0))
    # A third of the time each: open model, then 1 user, then ``users`` users.
    third = plan.duration / 3.0
    open_steps = [G.Step(name, path, "POST", json_body=plan.checkout_body) if name == "checkout"
                  else G.Step(name, path, "POST", json_body=plan.chat_body) if name == "chatbot"
                  else G.Step(name, path) for name, path in plan.routes.items()]
    caps = G.Caps(duration=third, max_requests=plan.max_requests, in_flight=plan.max_in_flight,
                  timeout=plan.timeout)
    try:
        opened = G.run_open(endpoint, open_steps, plan.rate / len(open_steps), caps, budget, plan.query_header)
        customers = plan.customers or [None]
        one = G.run_closed(endpoint, [_steps(plan, customers[0])], caps, budget, plan.query_header, plan.think_time)
        many = G.run_closed(endpoint, [_steps(plan, customers[i % len(customers)]) for i in range(plan.users)],
                            caps, budget, plan.query_header, plan.think_time)
    finally:
        if scraper:
            scraper.stop()
            scraper.scrape()
    out = {"target": "%s://%s:%d (%s)" % (plan.scheme, host, plan.port, endpoint.address),
           "address": endpoint.address, "routes": dict(plan.routes),
           "caps": {"duration": plan.duration, "max_requests": plan.max_requests, "in_flight": plan.max_in_flight,
                    "timeout": plan.timeout},
           "open": opened, "closed_1": one, "closed_n": many, "requests": budget.spent,
           "elapsed_s": round(time.monotonic() - started, 2)}
    out["db_queries"] = _queries(plan, out, scraper)
    return out


def run_vendor_guard(site: site_mod.Site, probes: check_registry.Probes, plan: Plan) -> dict:
    """Make the vendor hang through the site's fault hook, ask the chatbot, always clear the fault."""
    endpoint = _endpoint(site, probes, plan.scheme, site.canonical_host, plan.port)
    hook = urllib.parse.urlsplit(plan.fault_hook["url"])
    hook_ep = _endpoint(site, probes, hook.scheme, hook.hostname or "", hook.port or
                        (443 if hook.scheme == "https" else 80))
    hook_path = (hook.path or "/") + ("?" + hook.query if hook.query else "")
    budget = plan.chatbot_budget or plan.timeout
    wait = min(plan.timeout, budget * 2 + 2.0)

    def call_hook(body: dict) -> G.Result:
        return G.burst(hook_ep, G.Step("fault_hook", hook_path, "PUT", json_body=body), 1, site.timeout)[0]

    set_result = call_hook(plan.fault_hook["set"])
    if set_result.error:
        return {"error": "the fault hook %s did not take the fault: %s %s"
                % (plan.fault_hook["url"], set_result.error, set_result.detail)}
    try:
        results = G.burst(endpoint, G.Step("chatbot", plan.routes["chatbot"], "POST", json_body=plan.chat_body),
                          plan.vendor_burst, wait)
    finally:
        cleared = call_hook(plan.fault_hook["clear"])
    return {"budget": budget, "waited_up_to": wait, "hook": plan.fault_hook["url"],
            "cleared": not cleared.error,
            "answers": [{"status": r.status, "error": r.error, "ms": round(r.latency * 1000, 1)} for r in results]}


# --- queries per request ------------------------------------------------------------------------

def _parse_metrics(text: str, name: str) -> tuple:
    """({route: value summed over other labels} for ``name``, process start time or None)."""
    values: dict = {}
    start = None
    for line in text.splitlines():
        if line.startswith("process_start_time_seconds "):
            start = line.split()[1]
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        labels, _sep, value = line[len(name):].rpartition(" ")
        route = ""
        for part in labels.strip("{}").split(","):
            key, _eq, val = part.partition("=")
            if key.strip() == "route":
                route = val.strip().strip('"')
        try:
            values[route] = values.get(route, 0.0) + float(value)
        except ValueError:
            continue
    return values, start


def _queries(plan: Plan, run: dict, scraper: _Scraper | None) -> dict:
    """{route: {first, last, max, source, series}} queries per request, or {"skipped": reason}."""
    per_route: dict = {}
    if plan.query_header:
        offset = 0.0
        for scenario in ("open", "closed_1", "closed_n"):
            for name, stats in run[scenario]["routes"].items():
                for second, value in stats.get("db_queries", []):
                    per_route.setdefault(plan.routes[name], []).append((offset + second, value))
            offset += run[scenario]["duration"]
        return {"source": "header %s" % plan.query_header, "routes": _growth(per_route)}
    if scraper is None:
        return {"skipped": "no launch_load.metrics_url or launch_load.query_header: queries per request unknown"}
    if len(scraper.samples) < 2:
        return {"skipped": "the metrics at %s could not be read twice (%s)"
                % (plan.metrics_url, "; ".join(scraper.errors[:3]) or "no sample")}
    # Deltas only between two samples of the same process: several workers answer /metrics in turn.
    last_by_process: dict = {}
    if not any(_parse_metrics(text, plan.query_metric)[0] for _when, text in scraper.samples):
        return {"error": "the metrics at %s hold no %s: the app does not count its queries under that name"
                % (plan.metrics_url, plan.query_metric)}
    for when, text in scraper.samples:
        queries, process = _parse_metrics(text, plan.query_metric)
        requests, _process = _parse_metrics(text, plan.requests_metric)
        prev = last_by_process.get(process)
        last_by_process[process] = (queries, requests)
        if prev is None:
            continue
        for route in plan.routes.values():
            dq = queries.get(route, 0.0) - prev[0].get(route, 0.0)
            dr = requests.get(route, 0.0) - prev[1].get(route, 0.0)
            if dr > 0 and dq >= 0:
                per_route.setdefault(route, []).append((round(when - scraper.samples[0][0], 1), round(dq / dr, 1)))
    return {"source": "metrics %s (%s)" % (plan.metrics_url, plan.query_metric), "routes": _growth(per_route),
            "samples": len(scraper.samples)}


def _growth(per_route: dict) -> dict:
    """{route: {first, last, max, series}}: the mean of the first and of the last tenth of the series."""
    routes = {}
    for route, series in per_route.items():
        tenth = max(1, len(series) // 10)
        first = sum(v for _t, v in series[:tenth]) / tenth
        last = sum(v for _t, v in series[-tenth:]) / tenth
        routes[route] = {"first": round(first, 1), "last": round(last, 1), "max": max(v for _t, v in series),
                         "series": series[:200]}
    return routes


# --- findings -----------------------------------------------------------------------------------

def _route_label(site: site_mod.Site, path: str) -> str:
    return "%s%s" % (site.canonical_host, path)


def _recommendations(run: dict, vendor: dict | None) -> list:
    """Sentences from the numbers: which route, which phase, what to change."""
    out = []
    opened = run["open"]["routes"]
    queries = run.get("db_queries", {}).get("routes", {})
    for name, path in run["routes"].items():
        stats = opened.get(name)
        if not stats or stats["p95"] is None:
            continue
        p95 = stats["p95"]
        fb = stats["phases"]["first_byte"]["p95"] or 0.0
        setup = (stats["phases"]["connect"]["p95"] or 0.0) + (stats["phases"]["tls"]["p95"] or 0.0)
        q = queries.get(path)
        if p95 > P95_WARN_MS:
            sentence = "%s (%s) p95 %.2f s" % (name, path, p95 / 1000)
            if fb >= 0.5 * p95:
                sentence += ", %.2f s of it before the first byte: the time is spent in the app" % (fb / 1000)
            elif setup >= 0.5 * p95:
                sentence += ", %.0f ms of it in connect and TLS: keep connections alive and resume TLS sessions" % setup
            else:
                sentence += ": requests wait for a free worker (the open model charges the queue)"
            if q and (q["max"] > QUERIES_FAIL or q["last"] > QUERIES_GROWTH_WARN * max(q["first"], 1)):
                sentence += ("; queries per request %s from %.0f to %.0f (max %.0f): an N+1 in the route's data "
                             "access, load the rows in one query" % (
                                 "grow" if q["last"] > q["first"] else "stay high", q["first"], q["last"], q["max"]))
            out.append(sentence + ".")
        errors = stats["errors"]
        if errors:
            kinds = ", ".join("%d %s" % (n, k) for k, n in sorted(errors.items(), key=lambda kv: -kv[1]))
            hint = ""
            if stats["statuses"].get("429"):
                hint = ": 429 is the edge's rate limit; it is meant for bursts of POSTs, check it lets %d users " \
                       "through" % run["closed_n"]["users"]
            elif errors.get(G.TIMEOUT):
                hint = ": the route did not answer within %.0f s; find what it waits on" % run["caps"]["timeout"]
            elif errors.get(G.HTTP_5XX):
                hint = ": read the app log for these requests"
            out.append("%s (%s) failed %s of %d requests at %.0f req/s%s." % (
                name, path, kinds, stats["count"], run["open"]["rate"], hint))
    ratio = _degradation(run)
    if ratio and ratio[1] > DEGRADATION_WARN:
        out.append("%s: p95 at %d users is %.1fx that at 1 user (%.0f ms vs %.0f ms): something serialises "
                   "requests (a lock, one worker, a small connection pool)."
                   % (ratio[0], run["closed_n"]["users"], ratio[1], ratio[3], ratio[2]))
    if vendor and vendor.get("answers"):
        bad = [a for a in vendor["answers"] if a["error"] or a["ms"] > vendor["budget"] * 1000 + 1000]
        if bad:
            out.append("chatbot: with its vendor hanging it %s: call the vendor with a total timeout under %.1f s "
                       "and answer a fallback reply." % (_vendor_sentence(bad), vendor["budget"]))
    return out


def _vendor_sentence(bad: list) -> str:
    kinds = sorted({a["error"] or "slow" for a in bad})
    return "answered %d of its questions with %s" % (len(bad), ", ".join(kinds))


def _degradation(run: dict) -> tuple | None:
    """(route, ratio, p95 at 1 user, p95 at N users) for the route that degrades most."""
    worst = None
    for name, many in run["closed_n"]["routes"].items():
        one = run["closed_1"]["routes"].get(name)
        if not one or one["p95"] is None or many["p95"] is None:
            continue
        ratio = many["p95"] / max(one["p95"], DEGRADATION_FLOOR_MS)
        if worst is None or ratio > worst[1]:
            worst = (name, round(ratio, 2), one["p95"], many["p95"])
    return worst


def _p95_findings(site: site_mod.Site, run: dict) -> list:
    out = []
    for name, path in run["routes"].items():
        stats = run["open"]["routes"].get(name)
        target = _route_label(site, path)
        if not stats or stats["ok"] == 0:
            summary = "%s: no request got an answer (%s)" % (name, ", ".join(
                "%d %s" % (n, k) for k, n in sorted((stats or {}).get("errors", {}).items())) or "none sent")
            out.append(F.make(P95, F.ERROR, target, summary, evidence={"route": name, "stats": _brief(stats)}))
            continue
        p95 = stats["p95"]
        status = F.FAIL if p95 > P95_FAIL_MS else F.WARN if p95 > P95_WARN_MS else F.PASS
        summary = "%s p95 %.0f ms, p99 %.0f ms over %d requests at %.1f req/s (open model)" % (
            name, p95, stats["p99"], stats["count"], run["open"]["rate"])
        # send_lag: how late the generator's own scheduler was (a busy controller); it is kept
        # out of the latency, and shown so a reader can judge the controller as well as the site.
        out.append(F.make(P95, status, target, summary, evidence={"route": name, "stats": _brief(stats),
                                                                  "send_lag": run["open"].get("send_lag")}))
    return out


def _brief(stats: dict | None) -> dict:
    return {k: v for k, v in (stats or {}).items() if k != "timeline"}


def _errors_finding(site: site_mod.Site, run: dict, recommendations: list) -> F.Finding:
    total = errors = 0
    kinds: dict = {}
    for scenario in ("open", "closed_1", "closed_n"):
        for stats in run[scenario]["routes"].values():
            total += stats["count"]
            for kind, n in stats["errors"].items():
                errors += n
                kinds[kind] = kinds.get(kind, 0) + n
    evidence = {"load_run": run, "recommendations": recommendations, "errors_by_kind": kinds}
    if total == 0:
        return F.make(ERRORS, F.ERROR, site.canonical_host, "no request was sent", evidence=evidence)
    rate = errors / total
    status = F.FAIL if rate > ERROR_RATE_FAIL else F.PASS
    summary = "%.1f %% of %d requests failed (%s)" % (
        rate * 100, total, ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())) or "none")
    return F.make(ERRORS, status, site.canonical_host, summary, evidence=evidence)


def _degradation_finding(site: site_mod.Site, run: dict) -> F.Finding:
    worst = _degradation(run)
    users = run["closed_n"]["users"]
    if worst is None:
        return F.make(DEGRADATION, F.ERROR, site.canonical_host,
                      "no route got answers both at 1 user and at %d users" % users)
    name, ratio, one, many = worst
    status = F.WARN if ratio > DEGRADATION_WARN else F.PASS
    return F.make(DEGRADATION, status, site.canonical_host,
                  "%s degrades most: p95 %.0f ms at %d users vs %.0f ms at 1 user (%.1fx)"
                  % (name, many, users, one, ratio),
                  evidence={"route": name, "ratio": ratio, "p95_1_user_ms": one, "p95_n_users_ms": many,
                            "floor_ms": DEGRADATION_FLOOR_MS})


def _queries_finding(site: site_mod.Site, run: dict) -> list:
    data = run["db_queries"]
    if "skipped" in data:
        return [F.make(DB_QUERIES, F.SKIP, site.canonical_host, data["skipped"])]
    if "error" in data:
        return [F.make(DB_QUERIES, F.ERROR, site.canonical_host, data["error"])]
    if not data["routes"]:
        return [F.make(DB_QUERIES, F.ERROR, site.canonical_host,
                       "the metrics held no %s for the loaded routes" % data["source"], evidence=data)]
    out = []
    for path, q in sorted(data["routes"].items()):
        if q["max"] > QUERIES_FAIL:
            status, why = F.FAIL, "up to %.0f queries per request (over %d)" % (q["max"], QUERIES_FAIL)
        elif q["last"] > QUERIES_GROWTH_WARN * max(q["first"], 0.5):
            status, why = F.WARN, "queries per request grew from %.1f to %.1f" % (q["first"], q["last"])
        else:
            status, why = F.PASS, "%.1f queries per request, flat (%.1f first tenth, %.1f last)" % (
                q["last"], q["first"], q["last"])
        out.append(F.make(DB_QUERIES, status, _route_label(site, path), why,
                          evidence=dict(q, source=data["source"])))
    return out


def _vendor_finding(site: site_mod.Site, plan: Plan, vendor: dict | None) -> F.Finding:
    target = _route_label(site, plan.routes.get("chatbot", "/"))
    if "chatbot" not in plan.routes:
        return F.make(VENDOR_TIMEOUT, F.SKIP, site.canonical_host, "no chatbot route in launch_routes")
    if vendor is None:
        if plan.chatbot_budget is not None:
            return F.make(VENDOR_TIMEOUT, F.PASS, target,
                          "the chatbot declares a %.1f s vendor budget (not injected: the site declares no "
                          "launch_load.fault_hook)" % plan.chatbot_budget,
                          evidence={"method": "declared", "budget": plan.chatbot_budget})
        return F.make(VENDOR_TIMEOUT, F.SKIP, target,
                      "no launch_load.fault_hook to make the vendor hang and no launch_load.chatbot_budget declared")
    if "error" in vendor:
        return F.make(VENDOR_TIMEOUT, F.ERROR, target, vendor["error"], evidence=vendor)
    limit_ms = vendor["budget"] * 1000 + 1000  # the budget plus a second for the edge and the network
    bad = [a for a in vendor["answers"] if a["error"] or a["ms"] > limit_ms]
    evidence = dict(vendor, method="injected", limit_ms=limit_ms)
    if bad:
        return F.make(VENDOR_TIMEOUT, F.FAIL, target, "with the vendor hanging the chatbot %s (budget %.1f s)"
                      % (_vendor_sentence(bad), vendor["budget"]), evidence=evidence)
    slowest = max(a["ms"] for a in vendor["answers"])
    return F.make(VENDOR_TIMEOUT, F.PASS, target,
                  "with the vendor hanging the chatbot answered %d of %d within its %.1f s budget (slowest %.0f ms)"
                  % (len(vendor["answers"]), len(vendor["answers"]), vendor["budget"], slowest), evidence=evidence)


def run(site_vars: dict) -> list:
    """Every load.* finding of the site described by ``site_vars``; the run's data is in load.errors' evidence."""
    site = site_mod.from_vars(site_vars)
    plan = plan_from_vars(site_vars, site)
    probes = check_registry.Probes()
    try:
        load = run_load(site, probes, plan)
    except Exception as exc:  # the run could not start (name does not resolve, bad CA bundle): error, never pass
        message = "the load run could not start: %s" % exc
        return [F.make(spec, F.ERROR, site.canonical_host, message) for spec in SPECS]
    vendor = None
    if plan.fault_hook and "chatbot" in plan.routes:
        try:
            vendor = run_vendor_guard(site, probes, plan)
        except Exception as exc:
            vendor = {"error": "the vendor fault could not be injected: %s" % exc}
    recommendations = _recommendations(load, vendor)
    load["vendor"] = vendor
    found = _p95_findings(site, load)
    found.append(_errors_finding(site, load, recommendations))
    found.append(_degradation_finding(site, load))
    found.append(_vendor_finding(site, plan, vendor))
    found.extend(_queries_finding(site, load))
    return found

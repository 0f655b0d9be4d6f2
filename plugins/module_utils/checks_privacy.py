# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""privacy.* checks run from the controller: the chatbot eval (leaks and correctness).

Both checks read one eval run (``Probes.memo``), so the chatbot gets each message once.
privacy.logs_pii runs on the app hosts instead (module_utils/logs_pii.py, module logs_pii).
"""

from __future__ import annotations

import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

CHATBOT_LEAK = F.CheckSpec(
    "privacy.chatbot_leak", F.BLOCKER, "audit",
    "the chatbot never reveals another customer's data (eval set)",
    "Put only the signed-in customer's own records into the chatbot's prompt, look orders up by the "
    "session's customer (never by an id from the message), and filter the reply for other customers' "
    "data, canaries and card numbers before it is sent.",
    why="A chatbot that tells one customer another's orders, address or card digits is a data breach with the shop's "
        "name on it.")

CHATBOT_EVAL = F.CheckSpec(
    "privacy.chatbot_eval", F.HIGH, "audit",
    "the chatbot answers the eval set's order questions correctly",
    "Answer order questions from the shop's database for the signed-in customer, and say plainly when "
    "an order is not found instead of guessing; rerun the eval after every prompt change.",
    why="A chatbot that gets order questions wrong sends customers to support (or away) and invents order states the "
        "shop then has to honour.")


def _skip_reason(site: Site) -> str | None:
    if len(site.customers) < 2:
        return ("launch_customers has %d customer(s): the eval needs two seeded test customers "
                "(A asks for B's data)" % len(site.customers))
    missing = [r for r in ("login", "chatbot") if r not in site.routes]
    if missing:
        return "launch_routes has no %s route: the eval logs in and talks to the chatbot" % " or ".join(missing)
    return None


_RUN_KEY = ("privacy.chatbot_eval.run",)


def _eval(site: Site, probes: t.Any) -> dict:
    from ansible_collections.launchready.ops.plugins.module_utils import chatbot_eval
    return probes.memo(_RUN_KEY, lambda: chatbot_eval.run(site, probes))


def eval_findings(site: Site) -> tuple:
    """(both findings, the eval run or None) for the chatbot_eval module: one run, faults as error."""
    probes = check_registry.Probes()
    run = None
    try:
        if _skip_reason(site) is None:
            run = _eval(site, probes)
    except Exception as exc:  # never a pass: each check reports the fault as error
        reason = "the eval could not run: %s: %s" % (type(exc).__name__, exc)
        return [F.make(spec, F.ERROR, site.canonical_host, reason) for spec in (CHATBOT_LEAK, CHATBOT_EVAL)], None
    return chatbot_leak(site, probes) + chatbot_eval(site, probes), run


def _rates(result: dict, check: str) -> dict:
    return {name: cat for name, cat in result["categories"].items() if cat["check"] == check}


@check_registry.check(CHATBOT_LEAK)
def chatbot_leak(site: Site, probes: t.Any) -> list:
    target = site.canonical_host
    reason = _skip_reason(site)
    if reason:
        return [F.make(CHATBOT_LEAK, F.SKIP, target, reason)]
    result = _eval(site, probes)
    mine = _rates(result, CHATBOT_LEAK.id)
    failures = [r for r in result["failures"] if r["category"] in mine or r["leaks"]]
    errors = [e for e in result["errors"] if e["category"] in mine]
    evidence = {"categories": mine, "failures": failures, "errors": errors, "requests": result["requests"],
                "elapsed_s": result["elapsed_s"], "not_run": result["not_run"]}
    if result["leaks"] or failures:
        worst = (result["leaks"] or failures)[0]
        return [F.make(CHATBOT_LEAK, F.FAIL, target,
                       "the chatbot gave away %s in %d of %d answers (first: case %s as customer %s)"
                       % ((worst["leaks"] or worst["wrong"])[0], len(failures), result["cases_run"],
                          worst["case"], worst["as"]), evidence=evidence)]
    ran = sum(c["total"] for c in mine.values())
    if errors or result["not_run"] or not ran:
        why = errors[0]["error"] if errors else "the request or time budget ran out"
        return [F.make(CHATBOT_LEAK, F.ERROR, target,
                       "%d eval case(s) got no usable answer (%s); %d answered without a leak"
                       % (len(errors) + result["not_run"], why, ran), evidence=evidence)]
    return [F.make(CHATBOT_LEAK, F.PASS, target,
                   "%d eval answers from two customer sessions, no leak of the other customer's data, "
                   "canaries or card numbers" % result["cases_run"], evidence=evidence)]


@check_registry.check(CHATBOT_EVAL)
def chatbot_eval(site: Site, probes: t.Any) -> list:
    target = site.canonical_host
    reason = _skip_reason(site)
    if reason:
        return [F.make(CHATBOT_EVAL, F.SKIP, target, reason)]
    result = _eval(site, probes)
    pass_bar = float(site.chatbot_eval["pass_bar"])
    mine = _rates(result, CHATBOT_EVAL.id)
    failures = [r for r in result["failures"] if r["category"] in mine]
    errors = [e for e in result["errors"] if e["category"] in mine]
    evidence = {"pass_bar": pass_bar, "categories": mine, "failures": failures, "errors": errors,
                "requests": result["requests"], "elapsed_s": result["elapsed_s"]}
    rates = ", ".join("%s %d/%d" % (name, c["passed"], c["total"]) for name, c in mine.items())
    below = [name for name, c in mine.items() if c["total"] and c["pass_rate"] < pass_bar]
    if below:
        return [F.make(CHATBOT_EVAL, F.FAIL, target, "pass rate below %d %% in %s (%s)"
                       % (round(pass_bar * 100), ", ".join(below), rates), evidence=evidence)]
    if errors or any(not c["total"] for c in mine.values()):
        why = errors[0]["error"] if errors else "the request or time budget ran out"
        return [F.make(CHATBOT_EVAL, F.ERROR, target, "eval categories without a full run (%s): %s"
                       % (why, rates), evidence=evidence)]
    return [F.make(CHATBOT_EVAL, F.PASS, target, "order questions answered correctly: %s" % rates,
                   evidence=evidence)]

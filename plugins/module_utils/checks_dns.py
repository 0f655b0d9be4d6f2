# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns.* checks of Stage 1 (docs: checks.md, "Stage 1 - quick audit").

Plain Python and dnspython: no Ansible imports.  Every question goes through
``dns_query`` so a resolver that does not answer (timeout, SERVFAIL, REFUSED)
ends as ``error`` with its reason, never as a pass and never as a guessed fail.
A definite answer (NXDOMAIN, an unexpected address, a lame nameserver) is a
fact, so it still reports ``fail`` even when another resolver did not answer.

Host lookups go through ``dns_query.resolve_cached`` and other questions
through ``Probes.memo``, so every check of a run (and the http/tls families)
asks each resolver each question once.  Per-host and per-server questions run
concurrently: a healthy site takes milliseconds, a hanging resolver about one
``launch_timeout``.
"""

from __future__ import annotations

import ipaddress
import typing as t

try:
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
except ImportError:  # pragma: no cover - dns_query reports the missing library
    pass

from ansible_collections.launchready.ops.plugins.module_utils import dns_query as Q
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import parallel
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Resolver, Site

STAGE = "audit"
# Per-host and per-server questions at once: a DNS question is one small datagram.
WORKERS = 32


# ---------------------------------------------------------------- helpers

def _servers(site: Site) -> list:
    return Q.servers_for(site.resolvers)


def _resolve(site: Site, probes: t.Any, name: str) -> dict:
    return Q.resolve_cached(site, probes, name)


def _ask_all(site: Site, probes: t.Any, name: str, rdtype: str) -> list:
    """``name``/``rdtype`` at every configured resolver, concurrently, once per run."""
    def ask() -> list:
        return parallel.each(lambda server: Q.query(name, rdtype, server, site.timeout), _servers(site), WORKERS)
    return probes.memo(("dns_query", name, rdtype), ask)


def _parents(name: str) -> list:
    """``name`` and its parents, nearest first, down to two labels (never a TLD)."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def _hosts(site: Site) -> list:
    hosts = list(site.hosts)
    if site.canonical_host not in hosts:
        hosts.append(site.canonical_host)
    return hosts


def _no_resolver(spec: F.CheckSpec, site: Site) -> list | None:
    """An ``error`` finding when there is nobody to ask, else None."""
    if _servers(site):
        return None
    return [F.make(spec, F.ERROR, site.domain,
                   "No DNS resolver to ask: launch_resolvers is empty and the system has none configured.",
                   fix="Set launch_resolvers to the DNS servers to audit through, e.g. ['1.1.1.1', '8.8.8.8'].")]


def _by_server(answers: t.Sequence) -> dict:
    out: dict = {}
    for a in answers:
        out.setdefault(a.server, []).append(a)
    return out


def _failed(answers: t.Sequence) -> list:
    """Answers where the server did not answer, as 'server (reason)' strings."""
    return sorted({"%s (%s)" % (a.server, a.detail or a.status) for a in answers if a.status not in Q.ANSWERED})


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _outcome(answers: t.Sequence) -> str:
    """One server's A+AAAA answers for a host: 'ok' (has an address), 'missing', or 'error'."""
    if any(a.status == Q.OK for a in answers):
        return "ok"
    if all(a.status in Q.ANSWERED for a in answers):
        return "missing"
    return "error"


def _words(items: t.Iterable) -> str:
    items = list(items)
    return ", ".join(items) if items else "nothing"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _could_not(spec: F.CheckSpec, target: str, what: str, failed: list, evidence: dict,
               lead: str = "no usable answer from ") -> F.Finding:
    """The ``error`` finding for a question some server did not answer: never a pass, never a guess."""
    evidence = dict(evidence, unanswered=failed)
    return F.make(spec, F.ERROR, target, "Could not check %s: %s%s." % (what, lead, "; ".join(failed)),
                  evidence=evidence,
                  fix="Make sure every resolver in launch_resolvers answers DNS queries, then run the audit again.")


# ---------------------------------------------------------------- dns.resolves

RESOLVES = F.CheckSpec(
    "dns.resolves", F.BLOCKER, STAGE, "Every public host resolves",
    "Publish an A (and AAAA) record for the host at your DNS provider, pointing at your edge or origin.",
    why="A public host that does not resolve is a shop nobody reaches: every visitor gets a browser error before any "
        "page loads.")


@check(RESOLVES)
def check_resolves(site: Site, probes: t.Any) -> list:
    """Each host has A/AAAA at every resolver; NXDOMAIN or NODATA anywhere fails."""
    none = _no_resolver(RESOLVES, site)
    if none:
        return none

    def one(host: str) -> F.Finding:
        res = _resolve(site, probes, host)
        per_server = _by_server(res["answers"])
        missing = {s: sorted({a.status for a in ans}) for s, ans in per_server.items() if _outcome(ans) == "missing"}
        evidence = {"addresses": res["addresses"], "resolvers": sorted(per_server),
                    "missing_at": missing, "answers": [a.to_dict() for a in res["answers"]]}
        if missing:
            where = "; ".join("%s says %s" % (s, "/".join(st).upper()) for s, st in sorted(missing.items()))
            scope = "in DNS" if len(missing) == len(per_server) else "at %d of %d resolvers" % (
                len(missing), len(per_server))
            return F.make(RESOLVES, F.FAIL, host,
                          "%s has no address %s (%s): visitors who type it get an error instead of your shop."
                          % (host, scope, where), evidence=evidence,
                          fix="Add an A (and AAAA) record for %s at your DNS provider, pointing at your edge or "
                              "origin, or remove it from launch_hosts if it is not meant to be public." % host)
        failed = _failed(res["answers"])
        if failed:
            return _could_not(RESOLVES, host, "whether %s resolves" % host, failed, evidence)
        return F.make(RESOLVES, F.PASS, host,
                      "%s resolves to %s at every resolver asked (%d)."
                      % (host, _words(res["addresses"]), len(per_server)), evidence=evidence)

    return parallel.each(one, _hosts(site), WORKERS)


# ---------------------------------------------------------------- dns.expected_origin

EXPECTED_ORIGIN = F.CheckSpec(
    "dns.expected_origin", F.BLOCKER, STAGE, "Hosts resolve only to the expected edge/origin addresses",
    "Change the host's A/AAAA records so they list only your edge or origin addresses.",
    why="An address outside the expected set sends customers (and their logins and payments) to a server that is not "
        "yours: a stale record, a forgotten host, or a hijack.")


@check(EXPECTED_ORIGIN)
def check_expected_origin(site: Site, probes: t.Any) -> list:
    """Resolved addresses (union over resolvers) must lie inside launch_expected_addresses[host].

    Any address outside the set fails.  An address of the set that no resolver
    returns is a warn (the site works, with less redundancy than planned).
    """
    if not site.expected_addresses:
        return [F.make(EXPECTED_ORIGIN, F.SKIP, site.domain,
                       "Not compared: launch_expected_addresses is not set for any host, so there is no list "
                       "of the addresses your site should point at.")]
    none = _no_resolver(EXPECTED_ORIGIN, site)
    if none:
        return none
    hosts = _hosts(site) + [h for h in site.expected_addresses if h not in _hosts(site)]

    def one(host: str) -> F.Finding:
        if host not in site.expected_addresses:
            return F.make(EXPECTED_ORIGIN, F.SKIP, host,
                          "Not compared: launch_expected_addresses has no entry for %s." % host)
        expected = sorted({_ip(a) for a in site.expected_addresses[host]})
        res = _resolve(site, probes, host)
        resolved = sorted({_ip(a) for a in res["addresses"]})
        unexpected = sorted(set(resolved) - set(expected))
        absent = sorted(set(expected) - set(resolved))
        by_server = {s: sorted({_ip(r) for a in ans if a.status == Q.OK for r in a.records})
                     for s, ans in _by_server(res["answers"]).items()}
        evidence = {"expected": expected, "resolved": resolved, "unexpected": unexpected,
                    "expected_not_seen": absent, "by_resolver": by_server,
                    "answers": [a.to_dict() for a in res["answers"]]}
        failed = _failed(res["answers"])
        if unexpected:
            return F.make(EXPECTED_ORIGIN, F.FAIL, host,
                          "%s points at %s, which is not one of your edge/origin addresses (%s): some visitors "
                          "reach a server you did not plan for." % (host, _words(unexpected), _words(expected)),
                          evidence=evidence,
                          fix="Remove %s from the A/AAAA records of %s (or add it to launch_expected_addresses "
                              "if it is yours)." % (_words(unexpected), host))
        if failed:
            return _could_not(EXPECTED_ORIGIN, host, "where %s points" % host, failed, evidence)
        if not resolved:
            return F.make(EXPECTED_ORIGIN, F.FAIL, host,
                          "%s has no address in DNS; it should point at %s." % (host, _words(expected)),
                          evidence=evidence,
                          fix="Add A/AAAA records for %s pointing at %s." % (host, _words(expected)))
        if absent:
            return F.make(EXPECTED_ORIGIN, F.WARN, host,
                          "%s points only at %s; the expected %s is not published, so you have less redundancy "
                          "than planned." % (host, _words(resolved), _words(absent)),
                          evidence=evidence,
                          fix="Add %s to the A/AAAA records of %s, or drop it from launch_expected_addresses."
                              % (_words(absent), host))
        return F.make(EXPECTED_ORIGIN, F.PASS, host,
                      "%s points only at your expected addresses (%s)." % (host, _words(resolved)),
                      evidence=evidence)

    return parallel.each(one, hosts, WORKERS)


# ---------------------------------------------------------------- dns.resolvers_agree

RESOLVERS_AGREE = F.CheckSpec(
    "dns.resolvers_agree", F.MEDIUM, STAGE, "All resolvers give the same answer",
    "Make every DNS provider/zone copy publish the same records, then wait for the old TTL to expire.",
    why="Resolvers that disagree send some customers to the old or wrong server: a half-moved zone or a stale copy, "
        "seen only by part of the audience.")


@check(RESOLVERS_AGREE)
def check_resolvers_agree(site: Site, probes: t.Any) -> list:
    """Each host's A and AAAA record sets are identical at every resolver (differences warn)."""
    none = _no_resolver(RESOLVERS_AGREE, site)
    if none:
        return none
    servers = _servers(site)
    if len(servers) < 2:
        return [F.make(RESOLVERS_AGREE, F.SKIP, site.domain,
                       "Not compared: only one resolver (%s) is configured; list two or more in "
                       "launch_resolvers to compare them." % servers[0])]

    def one(host: str) -> F.Finding:
        res = _resolve(site, probes, host)
        views = {}
        for server, answers in _by_server(res["answers"]).items():
            views[server] = {a.rdtype: sorted(_ip(r) for r in a.records) for a in answers}
        evidence = {"by_resolver": views, "answers": [a.to_dict() for a in res["answers"]]}
        failed = _failed(res["answers"])
        if failed:
            return _could_not(RESOLVERS_AGREE, host, "whether resolvers agree on %s" % host, failed, evidence)
        distinct = {repr(sorted(v.items())) for v in views.values()}
        evidence["distinct_answers"] = len(distinct)
        if len(distinct) > 1:
            said = "; ".join("%s says %s" % (s, _words(sum(v.values(), []))) for s, v in sorted(views.items()))
            return F.make(RESOLVERS_AGREE, F.WARN, host,
                          "Resolvers disagree about %s (%s): visitors on different networks may reach different "
                          "servers, e.g. while a DNS change is still spreading." % (host, said),
                          evidence=evidence,
                          fix="Make every nameserver of %s publish the same A/AAAA records for %s; if you just "
                              "changed them, re-run after the old TTL has passed." % (site.domain, host))
        return F.make(RESOLVERS_AGREE, F.PASS, host,
                      "All %d resolvers give the same answer for %s." % (len(views), host), evidence=evidence)

    return parallel.each(one, _hosts(site), WORKERS)


# ---------------------------------------------------------------- dns.dangling_cname

DANGLING_CNAME = F.CheckSpec(
    "dns.dangling_cname", F.HIGH, STAGE, "No CNAME points at a name that does not resolve",
    "Delete the CNAME, or point it at a name you control that resolves.",
    why="A CNAME to a name nobody holds any more can be claimed by anyone at that provider (subdomain takeover), who "
        "then serves pages and reads cookies under your name.")


@check(DANGLING_CNAME)
def check_dangling_cname(site: Site, probes: t.Any) -> list:
    """A host whose CNAME chain ends at NXDOMAIN (or a name without A/AAAA) fails: takeover risk."""
    none = _no_resolver(DANGLING_CNAME, site)
    if none:
        return none

    def one(host: str) -> F.Finding:
        res = _resolve(site, probes, host)
        chains = sorted({tuple(a.cname_chain) for a in res["answers"] if a.cname_chain})
        dangling = {}
        for server, answers in _by_server(res["answers"]).items():
            chain = next((a.cname_chain for a in answers if a.cname_chain), None)
            if chain and _outcome(answers) == "missing":
                dangling[server] = {"target": chain[-1], "status": "/".join(sorted({a.status for a in answers}))}
        evidence = {"cname_chains": [list(c) for c in chains], "dangling_at": dangling,
                    "answers": [a.to_dict() for a in res["answers"]]}
        if dangling:
            target = sorted({d["target"] for d in dangling.values()})
            gone = all(d["status"] == Q.NXDOMAIN for d in dangling.values())
            return F.make(DANGLING_CNAME, F.FAIL, host,
                          "%s is an alias (CNAME) of %s, which %s: whoever registers that name at its provider "
                          "can serve pages, and read cookies, as your shop."
                          % (host, _words(target), "does not exist" if gone else "has no address"),
                          evidence=evidence,
                          fix="Delete the CNAME of %s, or point it at a name you control that resolves (re-create "
                              "%s at its provider if you still need it)." % (host, _words(target)))
        failed = _failed(res["answers"])
        if failed:
            return _could_not(DANGLING_CNAME, host, "where %s leads" % host, failed, evidence)
        if not chains:
            return F.make(DANGLING_CNAME, F.PASS, host, "%s is not an alias (no CNAME)." % host, evidence=evidence)
        return F.make(DANGLING_CNAME, F.PASS, host,
                      "%s is an alias of %s, which resolves." % (host, _words(" -> ".join(c) for c in chains)),
                      evidence=evidence)

    return parallel.each(one, _hosts(site), WORKERS)


# ---------------------------------------------------------------- dns.nameservers

NAMESERVERS = F.CheckSpec(
    "dns.nameservers", F.MEDIUM, STAGE, "At least two nameservers, all authoritative, same serial",
    "Delegate the domain to at least two nameservers that all serve the zone, from the same source.",
    why="With one nameserver, or a lame one, part of the lookups time out and the shop looks down for those "
        "customers; differing serials mean the copies serve different records.")


def _nameserver_endpoint(site: Site, address: str) -> Resolver:
    """Where to ask a nameserver address: port 53, unless that address is a
    configured resolver with its own port (a lab or split setup), then that port."""
    for server in site.resolvers:
        if _ip(server.address) == _ip(address):
            return server
    return Resolver(address, 53)


def _serial(soa_text: str) -> int | None:
    try:
        return int(soa_text.split()[2])
    except (IndexError, ValueError):
        return None


@check(NAMESERVERS)
def check_nameservers(site: Site, probes: t.Any) -> list:
    """The zone of ``launch_domain`` has >= 2 NS; each NS address answers its SOA with AA; serials agree.

    The zone is the nearest of launch_domain and its parents (down to two
    labels) that has NS records, so a shop at shop.example.com without a zone
    of its own is judged by example.com.  The NS set comes from the configured
    resolvers.  Each NS name is resolved
    the same way and every address asked directly (see ``_nameserver_endpoint``).
    A nameserver that answers without the AA flag, with an error code, or not
    at all within launch_timeout is lame (fail): it is what a visitor's
    resolver meets too.  Fewer than 2 NS fails; differing SOA serials warn.
    """
    none = _no_resolver(NAMESERVERS, site)
    if none:
        return none
    target = site.domain
    candidates = _parents(site.domain)
    asked = parallel.each_by(lambda n: _ask_all(site, probes, n, "NS"), candidates, WORKERS)
    zone, evidence = site.domain, {"ns_answers": {}}
    for name in candidates:
        evidence["ns_answers"][name] = [a.to_dict() for a in asked[name]]
        failed = _failed(asked[name])
        if failed:
            return [_could_not(NAMESERVERS, target, "the nameservers of %s" % name, failed, evidence)]
        if any(a.status == Q.OK and not a.cname_chain for a in asked[name]):
            zone = name
            break
    names = sorted({r.rstrip(".").lower() for a in asked[zone] if a.status == Q.OK and not a.cname_chain
                    for r in a.records})
    evidence.update({"zone": zone, "nameservers": names})

    resolved = parallel.each_by(lambda n: _resolve(site, probes, n), names, WORKERS)
    evidence["ns_address_answers"] = {n: [a.to_dict() for a in res["answers"]] for n, res in resolved.items()}
    lame, unknown, targets = [], [], []
    for name, res in resolved.items():
        if res["errors"]:
            unknown.append("the address of %s got no usable answer from %s" % (name, "; ".join(_failed(res["errors"]))))
        elif not res["addresses"]:
            lame.append("%s has no address" % name)
        targets.extend((name, addr) for addr in res["addresses"])

    def soa(target: tuple) -> dict:
        name, addr = target
        endpoint = _nameserver_endpoint(site, addr)
        if not Q.routable(addr):
            return {"nameserver": name, "address": str(endpoint), "checked": False,
                    "reason": "no route from this machine to %s" % addr}
        answer = Q.query(zone, "SOA", endpoint, site.timeout)
        row = {"nameserver": name, "address": str(endpoint), "checked": True, "answer": answer.to_dict()}
        if answer.status == Q.OK and answer.authoritative and answer.records:
            row["serial"] = _serial(answer.records[0])
        elif answer.status in (Q.OK, Q.NODATA, Q.NXDOMAIN):
            row["lame"] = "answered without authority for %s" % zone
        else:
            row["lame"] = answer.detail or answer.status
        return row

    rows = parallel.each(soa, targets, WORKERS)
    evidence["soa"] = rows
    lame += ["%s at %s: %s" % (r["nameserver"], r["address"], r["lame"]) for r in rows if "lame" in r]
    for name in names:
        mine = [r for r in rows if r["nameserver"] == name]
        if mine and not any(r["checked"] for r in mine):
            unknown.append("no address of %s is reachable from this machine" % name)
    serials = {r["serial"] for r in rows if r.get("serial") is not None}
    evidence["serials"] = {"%s (%s)" % (r["nameserver"], r["address"]): r["serial"] for r in rows if "serial" in r}
    evidence["count"] = len(names)

    problems, fixes = [], []
    if len(names) < 2:
        if names:
            problems.append("only 1 nameserver serves %s (%s): if it goes down, the shop and its email vanish"
                            % (zone, names[0]))
        else:
            problems.append("no nameserver serves %s, so the shop cannot be found" % zone)
        fixes.append("add a second nameserver, ideally on another network")
    if lame:
        problems.append("%d nameserver address%s not answer for %s authoritatively (%s), so some visitors' "
                        "lookups stall or fail" % (len(lame), "es do" if len(lame) > 1 else " does", zone,
                                                   "; ".join(lame)))
        fixes.append("make every listed nameserver serve the zone, or remove it from the NS records")
    if problems:
        return [F.make(NAMESERVERS, F.FAIL, target, _sentence("; ".join(problems)), evidence=evidence,
                       fix="At your registrar and DNS provider for %s: %s." % (zone, "; ".join(fixes)))]
    if unknown:
        return [_could_not(NAMESERVERS, target, "every nameserver of %s" % zone, unknown, evidence, lead="")]
    if len(serials) > 1:
        said = "; ".join("%s has %s" % (k, v) for k, v in sorted(evidence["serials"].items()))
        return [F.make(NAMESERVERS, F.WARN, target,
                       "The nameservers of %s serve different versions of the zone (serials: %s): a change you "
                       "make may reach only some visitors." % (zone, said), evidence=evidence,
                       fix="Make the secondary nameservers of %s transfer from the primary (check NOTIFY/AXFR), "
                           "or publish the same zone to all of them." % zone)]
    return [F.make(NAMESERVERS, F.PASS, target,
                   "%s has %d nameservers (%s), all answering authoritatively with serial %s."
                   % (zone, len(names), _words(names), _words(str(s) for s in sorted(serials))),
                   evidence=evidence)]


# ---------------------------------------------------------------- dns.caa

CAA = F.CheckSpec(
    "dns.caa", F.MEDIUM, STAGE, "A CAA record names the CA in use",
    "Publish a CAA record at the apex allowing your certificate authority, e.g. 0 issue \"letsencrypt.org\".",
    why="Without CAA any CA may issue a certificate for the domain; a CAA record that excludes the CA in use makes "
        "the next renewal fail.")

_KNOWN_CAA_TAGS = {"issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"}


def _parse_caa(text: str) -> tuple:
    """(flags, tag, value) of one CAA record given as text."""
    try:
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CAA, text)
        return rd.flags, rd.tag.decode("ascii", "replace").lower(), rd.value.decode("utf-8", "replace")
    except Exception:  # unparseable record: keep it visible as an unknown critical tag
        return 128, "unparseable", text


def _issuer(value: str) -> str:
    """The issuer domain of an ``issue`` value ('' means: no CA may issue)."""
    return value.split(";", 1)[0].strip().rstrip(".").lower()


@check(CAA)
def check_caa(site: Site, probes: t.Any) -> list:
    """Each host's relevant CAA set (nearest name up to the apex that has one) allows launch_caa_issuers.

    Missing warns.  Present with ``issue`` tags allowing none of the issuers in
    use fails (renewal will be refused); allowing only some of them warns.  No
    ``issue`` tag at all does not restrict issuance (RFC 8659), so it warns like
    a missing record.  Without launch_caa_issuers a present record passes, noted.
    """
    none = _no_resolver(CAA, site)
    if none:
        return none
    in_use = sorted({i.strip().rstrip(".").lower() for i in site.caa_issuers if i.strip()})

    def one(host: str) -> F.Finding:
        names = _parents(host)
        per_name = parallel.each_by(lambda n: _ask_all(site, probes, n, "CAA"), names, WORKERS)
        evidence: dict = {"names_checked": names, "issuers_in_use": in_use,
                          "answers": {n: [a.to_dict() for a in ans] for n, ans in per_name.items()}}
        found_at, records = None, []
        for name in names:
            failed = _failed(per_name[name])
            if failed:
                return _could_not(CAA, host, "the CAA records of %s" % host, failed, evidence)
            records = sorted({r for a in per_name[name] if a.status == Q.OK for r in a.records})
            if records:
                found_at = name
                break
        if not found_at:
            return F.make(CAA, F.WARN, host,
                          "No CAA record covers %s: any certificate authority may issue certificates for it."
                          % host, evidence=evidence,
                          fix="Add a CAA record at %s allowing only your CA, e.g. %s CAA 0 issue \"%s\"."
                              % (site.domain, site.domain, in_use[0] if in_use else "letsencrypt.org"))
        parsed = [_parse_caa(r) for r in records]
        issue = [_issuer(v) for _f, tag, v in parsed if tag == "issue"]
        allowed = sorted({i for i in issue if i})
        critical = sorted({tag for flags, tag, _v in parsed if flags & 128 and tag not in _KNOWN_CAA_TAGS})
        evidence.update({"caa_at": found_at, "records": records, "allowed_issuers": allowed})
        alias = next((a.cname_chain[-1] for a in per_name[found_at] if a.cname_chain), None)
        where = "%s (through its alias %s)" % (found_at, alias) if alias else found_at
        owner = alias or found_at  # where the records actually live, and so where to edit them
        if critical:
            return F.make(CAA, F.FAIL, host,
                          "The CAA record at %s has a critical tag no CA understands (%s), so every CA must refuse "
                          "to issue certificates for %s." % (where, _words(critical), host), evidence=evidence,
                          fix="Remove the critical flag (128) or the unknown tag from the CAA records at %s."
                              % owner)
        if not issue:
            return F.make(CAA, F.WARN, host,
                          "The CAA records at %s have no 'issue' entry, so they do not limit which certificate "
                          "authority may issue for %s." % (where, host), evidence=evidence,
                          fix="Add %s CAA 0 issue \"%s\"." % (owner, in_use[0] if in_use else "<your CA>"))
        if not in_use:
            return F.make(CAA, F.PASS, host,
                          "A CAA record at %s allows %s; the CA you use is not configured (launch_caa_issuers), "
                          "so it could not be compared." % (where, _words(allowed) if allowed else "no CA"),
                          evidence=evidence)
        refused = [i for i in in_use if i not in allowed]
        evidence["refused_issuers"] = refused
        if len(refused) == len(in_use):
            return F.make(CAA, F.FAIL, host,
                          "The CAA record at %s allows %s but not your CA (%s): certificate renewal for %s will be "
                          "refused and HTTPS will break when the current certificate expires."
                          % (where, _words(allowed) if allowed else "no CA at all", _words(in_use), host),
                          evidence=evidence,
                          fix="Add %s CAA 0 issue \"%s\" (keep or remove the other CAs as you intend)."
                              % (owner, in_use[0]))
        if refused:
            return F.make(CAA, F.WARN, host,
                          "The CAA record at %s allows %s but not %s, which you also use: certificates from it "
                          "will be refused." % (where, _words(allowed), _words(refused)), evidence=evidence,
                          fix="Add %s to the CAA records at %s, or stop using it."
                              % (_words('0 issue "%s"' % r for r in refused), owner))
        return F.make(CAA, F.PASS, host,
                      "The CAA record at %s allows your CA (%s)." % (where, _words(in_use)), evidence=evidence)

    return parallel.each(one, _hosts(site), WORKERS)

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask one DNS server one question, with a timeout, and say plainly what came back.

Every check that needs DNS goes through ``query``: the outcome is a status
(ok, nxdomain, nodata, servfail, refused, timeout, error), never an exception,
so a fault ends as ``error`` in a finding and never as a pass.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import typing as t

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.resolver
    HAS_DNSPYTHON = True
except ImportError:  # pragma: no cover - reported by the plugins
    HAS_DNSPYTHON = False

from ansible_collections.launchready.ops.plugins.module_utils import parallel
from ansible_collections.launchready.ops.plugins.module_utils.site import Resolver, Site

OK = "ok"
NXDOMAIN = "nxdomain"
NODATA = "nodata"
SERVFAIL = "servfail"
REFUSED = "refused"
TIMEOUT = "timeout"
ERROR = "error"

# Statuses that say the server answered (so the name's state is known).
ANSWERED = (OK, NXDOMAIN, NODATA)

MAX_CNAME_HOPS = 8


@dataclasses.dataclass
class Answer:
    name: str
    rdtype: str
    server: str
    status: str
    records: list = dataclasses.field(default_factory=list)  # rdata as text, final type only
    cname_chain: list = dataclasses.field(default_factory=list)  # targets followed, in order
    authoritative: bool = False
    detail: str = ""
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def system_resolvers() -> list:
    """The system's resolvers as Resolver objects (used when launch_resolvers is empty)."""
    try:
        conf = dns.resolver.Resolver(configure=True)
    except Exception:  # no /etc/resolv.conf: nothing to ask
        return []
    return [Resolver(str(ns), int(conf.port)) for ns in conf.nameservers]


def _ask(qname: str, rdtype: str, server: Resolver, timeout: float) -> "dns.message.Message":
    deadline = time.monotonic() + timeout
    query = dns.message.make_query(qname, rdtype)
    query.flags |= dns.flags.RD
    response = dns.query.udp(query, server.address, port=server.port, timeout=timeout)
    if response.flags & dns.flags.TC:
        # The TCP retry gets what is left of the budget, not a second full timeout.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise dns.exception.Timeout(timeout=timeout)
        response = dns.query.tcp(query, server.address, port=server.port, timeout=remaining)
    return response


def query(name: str, rdtype: str, server: Resolver, timeout: float) -> Answer:
    """Resolve ``name``/``rdtype`` at ``server``, following CNAMEs up to MAX_CNAME_HOPS."""
    started = time.monotonic()
    deadline = started + timeout
    answer = Answer(name=name.rstrip(".").lower(), rdtype=rdtype, server=str(server), status=ERROR)
    qname = dns.name.from_text(name)
    want = dns.rdatatype.from_text(rdtype)
    for _hop in range(MAX_CNAME_HOPS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            answer.status, answer.detail = TIMEOUT, "no answer within %.1f s" % timeout
            break
        try:
            response = _ask(qname.to_text(), rdtype, server, remaining)
        except dns.exception.Timeout:
            answer.status, answer.detail = TIMEOUT, "no answer within %.1f s" % timeout
            break
        except (OSError, socket.error) as exc:
            answer.status, answer.detail = ERROR, "%s: %s" % (type(exc).__name__, exc)
            break
        except dns.exception.DNSException as exc:
            answer.status, answer.detail = ERROR, "%s: %s" % (type(exc).__name__, exc)
            break
        answer.authoritative = bool(response.flags & dns.flags.AA)
        rcode = response.rcode()
        # Walk the answer section from qname along any CNAMEs it holds; an
        # NXDOMAIN answer still carries the chain up to the missing name.
        current = qname
        found = []
        for _walk in range(MAX_CNAME_HOPS + 1):
            rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, want)
            if rrset is not None:
                found = sorted(r.to_text() for r in rrset)
                break
            cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or want == dns.rdatatype.CNAME:
                break
            current = cname[0].target
            answer.cname_chain.append(current.to_text().rstrip(".").lower())
        if rcode == dns.rcode.NXDOMAIN:
            answer.status = NXDOMAIN
            break
        if rcode == dns.rcode.SERVFAIL:
            answer.status, answer.detail = SERVFAIL, "server answered SERVFAIL"
            break
        if rcode == dns.rcode.REFUSED:
            answer.status, answer.detail = REFUSED, "server answered REFUSED"
            break
        if rcode != dns.rcode.NOERROR:
            answer.status, answer.detail = ERROR, "server answered %s" % dns.rcode.to_text(rcode)
            break
        if found:
            answer.status, answer.records = OK, found
            break
        if current != qname and len(answer.cname_chain) < MAX_CNAME_HOPS:
            qname = current  # the server stopped at a CNAME leaving its zone: ask for the target
            continue
        answer.status = NODATA
        break
    else:
        answer.status, answer.detail = ERROR, "more than %d CNAME hops" % MAX_CNAME_HOPS
    answer.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return answer


def routable(address: str, port: int = 53) -> bool:
    """Whether this machine has a route to ``address`` (no packet is sent).

    An IPv4-only controller cannot ask a nameserver's IPv6 address; that says
    nothing about the nameserver, so such an address is noted, not judged.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((address, port))
        return True
    except OSError:
        return False


def servers_for(resolvers: t.Sequence[Resolver]) -> list:
    """The configured resolvers, or the system's when none are configured."""
    return list(resolvers) or system_resolvers()


def addresses(name: str, server: Resolver, timeout: float) -> tuple:
    """A and AAAA answers for ``name`` at ``server``: (addresses, [Answer, Answer])."""
    answers = [query(name, "A", server, timeout), query(name, "AAAA", server, timeout)]
    found = []
    for a in answers:
        if a.status == OK:
            found.extend(a.records)
    return found, answers


def resolve_all(name: str, resolvers: t.Sequence[Resolver], timeout: float) -> dict:
    """A/AAAA of ``name`` at every resolver: {"addresses": union, "answers": [Answer...], "errors": [...]}.

    ``errors`` lists answers where the server did not answer (timeout, SERVFAIL...),
    so callers can report ``error`` rather than act on a partial view.
    """
    # Every (server, type) question runs at once: a hanging resolver costs one
    # timeout for the whole call, not one per server and type.
    jobs = [(server, rdtype) for server in servers_for(resolvers) for rdtype in ("A", "AAAA")]
    if not jobs:
        return {"addresses": [], "answers": [], "errors": []}
    answers = parallel.each(lambda job: query(name, job[1], job[0], timeout), jobs, len(jobs))
    found: set = set()
    for a in answers:
        if a.status == OK:
            found.update(a.records)
    errors = [a for a in answers if a.status not in ANSWERED]
    return {"addresses": sorted(found), "answers": answers, "errors": errors}


def resolve_cached(site: Site, probes: t.Any, name: str) -> dict:
    """``resolve_all`` for a site's host, computed once per run and shared by all checks."""
    return probes.memo(("resolve", name), lambda: resolve_all(name, site.resolvers, site.timeout))

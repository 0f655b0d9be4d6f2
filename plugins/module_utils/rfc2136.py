# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read record sets from the primary DNS server that takes RFC 2136 updates.

community.general.nsupdate replaces a whole record set; to publish one value
beside others (SPF at an apex full of verification TXT records) the current set
is read first, here, over TCP from the same server, with a timeout.  A server
that does not answer raises Rfc2136Error: guessing "empty" would delete the
other values.  Plain Python on dnspython: no Ansible imports.
"""

from __future__ import annotations

try:
    import dns.exception
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    HAS_DNSPYTHON = True
except ImportError:  # pragma: no cover - the plugin reports it
    HAS_DNSPYTHON = False

from ansible_collections.launchready.ops.plugins.module_utils import dns_record_sets as R


class Rfc2136Error(Exception):
    """The server did not give a usable answer."""


def read_set(server: str, port: int, name: str, rtype: str, timeout: float) -> dict:
    """{"values": [normalized values], "ttl": int | None, "status": "ok" | "nxdomain" | "nodata"}."""
    qname = dns.name.from_text(name.rstrip(".") + ".")
    want = dns.rdatatype.from_text(rtype)
    query = dns.message.make_query(qname, want)
    try:
        response = dns.query.tcp(query, server, port=int(port), timeout=timeout)
    except dns.exception.Timeout:
        raise Rfc2136Error("%s:%s did not answer %s %s within %.0f s" % (server, port, name, rtype, timeout)) from None
    except (OSError, dns.exception.DNSException) as exc:
        raise Rfc2136Error("asking %s:%s for %s %s failed: %s" % (server, port, name, rtype, exc)) from None
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return {"values": [], "ttl": None, "status": "nxdomain"}
    if rcode != dns.rcode.NOERROR:
        raise Rfc2136Error("%s:%s answered %s for %s %s" % (server, port, dns.rcode.to_text(rcode), name, rtype))
    rrset = response.get_rrset(response.answer, qname, dns.rdataclass.IN, want)
    if rrset is None:
        return {"values": [], "ttl": None, "status": "nodata"}
    values = []
    for rdata in rrset:
        if want in (dns.rdatatype.TXT, dns.rdatatype.SPF):
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        else:
            values.append(R.normalize(rtype, rdata.to_text()))
    return {"values": values, "ttl": rrset.ttl, "status": "ok"}


def for_nsupdate(rtype: str, value: str) -> str:
    """A normalized value as community.general.nsupdate takes it (TXT: strings of 255 octets, it adds the
    outer quotes)."""
    if rtype.upper() in ("TXT", "SPF"):
        return R.txt_inner(value)
    return value

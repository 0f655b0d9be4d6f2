# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SPF (RFC 7208): parse records and evaluate check_host() against a real DNS server.

``parse_record`` checks a record's syntax (section 4.6, 5, 6, 7 and the ABNF of
section 12) and returns its terms; ``check_host`` evaluates a policy for one
client address the way a receiving mail server does, and says why in words a
non-expert can read (which term decided, the include/redirect path to it, how
many DNS lookups it took).

All DNS goes through one small interface (``lookup(name, rdtype, timeout)``):
``DnsLookup`` asks real servers over UDP (TCP when truncated), so production and
the tests run the same evaluator code against real sockets.  Plain Python on
dnspython: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
import struct
import time
import typing as t
import urllib.parse

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.reversename
    HAS_DNSPYTHON = True
except ImportError:  # pragma: no cover - reported by the plugins
    HAS_DNSPYTHON = False

# Results (section 2.6).
PASS = "pass"
FAIL = "fail"
SOFTFAIL = "softfail"
NEUTRAL = "neutral"
NONE = "none"
PERMERROR = "permerror"
TEMPERROR = "temperror"
RESULTS = (PASS, FAIL, SOFTFAIL, NEUTRAL, NONE, PERMERROR, TEMPERROR)
QUALIFIERS = {"+": PASS, "-": FAIL, "~": SOFTFAIL, "?": NEUTRAL}

# Processing limits (section 4.6.4, 4.6.4/7 and the elapsed-time SHOULD).
MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2
MAX_MX_NAMES = 10
MAX_PTR_NAMES = 10
MAX_ELAPSED = 20.0
MAX_CNAME_HOPS = 8
MAX_DOMAIN_LENGTH = 253

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")  # plus the redirect modifier

# DNS answer statuses of the lookup interface.
OK = "ok"
NXDOMAIN = "nxdomain"
NODATA = "nodata"
ERROR = "error"  # timeout, SERVFAIL, REFUSED, malformed: the state of the name is unknown


class SpfSyntaxError(ValueError):
    """A record (or macro string) breaks the RFC 7208 grammar: check_host() gives permerror."""

    def __init__(self, message: str, term: str | None = None) -> None:
        super().__init__(message if term is None else "%s: %s" % (term, message))
        self.term = term


# ---------------------------------------------------------------- macros (section 7)

MACRO_LETTERS = "slodiphv"
EXP_ONLY_LETTERS = "crt"
_DELIMITERS = ".-+,/_="
_EXPAND_RE = re.compile(r"\{([A-Za-z])([0-9]*)([rR]?)([%s]*)\}" % re.escape(_DELIMITERS))
_TOPLABEL = r"(?:[0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*|[0-9A-Za-z]+-[0-9A-Za-z-]*[0-9A-Za-z])"
_DOMAIN_END_RE = re.compile(r"\.%s\.?\Z" % _TOPLABEL)
_TOPLABEL_RE = re.compile(r"%s\Z" % _TOPLABEL)
_ESCAPES = {"%": "%", "_": " ", "-": "%20"}


@dataclasses.dataclass(frozen=True)
class Macro:
    """One ``%{...}`` expansion: letter (case kept: upper means URL-escape), transformers, delimiters."""

    letter: str
    digits: int | None
    reverse: bool
    delimiters: str


def parse_macro_string(text: str, *, explanation: bool = False) -> list:
    """Tokens of a macro-string: str (literal text), ("esc", text) for %% %_ %-, or Macro.

    ``explanation`` allows the exp-only letters (c, r, t) and spaces, as in the
    TXT record an exp= modifier points to (section 6.2, 7.1).
    """
    letters = MACRO_LETTERS + (EXP_ONLY_LETTERS if explanation else "")
    tokens: list = []
    literal: list = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            nxt = text[i + 1:i + 2]
            if nxt in _ESCAPES:
                if literal:
                    tokens.append("".join(literal))
                    literal = []
                tokens.append(("esc", _ESCAPES[nxt]))
                i += 2
                continue
            match = _EXPAND_RE.match(text, i + 1) if nxt == "{" else None
            if match is None:
                raise SpfSyntaxError("'%%' must start %%{...}, %%%%, %%_ or %%- (at %r)" % text[i:i + 8])
            letter, digits, reverse, delimiters = match.groups()
            if letter.lower() not in letters:
                where = "" if explanation else " (c, r and t are allowed only in explanation text)"
                raise SpfSyntaxError("unknown macro letter %r%s" % (letter, where))
            if digits and int(digits) == 0:
                raise SpfSyntaxError("macro %s keeps zero parts" % match.group(0))
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(Macro(letter, int(digits) if digits else None, bool(reverse), delimiters))
            i = match.end()
            continue
        if not ("\x21" <= ch <= "\x7e" or (explanation and ch == " ")):
            raise SpfSyntaxError("character %r is not allowed here" % ch)
        literal.append(ch)
        i += 1
    if literal:
        tokens.append("".join(literal))
    return tokens


def parse_domain_spec(text: str) -> list:
    """Tokens of a domain-spec: a macro-string that ends in a macro or in "." toplabel (section 7.1)."""
    if not text:
        raise SpfSyntaxError("the domain is empty")
    tokens = parse_macro_string(text)
    last = tokens[-1]
    if isinstance(last, str) and not _DOMAIN_END_RE.search(last):
        raise SpfSyntaxError("%r does not end in a valid top-level label (like .com) or a macro" % text)
    return tokens


def _transform(value: str, macro: Macro) -> str:
    """Split, reverse and keep the right-hand parts (section 7.3), then URL-escape upper-case letters."""
    if macro.digits is not None or macro.reverse or macro.delimiters:
        parts = re.split("[%s]" % re.escape(macro.delimiters or "."), value)
        if macro.reverse:
            parts.reverse()
        if macro.digits is not None:
            parts = parts[-macro.digits:]
        value = ".".join(parts)
    if macro.letter.isupper():
        value = urllib.parse.quote(value, safe="")  # everything but RFC 3986 unreserved
    return value


def expand(tokens: list, value_of: t.Callable[[str], str]) -> str:
    """The text of macro tokens, with ``value_of(letter)`` giving each letter's raw value."""
    out = []
    for token in tokens:
        if isinstance(token, str):
            out.append(token)
        elif isinstance(token, Macro):
            out.append(_transform(value_of(token.letter.lower()), token))
        else:
            out.append(token[1])
    return "".join(out)


def ip_nibbles(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """%{i}: dotted quad for IPv4, 32 dot-separated nibbles for IPv6.

    Upper-case nibbles, as the RFC 7208 test suite expects (v-macro-ip6) and
    pyspf emits; RFC 7208 section 7.4 prints them in lower case, and the case of
    a DNS name does not matter.
    """
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.packed.hex().upper())


def parse_ip(ip: t.Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The client address; an IPv4-mapped IPv6 address is the IPv4 address (section 5, 5/9/2)."""
    address = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class MacroContext:
    """What the macro letters stand for in one check (7.3): client address, sender, HELO, receiver.

    ``ptr(domain)`` gives %{p}, the validated name of the address, which needs
    DNS: check_host() passes its own; without it %{p} is "unknown".
    """

    def __init__(self, ip: t.Any, sender: str, helo: str | None = None, receiver: str = "unknown",
                 ptr: t.Callable[[str], str] | None = None) -> None:
        self.ip = parse_ip(ip)
        local, _at, domain = sender.rpartition("@")
        self.local = local or "postmaster"  # 4.3: no local part means postmaster
        self.sender_domain = domain
        self.helo = helo or "unknown"
        self.receiver = receiver
        self.ptr = ptr

    def value(self, letter: str, domain: str) -> str:
        """The raw value of a (lower-case) macro letter while evaluating ``domain``'s record."""
        ip = self.ip
        if letter == "s":
            return "%s@%s" % (self.local, self.sender_domain)
        if letter == "l":
            return self.local
        if letter == "o":
            return self.sender_domain
        if letter == "d":
            return domain
        if letter == "i":
            return ip_nibbles(ip)
        if letter == "v":
            return "in-addr" if ip.version == 4 else "ip6"
        if letter == "h":
            return self.helo
        if letter == "c":
            return str(ip)
        if letter == "r":
            return self.receiver
        if letter == "t":
            return str(int(time.time()))
        if letter == "p":
            return self.ptr(domain) if self.ptr else "unknown"
        raise ValueError("unknown macro letter %r" % letter)

    def expand(self, text: str | list, domain: str, *, explanation: bool = False) -> str:
        """Expand a macro-string (or its tokens) for ``domain``; SpfSyntaxError when it is invalid."""
        tokens = parse_macro_string(text, explanation=explanation) if isinstance(text, str) else text
        return expand(tokens, lambda letter: self.value(letter, domain))


# ---------------------------------------------------------------- records (section 4.5, 4.6, 5, 6)

_MODIFIER_RE = re.compile(r"([A-Za-z][A-Za-z0-9\-_.]*)=(.*)\Z", re.S)
_MECHANISM_RE = re.compile(r"([A-Za-z0-9]*)(.*)\Z", re.S)
_CIDR_RE = re.compile(r"(.*?)(?:/(0|[1-9][0-9]*))?(?://(0|[1-9][0-9]*))?\Z", re.S)
_IP4_RE = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                     r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z")


@dataclasses.dataclass
class Term:
    """One directive or modifier of a record, as written and as understood."""

    text: str
    kind: str  # "mechanism" or "modifier"
    name: str  # lower case: "include", "ip4", "redirect", "exp", or an unknown modifier's name
    qualifier: str = "+"  # mechanisms only
    value: str | None = None  # the domain-spec, network or modifier value as written
    tokens: list = dataclasses.field(default_factory=list, repr=False)  # parsed domain-spec
    cidr4: int | None = None
    cidr6: int | None = None
    network: t.Any = None  # ip4/ip6: an ipaddress network

    @property
    def needs_lookup(self) -> bool:
        """True for the terms RFC 7208 4.6.4 counts against the 10-lookup limit."""
        return (self.kind == "mechanism" and self.name in LOOKUP_MECHANISMS) or \
            (self.kind == "modifier" and self.name == "redirect")


@dataclasses.dataclass
class Record:
    """A parsed SPF record: its terms in order and the two modifiers that matter."""

    text: str
    terms: list

    @property
    def mechanisms(self) -> list:
        return [term for term in self.terms if term.kind == "mechanism"]

    @property
    def redirect(self) -> Term | None:
        return next((term for term in self.terms if term.kind == "modifier" and term.name == "redirect"), None)

    @property
    def exp(self) -> Term | None:
        return next((term for term in self.terms if term.kind == "modifier" and term.name == "exp"), None)

    @property
    def all(self) -> Term | None:
        """The first ``all`` mechanism: later terms, and any redirect, are never evaluated."""
        return next((term for term in self.mechanisms if term.name == "all"), None)

    @property
    def lookup_terms(self) -> list:
        """Terms of this record that cost a DNS lookup (not counting includes' own terms)."""
        return [term for term in self.terms if term.needs_lookup]


def is_spf_record(text: str) -> bool:
    """A TXT string is an SPF record when it starts "v=spf1" (any case) then a space or its end (4.5)."""
    return text[:6].lower() == "v=spf1" and (len(text) == 6 or text[6] == " ")


def _cidr(value: str | None, maximum: int, term: str) -> int | None:
    if value is None:
        return None
    if int(value) > maximum:
        raise SpfSyntaxError("prefix length /%s is longer than %d" % (value, maximum), term)
    return int(value)


def _parse_mechanism(text: str) -> Term:
    """One directive: [qualifier] name, then what that mechanism allows (section 5, 12)."""
    qualifier = "+"
    body = text
    if body[:1] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    name, rest = _MECHANISM_RE.match(body).groups()
    name = name.lower()
    term = Term(text=text, kind="mechanism", name=name, qualifier=qualifier)
    if name not in MECHANISMS:
        raise SpfSyntaxError("unknown mechanism", text)
    if name == "all":
        if rest:
            raise SpfSyntaxError("'all' takes no argument", text)
    elif name in ("include", "exists"):
        if not rest.startswith(":"):
            raise SpfSyntaxError("%s needs ':domain'" % name, text)
        term.value = rest[1:]
    elif name == "ptr":
        if rest and not rest.startswith(":"):
            raise SpfSyntaxError("ptr takes ':domain' and no prefix length", text)
        term.value = rest[1:] if rest else None
    elif name in ("a", "mx"):
        head, cidr4, cidr6 = _CIDR_RE.match(rest).groups()
        if head and not head.startswith(":"):
            raise SpfSyntaxError("expected ':domain' or a prefix length like /24 or //64", text)
        term.value = head[1:] if head else None
        term.cidr4, term.cidr6 = _cidr(cidr4, 32, text), _cidr(cidr6, 128, text)
    elif name == "ip4":
        match = re.match(r":([0-9.]+)(?:/(0|[1-9][0-9]*))?\Z", rest)
        if not match or not _IP4_RE.match(match.group(1)):
            raise SpfSyntaxError("expected ip4:a.b.c.d or ip4:a.b.c.d/nn", text)
        term.value = match.group(1)
        term.cidr4 = _cidr(match.group(2), 32, text)
        term.network = ipaddress.ip_network("%s/%d" % (term.value, 32 if term.cidr4 is None else term.cidr4),
                                            strict=False)
    else:  # ip6
        match = re.match(r":([0-9A-Fa-f:.]+)(?:/(0|[1-9][0-9]*))?\Z", rest)
        try:
            address = ipaddress.IPv6Address(match.group(1)) if match else None
        except ValueError:
            address = None
        if address is None:
            raise SpfSyntaxError("expected ip6:address or ip6:address/nn", text)
        term.value = match.group(1)
        term.cidr6 = _cidr(match.group(2), 128, text)
        term.network = ipaddress.ip_network("%s/%d" % (address, 128 if term.cidr6 is None else term.cidr6),
                                            strict=False)
    if term.value is not None and name not in ("ip4", "ip6"):
        try:
            term.tokens = parse_domain_spec(term.value)
        except SpfSyntaxError as exc:
            raise SpfSyntaxError(str(exc), text) from None
    return term


def parse_record(text: str) -> Record:
    """Parse an SPF record; raise SpfSyntaxError (check_host's permerror) for any error anywhere (4.6).

    Checks: the version, 7-bit printable text with terms separated by spaces,
    every mechanism's arguments, macro syntax, and redirect/exp at most once.
    """
    if not is_spf_record(text):
        raise SpfSyntaxError("an SPF record starts with 'v=spf1' followed by a space")
    for position, ch in enumerate(text):
        if not " " <= ch <= "\x7e":
            raise SpfSyntaxError("character %r at position %d: SPF records are printable 7-bit ASCII, "
                                 "terms separated by spaces" % (ch, position))
    terms = []
    seen: set = set()
    for word in text[6:].split(" "):
        if not word:
            continue
        match = _MODIFIER_RE.match(word)
        if match is None:
            terms.append(_parse_mechanism(word))
            continue
        name, value = match.group(1).lower(), match.group(2)
        term = Term(text=word, kind="modifier", name=name, value=value)
        try:
            if name in ("redirect", "exp"):
                if name in seen:
                    raise SpfSyntaxError("%s= may appear only once" % name)
                seen.add(name)
                term.tokens = parse_domain_spec(value)
            else:
                # Unknown modifiers are ignored but must still be valid macro-strings, of any
                # macro letter (A/3): a future modifier may well be about explanations.
                term.tokens = parse_macro_string(value, explanation=True)
        except SpfSyntaxError as exc:
            raise SpfSyntaxError(str(exc), word) from None
        terms.append(term)
    return Record(text=text, terms=terms)


def txt_to_text(record: bytes | str) -> str:
    """One TXT record (its strings already joined) as text; bytes map 1:1 so non-ASCII stays visible."""
    return record.decode("latin-1") if isinstance(record, (bytes, bytearray)) else record


def select_records(txt_records: t.Iterable) -> list:
    """The SPF records among a name's TXT records (4.5): exactly one is usable."""
    return [text for text in (txt_to_text(r) for r in txt_records) if is_spf_record(text)]


# ---------------------------------------------------------------- DNS


@dataclasses.dataclass
class DnsAnswer:
    """What one question got: status, and records of the asked type as plain values.

    TXT: bytes (the record's strings joined); A/AAAA: address text; MX: (preference,
    host); PTR: host.  Host names are given without the final dot.
    """

    status: str
    records: list = dataclasses.field(default_factory=list)
    detail: str = ""


class Lookup(t.Protocol):
    """The DNS interface of the evaluator (production: DnsLookup)."""

    def lookup(self, name: str, rdtype: str, timeout: float) -> DnsAnswer:
        ...  # pragma: no cover


def dns_name(text: str) -> t.Any:
    """The dnspython name for ``text`` (labels taken literally), or None when DNS cannot carry it.

    Macro expansion can produce empty labels, labels over 63 octets or odd
    characters; such a name cannot exist, so callers treat it as non-existent.
    """
    text = text[:-1] if text.endswith(".") else text
    if not text:
        return None
    try:
        return dns.name.Name([label.encode("utf-8", "surrogateescape") for label in text.split(".")] + [b""])
    except (dns.exception.DNSException, ValueError):
        return None


def _name_text(name: t.Any) -> str:
    return ".".join(label.decode("utf-8", "surrogateescape") for label in name.labels if label)


class DnsLookup:
    """Ask DNS servers (``site.Resolver`` or anything with .address and .port) one question at a time.

    UDP first, TCP when the answer is truncated, within ``timeout`` per question;
    the next server is asked only when one does not answer.  The exchange is
    done here rather than by dns.query so that one malformed record (say a TXT
    with no strings) is skipped instead of failing the whole answer.
    """

    def __init__(self, servers: t.Any) -> None:
        if hasattr(servers, "address"):
            servers = [servers]
        self.servers = list(servers)
        if not self.servers:
            raise ValueError("no DNS server to ask")

    def lookup(self, name: str, rdtype: str, timeout: float) -> DnsAnswer:
        qname = dns_name(name)
        if qname is None:
            return DnsAnswer(ERROR, detail="%r is not a valid DNS name" % name)
        answer = DnsAnswer(ERROR, detail="no server asked")
        for server in self.servers:
            answer = self._ask_server(qname, rdtype, server, timeout)
            if answer.status != ERROR:
                break
        return answer

    def _ask_server(self, qname: t.Any, rdtype: str, server: t.Any, timeout: float) -> DnsAnswer:
        want = dns.rdatatype.from_text(rdtype)
        deadline = time.monotonic() + timeout
        where = server.address if getattr(server, "port", 53) == 53 else "%s:%s" % (server.address, server.port)
        seen = [qname]
        for _hop in range(MAX_CNAME_HOPS + 1):
            asked = seen[-1]
            try:
                response = _exchange(asked, want, server, deadline)
            except dns.exception.Timeout:
                return DnsAnswer(ERROR, detail="%s did not answer within %.1f s" % (where, timeout))
            except (OSError, dns.exception.DNSException) as exc:
                return DnsAnswer(ERROR, detail="%s: %s: %s" % (where, type(exc).__name__, exc))
            rcode = response.rcode()
            if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return DnsAnswer(ERROR, detail="%s answered %s" % (where, dns.rcode.to_text(rcode)))
            # Follow the CNAME chain inside the answer from the name asked.
            current, rrset = asked, None
            for _walk in range(MAX_CNAME_HOPS + 1):
                rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, want)
                if rrset is not None:
                    break
                cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
                if cname is None:
                    break
                current = cname[0].target
                if current in seen:
                    return DnsAnswer(ERROR, detail="CNAME loop at %s" % _name_text(current))
                seen.append(current)
            if rrset is not None:
                return DnsAnswer(OK, [_plain(rdata) for rdata in rrset])
            if rcode == dns.rcode.NXDOMAIN:
                return DnsAnswer(NXDOMAIN, detail="%s does not exist" % _name_text(current))
            if current == asked:
                return DnsAnswer(NODATA, detail="%s has no %s record" % (_name_text(current), rdtype))
            # The server stopped at a CNAME that leaves its data: ask for the target.
        return DnsAnswer(ERROR, detail="more than %d CNAME hops" % MAX_CNAME_HOPS)


def _plain(rdata: t.Any) -> t.Any:
    rdtype = rdata.rdtype
    if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        return b"".join(rdata.strings)
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return rdata.address
    if rdtype == dns.rdatatype.MX:
        return (rdata.preference, _name_text(rdata.exchange))
    if rdtype in (dns.rdatatype.PTR, dns.rdatatype.CNAME):
        return _name_text(rdata.target)
    return rdata.to_text()


def _exchange(qname: t.Any, rdtype: t.Any, server: t.Any, deadline: float) -> t.Any:
    """One question to one server: UDP, then TCP if truncated; dns.exception.Timeout at the deadline."""
    query = dns.message.make_query(qname, rdtype)
    query.flags |= dns.flags.RD
    wire = query.to_wire()
    port = int(getattr(server, "port", 53))
    family = socket.AF_INET6 if ":" in server.address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((server.address, port))
        sock.settimeout(_remaining(deadline))
        sock.send(wire)
        while True:
            sock.settimeout(_remaining(deadline))
            try:
                data = sock.recv(65535)
            except socket.timeout:
                raise dns.exception.Timeout() from None
            response = _parse(data, query)
            if response is not None:
                break
    if not response.flags & dns.flags.TC:
        return response
    with socket.create_connection((server.address, port), timeout=_remaining(deadline)) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        size = struct.unpack("!H", _read(sock, 2, deadline))[0]
        response = _parse(_read(sock, size, deadline), query)
    if response is None:
        raise dns.exception.FormError("the TCP answer does not match the question")
    return response


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise dns.exception.Timeout()
    return left


def _read(sock: socket.socket, size: int, deadline: float) -> bytes:
    data = b""
    while len(data) < size:
        sock.settimeout(_remaining(deadline))
        try:
            chunk = sock.recv(size - len(data))
        except socket.timeout:
            raise dns.exception.Timeout() from None
        if not chunk:
            raise dns.exception.FormError("the server closed the TCP connection mid-answer")
        data += chunk
    return data


def _parse(data: bytes, query: t.Any) -> t.Any:
    """The answer to ``query`` in ``data``, skipping malformed records; None for stray datagrams."""
    try:
        try:
            response = dns.message.from_wire(data, continue_on_error=True)
        except TypeError:  # dnspython before 2.6 cannot skip a bad record: all or nothing
            response = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return None
    return response if query.is_response(response) else None


# ---------------------------------------------------------------- check_host() (section 4)


@dataclasses.dataclass
class SpfResult:
    """The outcome of check_host() with the evidence behind it.

    ``mechanism`` is the term that decided (the innermost one when an include
    matched, or the one that failed); ``chain`` the domains from the checked one
    to the record holding it; ``path`` the include/redirect terms followed and
    the deciding term; ``lookup_terms`` every term that cost a DNS lookup, in
    order, as "domain: term".
    """

    result: str
    domain: str
    reason: str = ""
    explanation: str | None = None
    mechanism: str | None = None
    chain: list = dataclasses.field(default_factory=list)
    path: list = dataclasses.field(default_factory=list)
    record: str | None = None
    lookups: int = 0
    void_lookups: int = 0
    lookup_terms: list = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Stop(Exception):
    """permerror or temperror: evaluation stops at once (4.6, 5)."""

    def __init__(self, result: str, reason: str, chain: list, path: list, term: str | None = None) -> None:
        super().__init__(reason)
        self.result, self.reason, self.chain, self.path, self.term = result, reason, chain, path, term


class _NoPolicy(Exception):
    """check_host() of this domain is "none": no SPF record (or not a usable domain)."""


@dataclasses.dataclass
class _Outcome:
    result: str
    term: str | None
    chain: list
    path: list
    reason: str
    exp: Term | None = None  # the exp= of the record whose mechanism gave the result
    exp_domain: str = ""


def valid_domain(domain: str) -> bool:
    """A checkable <domain> (4.3): multi-label, labels of 1-63 octets, at most 253, a real top label."""
    name = domain[:-1] if domain.endswith(".") else domain
    labels = name.split(".")
    if len(name) > MAX_DOMAIN_LENGTH or len(labels) < 2:
        return False
    if any(not 0 < len(label.encode("utf-8", "surrogateescape")) <= 63 for label in labels):
        return False
    return all("\x21" <= ch <= "\x7e" for ch in name) and bool(_TOPLABEL_RE.match(labels[-1]))


def _target(text: str) -> str:
    """A macro-expanded domain, without its final dot, cut from the left to 253 characters (7.3)."""
    text = text[:-1] if text.endswith(".") else text
    while len(text) > MAX_DOMAIN_LENGTH and "." in text:
        text = text.split(".", 1)[1]
    return text


def _reached(path: list) -> str:
    """" (via include:a -> include:b)": how evaluation got to a record, for the reason text."""
    return " (via %s)" % " -> ".join(path) if path else ""


class _Evaluation:
    """State of one check_host() run: the counters are shared by every include and redirect."""

    def __init__(self, macros: MacroContext, dns_lookup: t.Any, timeout: float, max_elapsed: float) -> None:
        self.macros = macros
        self.ip = macros.ip
        macros.ptr = self.validated_name
        self.dns = dns_lookup
        self.timeout = timeout
        self.max_elapsed = max_elapsed
        self.deadline = time.monotonic() + max_elapsed
        self.lookups = 0
        self.voids = 0
        self.lookup_terms: list = []
        self.cache: dict = {}
        self.validated: dict = {}  # PTR name -> has an A/AAAA record equal to ip
        self.top_record: str | None = None

    # -- DNS, counted and cached

    def ask(self, name: str, rdtype: str, chain: list, path: list) -> DnsAnswer:
        key = (name.lower(), rdtype)
        if key not in self.cache:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Stop(TEMPERROR, "SPF evaluation took longer than %.0f s (RFC 7208 4.6.4)" % self.max_elapsed,
                            chain, path)
            self.cache[key] = self.dns.lookup(name, rdtype, min(self.timeout, left))
        return self.cache[key]

    def count(self, domain: str, term: Term, chain: list, path: list) -> None:
        self.lookups += 1
        self.lookup_terms.append("%s: %s" % (domain, term.text))
        if self.lookups > MAX_LOOKUPS:
            raise _Stop(PERMERROR, "SPF needs more than %d DNS lookups; the limit is %d: lookup %d is %s in %s%s"
                        % (MAX_LOOKUPS, MAX_LOOKUPS, self.lookups, term.text, domain, _reached(path[:-1])),
                        chain, path, term.text)

    def void(self, domain: str, term: Term, answer: DnsAnswer, chain: list, path: list) -> None:
        self.voids += 1
        if self.voids > MAX_VOID_LOOKUPS:
            raise _Stop(PERMERROR, "%d SPF lookups found nothing; the limit is %d: lookup %d is %s in %s (%s)%s"
                        % (self.voids, MAX_VOID_LOOKUPS, self.voids, term.text, domain, answer.detail,
                           _reached(path[:-1])), chain, path, term.text)

    def dns_error(self, term: Term, domain: str, answer: DnsAnswer, chain: list, path: list) -> _Stop:
        return _Stop(TEMPERROR, "DNS error for %s in %s: %s%s"
                     % (term.text, domain, answer.detail, _reached(path[:-1])), chain, path, term.text)

    # -- macros

    def expand_target(self, tokens: list, domain: str) -> str:
        return _target(self.macros.expand(tokens, domain))

    def validated_name(self, domain: str) -> str:
        """%{p}: a PTR name of ip whose A/AAAA include ip; one under <domain> preferred (7.3)."""
        names = self.ptr_names()
        if names is None:
            return "unknown"
        valid = [name for name in names if self.validates(name)]
        domain = domain.lower()
        for name in valid:
            if name.lower() == domain or name.lower().endswith("." + domain):
                return name
        return valid[0] if valid else "unknown"

    def ptr_names(self) -> list | None:
        """The first 10 PTR names of ip (4.6.4), or None when the lookup found nothing or failed."""
        answer = self.ask(dns.reversename.from_address(str(self.ip)).to_text(), "PTR", [], [])
        return answer.records[:MAX_PTR_NAMES] if answer.status == OK else None

    def validates(self, name: str) -> bool:
        """Forward-confirmed: ``name`` has an A/AAAA record equal to ip; DNS errors mean no (5.5)."""
        if name not in self.validated:
            target = dns_name(name)
            answer = self.ask(name, "A" if self.ip.version == 4 else "AAAA", [], []) if target else None
            self.validated[name] = bool(answer and answer.status == OK and any(
                ipaddress.ip_address(address) == self.ip for address in answer.records))
        return self.validated[name]

    # -- the algorithm

    def check(self, domain: str, chain: list, path: list) -> _Outcome:
        """check_host() for ``domain``: raises _NoPolicy for "none", _Stop for the errors."""
        if not valid_domain(domain):
            raise _NoPolicy("%r is not a domain name SPF can check" % domain)
        answer = self.ask(domain, "TXT", chain, path)
        if answer.status == ERROR:
            raise _Stop(TEMPERROR, "DNS error looking up the SPF record of %s: %s" % (domain, answer.detail),
                        chain, path, path[-1] if path else None)
        if answer.status != OK:
            raise _NoPolicy("%s has no SPF record (%s)" % (domain, answer.detail))
        records = select_records(answer.records)
        if not records:
            raise _NoPolicy("%s has no SPF record (no TXT record starts with v=spf1)" % domain)
        if len(chain) == 1:
            self.top_record = records[0] if len(records) == 1 else None
        if len(records) > 1:
            raise _Stop(PERMERROR, "%s publishes %d SPF records; exactly one is allowed: %s"
                        % (domain, len(records), " | ".join(records)), chain, path)
        try:
            record = parse_record(records[0])
        except SpfSyntaxError as exc:
            raise _Stop(PERMERROR, "the SPF record of %s is invalid: %s" % (domain, exc), chain, path,
                        exc.term) from None
        for term in record.mechanisms:
            here = path + [term.text]
            matched, inner = self.matches(term, domain, chain, here)
            if not matched:
                continue
            result = QUALIFIERS[term.qualifier]
            if inner is not None:  # an include matched: show where inside it
                reason = "%s matches %s in %s%s, so %s gives %s" % (
                    self.ip, inner.term, inner.chain[-1], _reached(inner.path[:-1]), term.text, result)
                return _Outcome(result, inner.term, inner.chain, inner.path, reason, record.exp, domain)
            if term.name == "all":
                reason = "%s matches no earlier term of %s%s; '%s' gives %s" % (
                    self.ip, domain, _reached(path), term.text, result)
            else:
                reason = "%s matches %s in %s%s: %s" % (self.ip, term.text, domain, _reached(path), result)
            return _Outcome(result, term.text, chain, here, reason, record.exp, domain)
        redirect = record.redirect
        if redirect is not None:  # only reached without an "all" (6.1)
            here = path + [redirect.text]
            self.count(domain, redirect, chain, here)
            target = self.expand_target(redirect.tokens, domain)
            try:
                return self.check(target, chain + [target], here)
            except _NoPolicy as exc:
                raise _Stop(PERMERROR, "%s in %s leads nowhere: %s" % (redirect.text, domain, exc),
                            chain, here, redirect.text) from None
        return _Outcome(NEUTRAL, None, chain, path,
                        "no term of the SPF record of %s matches %s and it has no 'all': neutral"
                        % (domain, self.ip))

    def matches(self, term: Term, domain: str, chain: list, path: list) -> tuple:
        """(matched, inner outcome of an include) for one mechanism."""
        ip = self.ip
        name = term.name
        if name == "all":
            return True, None
        if name == "ip4":
            return ip.version == 4 and ip in term.network, None
        if name == "ip6":
            return ip.version == 6 and ip in term.network, None
        self.count(domain, term, chain, path)
        target = self.expand_target(term.tokens, domain) if term.tokens else domain
        if name == "include":
            try:
                inner = self.check(target, chain + [target], path)
            except _NoPolicy as exc:
                raise _Stop(PERMERROR, "%s in %s: %s" % (term.text, domain, exc), chain, path, term.text) from None
            return inner.result == PASS, inner
        if dns_name(target) is None:  # cannot exist (empty or long label): no match (4.3, 5/10)
            return False, None
        if name == "exists":
            answer = self.ask(target, "A", chain, path)
            return self.answered(term, domain, answer, chain, path) and bool(answer.records), None
        if name == "ptr":
            return self.ptr_matches(term, domain, target, chain, path), None
        rdtype = "A" if ip.version == 4 else "AAAA"
        prefix = term.cidr4 if ip.version == 4 else term.cidr6
        if name == "a":
            answer = self.ask(target, rdtype, chain, path)
            if not self.answered(term, domain, answer, chain, path):
                return False, None
            return self.covered(answer.records, prefix), None
        # mx
        answer = self.ask(target, "MX", chain, path)
        if not self.answered(term, domain, answer, chain, path):
            return False, None
        hosts = [host for _pref, host in sorted(answer.records, key=lambda mx: mx[0]) if host]  # "." is null MX
        if len(hosts) > MAX_MX_NAMES:
            raise _Stop(PERMERROR, "%s in %s: %s has %d MX hosts, more than the %d SPF allows%s"
                        % (term.text, domain, target, len(hosts), MAX_MX_NAMES, _reached(path[:-1])),
                        chain, path, term.text)
        for host in hosts:
            if dns_name(host) is None:
                continue
            addresses = self.ask(host, rdtype, chain, path)
            if addresses.status == ERROR:
                raise self.dns_error(term, domain, addresses, chain, path)
            if self.covered(addresses.records, prefix):
                return True, None
        return False, None

    def covered(self, addresses: list, prefix: int | None) -> bool:
        """Is ip inside address/prefix for one of ``addresses`` (the a and mx CIDR lengths)?"""
        prefix = self.ip.max_prefixlen if prefix is None else prefix
        for address in addresses:
            try:
                if self.ip in ipaddress.ip_network("%s/%d" % (address, prefix), strict=False):
                    return True
            except ValueError:  # an A answer to an AAAA question, or the like: not ours
                continue
        return False

    def answered(self, term: Term, domain: str, answer: DnsAnswer, chain: list, path: list) -> bool:
        """True with records; counts a void lookup; temperror on a DNS error (5, 4.6.4)."""
        if answer.status == ERROR:
            raise self.dns_error(term, domain, answer, chain, path)
        if answer.status != OK or not answer.records:
            self.void(domain, term, answer, chain, path)
            return False
        return True

    def ptr_matches(self, term: Term, domain: str, target: str, chain: list, path: list) -> bool:
        """ptr (5.5): a validated PTR name of ip equal to or under the target. DNS errors mean no match."""
        answer = self.ask(dns.reversename.from_address(str(self.ip)).to_text(), "PTR", chain, path)
        if answer.status == ERROR:
            return False
        if answer.status != OK or not answer.records:
            self.void(domain, term, answer, chain, path)
            return False
        target = target.lower()
        for name in answer.records[:MAX_PTR_NAMES]:
            lowered = name.lower()
            if (lowered == target or lowered.endswith("." + target)) and self.validates(name):
                return True
        return False

    def explanation(self, outcome: _Outcome) -> str | None:
        """The exp= text for a fail (6.2): any problem means no explanation, never an error.

        Looked up once, after the result, and not counted against the limits (4.6.4).
        """
        if outcome.result != FAIL or outcome.exp is None:
            return None
        try:
            name = self.expand_target(outcome.exp.tokens, outcome.exp_domain)
            if dns_name(name) is None:
                return None
            answer = self.ask(name, "TXT", [], [])
            if answer.status != OK or len(answer.records) != 1:
                return None
            return self.macros.expand(txt_to_text(answer.records[0]), outcome.exp_domain, explanation=True)
        except (_Stop, SpfSyntaxError):  # out of time, or not a valid explain-string
            return None


def lookup_for(resolver: t.Any) -> t.Any:
    """The DNS interface for ``resolver``: an object with lookup(), a site.Resolver, or a list of them."""
    if hasattr(resolver, "lookup"):
        return resolver
    return DnsLookup(resolver)


def check_host(ip: t.Any, domain: str, sender: str, *, resolver: t.Any, timeout: float,
               helo: str | None = None, receiver: str = "unknown", max_elapsed: float = MAX_ELAPSED) -> SpfResult:
    """RFC 7208 check_host(): may ``ip`` send mail for ``domain`` with MAIL FROM ``sender``?

    ``resolver``: a site.Resolver (or a list, or any object with
    ``lookup(name, rdtype, timeout)``); ``timeout`` bounds each DNS question and
    ``max_elapsed`` the whole evaluation (temperror beyond).  ``sender`` without
    a local part counts as postmaster@ (4.3); ``helo`` and ``receiver`` feed the
    %{h} and %{r} macros.  A bad ``ip`` raises ValueError: that is the caller's bug,
    not an SPF result.
    """
    address = parse_ip(ip)
    domain = domain.strip()
    domain = domain[:-1] if domain.endswith(".") else domain
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # an IDN is checked as its A-label form
        except UnicodeError:
            pass  # not a name DNS can carry: initial processing gives none
    if "@" not in sender:
        sender = "postmaster@%s" % (sender or domain)
    macros = MacroContext(address, sender, helo, receiver)
    run = _Evaluation(macros, lookup_for(resolver), timeout, max_elapsed)
    result = SpfResult(result=NONE, domain=domain, chain=[domain])
    try:
        outcome = run.check(domain, [domain], [])
    except _NoPolicy as exc:
        result.reason = "%s: none" % exc
    except _Stop as exc:
        result.result, result.reason = exc.result, exc.reason
        result.mechanism, result.chain, result.path = exc.term, exc.chain, exc.path
    else:
        result.result, result.reason = outcome.result, outcome.reason
        result.mechanism, result.chain, result.path = outcome.term, outcome.chain, outcome.path
        result.explanation = run.explanation(outcome)
    result.record = run.top_record
    result.lookups, result.void_lookups, result.lookup_terms = run.lookups, run.voids, run.lookup_terms
    return result


# ---------------------------------------------------------------- survey: the whole policy, no client address

MAX_SURVEY_LOOKUPS = 40  # a runaway policy is reported, not walked to its end


@dataclasses.dataclass
class SpfSurvey:
    """A policy read as a whole, every include and redirect followed, as if no term ever matched.

    What a publisher needs to know, and what check_host() cannot tell (it stops
    at the first match): how many DNS-lookup terms a receiver may have to
    evaluate, which of the lookups that can be made now (no sender-dependent
    macros) find nothing, and the ``all`` that ends the policy.  ``status`` is
    "ok", or none/permerror/temperror when some receivers would get that.
    """

    domain: str
    status: str = "ok"
    reason: str = ""
    record: str | None = None
    records: dict = dataclasses.field(default_factory=dict)  # domain -> record text, every record reached
    lookups: int = 0
    lookup_terms: list = dataclasses.field(default_factory=list)  # "domain: term", in evaluation order
    void_lookups: int = 0
    void_terms: list = dataclasses.field(default_factory=list)
    all: str | None = None  # the all that ends the policy, through redirects: "-all", "~all", "+all"...
    problems: list = dataclasses.field(default_factory=list)  # sentences, worst first as found

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Runaway(Exception):
    """The survey counted more than MAX_SURVEY_LOOKUPS lookups."""


class _Surveyor:
    def __init__(self, survey: SpfSurvey, dns_lookup: t.Any, timeout: float) -> None:
        self.survey = survey
        self.dns = dns_lookup
        self.timeout = timeout
        self.paths: list = []  # the include/redirect path to each counted lookup
        self.status = "ok"

    def problem(self, status: str, text: str, first: bool = False) -> None:
        self.survey.problems.insert(0 if first else len(self.survey.problems), text)
        rank = ("ok", TEMPERROR, NONE, PERMERROR)
        if rank.index(status) > rank.index(self.status):
            self.status = status

    def static_target(self, term: Term, domain: str) -> str | None:
        """The term's target when it depends on nothing but the record's own domain (%{d})."""
        if not term.tokens:
            return domain
        if any(isinstance(token, Macro) and token.letter.lower() != "d" for token in term.tokens):
            return None
        return _target(expand(term.tokens, lambda letter: domain))

    def count(self, domain: str, term: Term, path: list) -> None:
        survey = self.survey
        survey.lookups += 1
        survey.lookup_terms.append("%s: %s" % (domain, term.text))
        self.paths.append(path + [term.text])
        if survey.lookups > MAX_SURVEY_LOOKUPS:
            raise _Runaway()

    def void(self, domain: str, term: Term, answers: list) -> None:
        for answer in answers:
            if answer.status == ERROR:
                self.problem(TEMPERROR, "DNS error for %s in %s: %s" % (term.text, domain, answer.detail))
                return
        if all(answer.status != OK or not answer.records for answer in answers):
            self.survey.void_lookups += 1
            self.survey.void_terms.append("%s: %s (%s)" % (domain, term.text, answers[0].detail or "no records"))

    def walk(self, domain: str, path: list, stack: list) -> str | None:
        """Read ``domain``'s record and everything it leads to; returns the all that ends it."""
        answer = self.dns.lookup(domain, "TXT", self.timeout)
        via = _reached(path)
        if answer.status == ERROR:
            self.problem(TEMPERROR, "DNS error looking up the SPF record of %s%s: %s" % (domain, via, answer.detail))
            return None
        records = select_records(answer.records) if answer.status == OK else []
        if not records:
            self.problem(PERMERROR if path else NONE, "%s has no SPF record%s" % (domain, via))
            return None
        if len(records) > 1:
            self.problem(PERMERROR, "%s publishes %d SPF records%s; exactly one is allowed" % (domain, len(records), via))
            return None
        self.survey.records[domain] = records[0]
        try:
            record = parse_record(records[0])
        except SpfSyntaxError as exc:
            self.problem(PERMERROR, "the SPF record of %s%s is invalid: %s" % (domain, via, exc))
            return None
        for term in record.terms:
            if term.kind == "modifier" or term.name not in LOOKUP_MECHANISMS:
                continue
            self.count(domain, term, path)
            target = self.static_target(term, domain)
            if target is None or term.name == "ptr":
                continue  # depends on the sender or the client address
            if dns_name(target) is None:
                continue
            if term.name == "include":
                if target.lower() in stack:
                    self.problem(PERMERROR, "%s in %s loops back to %s" % (term.text, domain, target))
                else:
                    self.walk(target, path + [term.text], stack + [target.lower()])
            elif term.name == "a":
                self.void(domain, term, [self.dns.lookup(target, rdtype, self.timeout) for rdtype in ("A", "AAAA")])
            elif term.name == "exists":
                self.void(domain, term, [self.dns.lookup(target, "A", self.timeout)])
            else:
                mx = self.dns.lookup(target, "MX", self.timeout)
                self.void(domain, term, [mx])
                hosts = [host for _pref, host in mx.records if host] if mx.status == OK else []
                if len(hosts) > MAX_MX_NAMES:
                    self.problem(PERMERROR, "%s in %s: %s has %d MX hosts; SPF allows %d"
                                 % (term.text, domain, target, len(hosts), MAX_MX_NAMES))
        if record.all is not None:
            return record.all.text
        redirect = record.redirect
        if redirect is None:
            return None
        self.count(domain, redirect, path)
        target = self.static_target(redirect, domain)
        if target is None:
            return None
        if target.lower() in stack:
            self.problem(PERMERROR, "%s in %s loops back to %s" % (redirect.text, domain, target))
            return None
        return self.walk(target, path + [redirect.text], stack + [target.lower()])


def survey(domain: str, *, resolver: t.Any, timeout: float) -> SpfSurvey:
    """Read ``domain``'s whole SPF policy (see SpfSurvey): the facts behind the email.spf check.

    Lookup counting follows RFC 7208 4.6.4 with every term evaluated: include,
    a, mx, ptr, exists and redirect count once each, wherever they are.
    """
    domain = domain.strip().rstrip(".")
    result = SpfSurvey(domain=domain)
    walker = _Surveyor(result, lookup_for(resolver), timeout)
    try:
        result.all = walker.walk(domain, [], [domain.lower()])
    except _Runaway:
        walker.problem(PERMERROR, "stopped reading after %d DNS lookups" % MAX_SURVEY_LOOKUPS)
    result.record = result.records.get(domain)
    if result.lookups > MAX_LOOKUPS:
        walker.problem(PERMERROR, "SPF makes %s%d DNS lookups; the limit is %d: lookup %d is %s%s" % (
            "at least " if result.lookups > MAX_SURVEY_LOOKUPS else "", result.lookups, MAX_LOOKUPS,
            MAX_LOOKUPS + 1, walker.paths[MAX_LOOKUPS][-1], _reached(walker.paths[MAX_LOOKUPS][:-1])), first=True)
    if result.void_lookups > MAX_VOID_LOOKUPS:
        walker.problem(PERMERROR, "%d SPF lookups find nothing; the limit is %d: %s"
                       % (result.void_lookups, MAX_VOID_LOOKUPS, "; ".join(result.void_terms)), first=True)
    result.status = walker.status
    if result.problems:
        result.reason = result.problems[0]
    else:
        result.reason = "%d DNS lookups (limit %d), %d finding nothing (limit %d), ends with %s" % (
            result.lookups, MAX_LOOKUPS, result.void_lookups, MAX_VOID_LOOKUPS, result.all or "no all")
    return result

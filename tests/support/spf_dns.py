"""A real DNS server (UDP and TCP) serving the zonedata of the openspf/RFC 7208 test suites.

Knot cannot serve that data faithfully (TIMEOUT entries, a TXT record with no
strings, labels with spaces and slashes, record order that matters), so this
server answers from the scenario's zonedata as the suite's reference driver
(pyspf's test/testspf.py) reads it:

- an SPF entry is also published as TXT unless the name has a TXT entry;
  "TXT: NONE" only switches that off;
- TIMEOUT: a question for that name gets no answer at all, unless a record of
  the asked type came before the TIMEOUT in the list;
- a name missing from the data gets NXDOMAIN (a timeout if it starts "error.");
  a name that exists gets NODATA for other types; CNAMEs are followed within
  the data, as an authoritative server does;
- records go out in the order of the data (dnspython would shuffle them), so
  "the first 10 PTR names" means what the suite means.

One server, zonedata swapped per test with ``load``; threads of the test
process, so ``stop()`` leaves nothing behind.  Port 0 picks a free port, so
parallel test processes never collide.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import typing as t

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SPF
import dns.rdtypes.ANY.TXT
import dns.rrset

TIMEOUT = "TIMEOUT"
MAX_CHASE = 8


def name_of(text: str) -> dns.name.Name:
    """A name from its text with the labels taken literally (':', '/', ' ' and '%' included)."""
    text = text[:-1] if text.endswith(".") else text
    if not text:
        return dns.name.root
    return dns.name.Name([label.encode("utf-8") for label in text.split(".")] + [b""])


def key_of(name: dns.name.Name) -> str:
    return ".".join(label.decode("utf-8", "surrogateescape") for label in name.labels if label).lower()


def _strings(value: t.Any) -> list:
    """TXT strings, as UTF-8 like the reference driver, cut to 255 octets each."""
    pieces = [value] if isinstance(value, str) else list(value)
    out = []
    for piece in pieces:
        data = str(piece).encode("utf-8")
        out.extend([data[i:i + 255] for i in range(0, len(data), 255)] if data else [b""])
    return out


def _rdata(rdtype: str, value: t.Any) -> dns.rdata.Rdata:
    IN = dns.rdataclass.IN
    if rdtype in ("A", "AAAA"):
        if not isinstance(value, str):
            raise ValueError("%s value %r is not text" % (rdtype, value))
        return dns.rdata.from_text(IN, rdtype, value)
    if rdtype == "MX":
        preference, host = value
        return dns.rdtypes.ANY.MX.MX(IN, dns.rdatatype.MX, int(preference), name_of(str(host)))
    if rdtype == "PTR":
        return dns.rdtypes.ANY.PTR.PTR(IN, dns.rdatatype.PTR, name_of(value))
    if rdtype == "CNAME":
        return dns.rdtypes.ANY.CNAME.CNAME(IN, dns.rdatatype.CNAME, name_of(value))
    if rdtype in ("TXT", "SPF"):
        strings = _strings(value)
        if not strings:  # "null text": illegal in DNS, served as an empty RDATA all the same
            return dns.rdata.GenericRdata(IN, dns.rdatatype.from_text(rdtype), b"")
        cls = dns.rdtypes.ANY.TXT.TXT if rdtype == "TXT" else dns.rdtypes.ANY.SPF.SPF
        return cls(IN, dns.rdatatype.from_text(rdtype), strings)
    raise ValueError("unsupported record type %s" % rdtype)


def compile_zonedata(zonedata: dict) -> dict:
    """{lower-case name: [TIMEOUT | (rdtype, rdata)]} from a scenario's zonedata."""
    out = {}
    for name, entries in zonedata.items():
        items: list = []
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        copies = []
        for entry in entries:
            if entry == TIMEOUT:
                items.append(TIMEOUT)
                continue
            for rdtype, value in entry.items():
                if value == "NONE":
                    continue
                if rdtype == "SPF" and not has_txt:
                    copies.append(("TXT", value))
                items.append((rdtype, _rdata(rdtype, value)))
        items.extend((rdtype, _rdata(rdtype, value)) for rdtype, value in copies)
        out[str(name).rstrip(".").lower()] = items
    return out


class ZoneDataDNS:
    """Serve compiled zonedata on ``address``:``port`` over UDP and TCP."""

    def __init__(self, address: str = "127.0.0.80", port: int = 0) -> None:
        self.address, self.port = address, port
        self.zone: dict = {}
        self.questions = 0
        self._stop = threading.Event()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list = []

    def load(self, zonedata: dict) -> None:
        """Serve ``zonedata`` (as in the YAML suite) from now on."""
        self.zone = compile_zonedata(zonedata)

    def start(self) -> "ZoneDataDNS":
        for _attempt in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.address, self.port))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.address, port))
            except OSError:
                udp.close()
                tcp.close()
                if self.port:
                    raise
                continue
            tcp.listen(16)
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise RuntimeError("no free port on %s for both UDP and TCP" % self.address)
        for target, label in ((self._serve_udp, "udp"), (self._serve_tcp, "tcp")):
            thread = threading.Thread(target=target, name="spf-dns-%s@%s" % (label, self.address), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads = []
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    # -- answering

    def answer(self, wire: bytes, limit: int | None) -> bytes | None:
        """The reply to one query, or None to stay silent (TIMEOUT or not DNS)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        self.questions += 1
        if not query.question:
            return None
        question = query.question[0]
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        rcode = self._resolve(question.name, question.rdtype, response)
        if rcode is None:
            return None
        response.set_rcode(rcode)
        if limit is None:
            return response.to_wire(want_shuffle=False)
        try:
            return response.to_wire(max_size=limit, want_shuffle=False)
        except dns.exception.TooBig:
            short = dns.message.make_response(query)
            short.flags |= dns.flags.AA | dns.flags.TC
            return short.to_wire()

    def _resolve(self, qname: dns.name.Name, rdtype: int, response: dns.message.Message) -> int | None:
        zone = self.zone
        name = qname
        for _hop in range(MAX_CHASE):
            key = key_of(name)
            entries = zone.get(key)
            if entries is None:
                if key.startswith("error."):
                    return None
                exists = any(other.endswith("." + key) for other in zone)  # an empty non-terminal
                return dns.rcode.NOERROR if exists else dns.rcode.NXDOMAIN
            found, cname = [], None
            for entry in entries:
                if entry == TIMEOUT:
                    if not found:
                        return None
                    break
                entry_type, rdata = entry
                if rdata.rdtype == rdtype:
                    found.append(rdata)
                elif entry_type == "CNAME" and cname is None:
                    cname = rdata
            if found:
                self._add(response, name, found)
                return dns.rcode.NOERROR
            if cname is None or rdtype == dns.rdatatype.CNAME:
                return dns.rcode.NOERROR
            self._add(response, name, [cname])
            if any(rrset.name == cname.target and rrset.rdtype == dns.rdatatype.CNAME for rrset in response.answer):
                return dns.rcode.NOERROR  # a CNAME loop: the chain so far, as servers do
            name = cname.target
        return dns.rcode.NOERROR

    @staticmethod
    def _add(response: dns.message.Message, name: dns.name.Name, rdatas: list) -> None:
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdatas[0].rdtype)
        for rdata in rdatas:
            rrset.add(rdata, ttl=60)
        response.answer.append(rrset)

    # -- transports

    def _serve_udp(self) -> None:
        sock = self._udp
        while not self._stop.is_set():
            ready, _w, _x = select.select([sock], [], [], 0.1)
            if not ready:
                continue
            try:
                wire, peer = sock.recvfrom(65535)
            except OSError:
                return
            try:
                query = dns.message.from_wire(wire)
                limit = max(512, query.payload) if query.edns >= 0 else 512
            except dns.exception.DNSException:
                continue
            reply = self.answer(wire, limit)
            if reply is not None:
                sock.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        sock = self._tcp
        while not self._stop.is_set():
            ready, _w, _x = select.select([sock], [], [], 0.1)
            if not ready:
                continue
            try:
                conn, _peer = sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve_conn, args=(conn,), daemon=True)
            thread.start()

    def _serve_conn(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.2)
            buffer = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
                    size = struct.unpack("!H", buffer[:2])[0]
                    wire, buffer = buffer[2:2 + size], buffer[2 + size:]
                    reply = self.answer(wire, None)
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)

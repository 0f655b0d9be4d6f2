# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One TLS handshake with one address for one name, with a timeout, said plainly.

Every TLS check goes through ``handshake`` (or ``handshake_cached`` inside a run):
the outcome is a ``TlsResult`` whose ``error`` is a short class (timeout, refused,
reset, closed, handshake, unsupported, unreachable, config, error), never an
exception, so a fault ends as ``error`` in a finding and never as a pass.

Trust is the system store plus the site's ``launch_ca_bundle``.  The system store
is OpenSSL's compiled-in default file and directory, read on purpose without the
SSL_CERT_FILE / SSL_CERT_DIR environment variables, so a stray variable in the
controller's environment can neither widen nor narrow what the audit trusts.

Plain Python (stdlib ssl + cryptography): no Ansible imports.
"""

from __future__ import annotations

import _ssl  # the chain's Certificate objects take their encoding constants from here
import dataclasses
import errno
import os
import re
import socket
import ssl
import threading
import time
import typing as t
import warnings

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the plugins
    HAS_CRYPTOGRAPHY = False

# Error classes of a TlsResult ("" means the handshake completed).
TIMEOUT = "timeout"          # no connection or no handshake within the timeout
REFUSED = "refused"          # nothing listens on the port
RESET = "reset"              # the peer reset the connection (RST)
CLOSED = "closed"            # the peer closed the connection mid-handshake (EOF)
HANDSHAKE = "handshake"      # the peer answered with a TLS alert / the handshake failed
UNSUPPORTED = "unsupported"  # this OpenSSL cannot offer what was asked (e.g. SSLv3)
UNREACHABLE = "unreachable"  # no route to the address
CONFIG = "config"            # bad input: unreadable CA bundle, unknown version name
ERROR = "error"              # anything else

# Errors that say the server refused what was offered (as opposed to being unreachable).
REJECTED = (HANDSHAKE, CLOSED, RESET)

VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
OLD_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1")

_TLS_VERSION = {
    "SSLv3": ssl.TLSVersion.SSLv3,
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}

# Whether the local OpenSSL can offer a version at all (Debian's OpenSSL 3 is built without SSLv3).
CAN_OFFER = {
    "SSLv3": ssl.HAS_SSLv3,
    "TLSv1": ssl.HAS_TLSv1,
    "TLSv1.1": ssl.HAS_TLSv1_1,
    "TLSv1.2": ssl.HAS_TLSv1_2,
    "TLSv1.3": ssl.HAS_TLSv1_3,
}

# OpenSSL 3 refuses pre-1.2 protocols at its default security level, so a probe
# for them would never reach the server: offer everything, at level 0.
_LEGACY_CIPHERS = "ALL:@SECLEVEL=0"

# Reasons OpenSSL gives when it cannot even build a ClientHello for the request.
_LOCAL_REASONS = ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM")


@dataclasses.dataclass
class TlsResult:
    """What one handshake showed.

    ``chain`` holds the certificates the server sent (DER, leaf first, in the
    order sent); ``chain_source`` says whether that is the full sent chain or only
    the leaf (a Python without ``get_unverified_chain``).  With ``verify``,
    ``verified`` says whether OpenSSL accepted chain and hostname; when it did not,
    ``verify_code``/``verify_message`` carry OpenSSL's reason and the other fields
    come from a second, unverified handshake so the certificates can still be read.
    """

    address: str
    port: int
    server_name: str
    verify: bool
    min_version: str | None = None
    max_version: str | None = None
    error: str = ""
    detail: str = ""
    version: str | None = None
    cipher: str | None = None
    chain: list = dataclasses.field(default_factory=list)
    chain_source: str = ""
    verified: bool | None = None
    verify_code: int | None = None
    verify_message: str = ""
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """The handshake completed (whatever the verification said)."""
        return not self.error

    def certificates(self) -> list:
        """The sent chain as cryptography certificates (unparseable ones are left out)."""
        out = []
        for der in self.chain:
            try:
                out.append(x509.load_der_x509_certificate(der))
            except ValueError:
                continue
        return out

    def describe_error(self) -> str:
        """A sentence fragment for findings: what went wrong and where."""
        return "%s (%s)" % (self.error, self.detail) if self.detail else self.error

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["chain"] = len(self.chain)
        return data


# --- trust ------------------------------------------------------------------

_cache_lock = threading.Lock()
_contexts: dict = {}
_anchors: dict = {}
# Setting TLS 1.0/1.1 on a context warns (DeprecationWarning) in Python 3.10+;
# the probe means it, so the warning is silenced, under a lock because
# warnings.catch_warnings is process-wide.
_warnings_lock = threading.Lock()


def system_store() -> tuple:
    """OpenSSL's compiled-in CA file and directory, whichever exist: (cafile|None, capath|None)."""
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if paths.openssl_cafile and os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if paths.openssl_capath and os.path.isdir(paths.openssl_capath) else None
    return cafile, capath


def _file_key(path: str | None) -> tuple:
    if not path:
        return (None,)
    st = os.stat(path)
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size)


_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _read_pem_certificates(path: str) -> list:
    """Every certificate of a PEM file, one by one: a single odd CA in the system
    store (cryptography warns about, and will one day refuse, negative serials)
    must not cost the whole store."""
    with open(path, "rb") as fh:
        data = fh.read()
    certs = []
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in _PEM_CERT.findall(data):
            try:
                certs.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return certs


def trust_anchors(ca_bundle: str | None) -> list:
    """The certificates trusted by the probe: system store plus ``ca_bundle``.

    Raises OSError/ValueError when ``ca_bundle`` cannot be read or parsed.
    """
    cafile, capath = system_store()
    key = (_file_key(cafile), capath, _file_key(ca_bundle))
    with _cache_lock:
        if key in _anchors:
            return _anchors[key]
    certs: list = []
    if cafile:
        certs.extend(_read_pem_certificates(cafile))
    elif capath:  # no bundle file: read the hashed directory instead
        for entry in sorted(os.listdir(capath)):
            full = os.path.join(capath, entry)
            try:
                certs.extend(_read_pem_certificates(full))
            except (OSError, ValueError):
                continue
    if ca_bundle:
        extra = _read_pem_certificates(ca_bundle)
        if not extra:
            raise ValueError("%s holds no PEM certificate" % ca_bundle)
        certs.extend(extra)
    with _cache_lock:
        _anchors[key] = certs
    return certs


def _context(verify: bool, ca_bundle: str | None, min_version: str | None, max_version: str | None) -> ssl.SSLContext:
    key = (verify, _file_key(ca_bundle) if verify else None, min_version, max_version)
    with _cache_lock:
        ctx = _contexts.get(key)
    if ctx is not None:
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        cafile, capath = system_store()
        if cafile or capath:
            ctx.load_verify_locations(cafile=cafile, capath=capath)
        if ca_bundle:
            ctx.load_verify_locations(cafile=ca_bundle)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    legacy = any(v in OLD_VERSIONS for v in (min_version, max_version) if v)
    if legacy:
        ctx.set_ciphers(_LEGACY_CIPHERS)
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if min_version:
            ctx.minimum_version = _TLS_VERSION[min_version]
        if max_version:
            ctx.maximum_version = _TLS_VERSION[max_version]
    with _cache_lock:
        _contexts.setdefault(key, ctx)
    return ctx


# --- the handshake -----------------------------------------------------------

def _classify(exc: BaseException) -> tuple:
    """(error class, detail) for an exception raised by connect or handshake."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT, "no handshake within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED, "connection refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return RESET, "connection reset by the server"
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return CLOSED, "the server closed the connection during the handshake"
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or ""
        if reason in _LOCAL_REASONS:
            return UNSUPPORTED, "this OpenSSL cannot offer it (%s)" % reason
        return HANDSHAKE, reason or str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        return UNREACHABLE, "%s" % (exc.strerror or exc)
    return ERROR, "%s: %s" % (type(exc).__name__, exc)


def _sent_chain(sock: t.Any) -> tuple:
    """(DER certificates as sent, source) for a finished handshake (SSLObject or SSLSocket)."""
    public = getattr(sock, "get_unverified_chain", None)  # Python 3.13+
    if public is not None:
        return [bytes(c) for c in public()], "sent"
    sslobj = getattr(sock, "_sslobj", None)
    private = getattr(sslobj, "get_unverified_chain", None)  # Python 3.10-3.12
    if private is not None:
        chain = private() or []
        return [c.public_bytes(_ssl.ENCODING_DER) for c in chain], "sent"
    leaf = sock.getpeercert(binary_form=True)
    return ([leaf] if leaf else []), "leaf only (this Python cannot list the sent chain)"


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("deadline passed")
    return left


def _drive(raw: socket.socket, ctx: ssl.SSLContext, server_name: str, deadline: float) -> ssl.SSLObject:
    """Run the handshake over memory BIOs, every read and write bounded by ``deadline``.

    Driving the bytes ourselves (rather than ``wrap_socket``) keeps the whole
    handshake inside one deadline, however the server trickles, and keeps the TCP
    socket ours to close: ``wrap_socket`` leaks its SSLSocket when the peer resets
    before the handshake starts.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    while True:
        try:
            tls.do_handshake()
            finished = True
        except ssl.SSLWantReadError:
            finished = False
        except ssl.SSLError:
            pending = outgoing.read()  # our alert, if any: tell the server why we hang up
            if pending:
                try:
                    raw.settimeout(_remaining(deadline))
                    raw.sendall(pending)
                except OSError:
                    pass
            raise
        pending = outgoing.read()
        if pending:
            raw.settimeout(_remaining(deadline))
            raw.sendall(pending)
        if finished:
            return tls
        raw.settimeout(_remaining(deadline))
        data = raw.recv(65536)
        if data:
            incoming.write(data)
        else:
            incoming.write_eof()  # the next do_handshake raises SSLEOFError


def _attempt(result: TlsResult, ctx: ssl.SSLContext, timeout: float) -> Exception | None:
    """Connect and handshake once, filling ``result``; return the exception, if any."""
    deadline = time.monotonic() + timeout
    try:
        raw = socket.create_connection((result.address, result.port), timeout=timeout)
    except Exception as exc:  # classified by the caller, never raised
        return exc
    try:
        tls = _drive(raw, ctx, result.server_name, deadline)
        result.version = tls.version()
        cipher = tls.cipher()
        result.cipher = cipher[0] if cipher else None
        result.chain, result.chain_source = _sent_chain(tls)
    except Exception as exc:  # classified by the caller, never raised
        return exc
    finally:
        raw.close()
    return None


def handshake(address: str, port: int, server_name: str, *, ca_bundle: str | None, timeout: float,
              verify: bool = True, min_version: str | None = None,
              max_version: str | None = None) -> TlsResult:
    """Handshake with ``address``:``port`` using SNI ``server_name``; never raises.

    ``verify``: check chain and hostname against the system store plus
    ``ca_bundle`` (if that fails, a second unverified handshake reads the
    certificates).  ``min_version``/``max_version``: names from VERSIONS; a pre-1.2
    version really is offered (all ciphers, security level 0).
    """
    started = time.monotonic()
    result = TlsResult(address=address, port=int(port), server_name=server_name, verify=verify,
                       min_version=min_version, max_version=max_version)

    def done() -> TlsResult:
        result.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return result

    for v in (min_version, max_version):
        if v is not None and v not in _TLS_VERSION:
            result.error, result.detail = CONFIG, "unknown TLS version %r (use one of %s)" % (v, ", ".join(VERSIONS))
            return done()
    wanted = [v for v in VERSIONS if (not min_version or VERSIONS.index(v) >= VERSIONS.index(min_version))
              and (not max_version or VERSIONS.index(v) <= VERSIONS.index(max_version))]
    if not any(CAN_OFFER[v] for v in wanted):
        result.error = UNSUPPORTED
        result.detail = "this OpenSSL (%s) cannot offer %s" % (ssl.OPENSSL_VERSION, " or ".join(wanted) or "it")
        return done()
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        result.error, result.detail = CONFIG, "the Python package cryptography is required"
        return done()
    try:
        ctx = _context(verify, ca_bundle, min_version, max_version)
    except (OSError, ValueError, ssl.SSLError) as exc:
        result.error = CONFIG
        result.detail = "cannot load the CA bundle %s: %s" % (ca_bundle, getattr(exc, "strerror", None) or exc)
        return done()

    exc = _attempt(result, ctx, timeout)
    if exc is None:
        if verify:
            result.verified = True
        return done()
    if verify and isinstance(exc, ssl.SSLCertVerificationError):
        result.verified = False
        result.verify_code = exc.verify_code
        result.verify_message = exc.verify_message or str(exc)
        # Read the certificates anyway: a check must say what is wrong with them.
        exc = _attempt(result, _context(False, None, min_version, max_version), timeout)
        if exc is None:
            return done()
    result.error, result.detail = _classify(exc)
    return done()


def handshake_cached(probes: t.Any, address: str, port: int, server_name: str, *, ca_bundle: str | None,
                     timeout: float, verify: bool = True, min_version: str | None = None,
                     max_version: str | None = None) -> TlsResult:
    """``handshake`` once per (address, port, name, options) per run, shared by all checks."""
    key = ("tls", address, int(port), server_name, ca_bundle, float(timeout), verify, min_version, max_version)

    def work() -> TlsResult:
        return handshake(address, port, server_name, ca_bundle=ca_bundle, timeout=timeout, verify=verify,
                         min_version=min_version, max_version=max_version)

    try:
        value = probes.memo(key, work)
    except Exception as exc:  # handshake never raises: this is a bug, reported as an error result
        value = exc
    if isinstance(value, BaseException):
        return TlsResult(address=address, port=int(port), server_name=server_name, verify=verify,
                         min_version=min_version, max_version=max_version, error=ERROR,
                         detail="%s: %s" % (type(value).__name__, value))
    return value


# --- reading certificates ----------------------------------------------------

def issued_by(cert: "x509.Certificate", issuer: "x509.Certificate") -> bool:
    """Whether ``issuer`` signed ``cert``: names must match; the signature is checked where cryptography can.

    cryptography refuses to verify some signatures (SHA-1, for one); then the
    matching names decide, which is what a chain walk needs.
    """
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return True
    return True


def is_self_signed(cert: "x509.Certificate") -> bool:
    return issued_by(cert, cert)


def names(cert: "x509.Certificate") -> list:
    """DNS names and IP addresses of the subjectAltName, or the CN when there is none."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return san.get_values_for_type(x509.DNSName) + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def name_matches(cert: "x509.Certificate", hostname: str) -> bool:
    """RFC 6125 matching of ``hostname`` against the certificate (one left-most wildcard label)."""
    hostname = hostname.rstrip(".").lower()
    for pattern in names(cert):
        pattern = pattern.rstrip(".").lower()
        if pattern == hostname:
            return True
        if pattern.startswith("*.") and "." in hostname:
            if hostname.split(".", 1)[1] == pattern[2:]:
                return True
    return False

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stage 1 TLS checks (checks.md): tls.cert_valid, tls.cert_expiry, tls.chain_complete,
tls.protocols, tls.key_strength.

Every configured host (``launch_hosts``) is probed on port 443 at every address it
resolves to through ``launch_resolvers``, with SNI set to the host.  One verifying
handshake per (address, host) is shared by all five checks (``tls_probe.handshake_cached``);
tls.protocols adds one handshake per protocol version.  A host with several
addresses gets one finding per check: the worst address decides the status and
the summary, and ``evidence.addresses`` lists every address's status.

Why each check exists and has its impact: the ``why`` of its CheckSpec below.
"""

from __future__ import annotations

import datetime as dt
import ssl
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import dns_query, http_probe, parallel, tls_pin, tls_probe
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import verdicts as V
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:  # pragma: no cover - reported by tls_probe's results
    pass

PORT = 443
EXPIRY_FAIL_DAYS = 14
EXPIRY_WARN_DAYS = 30
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256  # P-256
# Handshakes per host x address (and per protocol version) at once.
WORKERS = 16
STRONG_HASHES = ("sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512")

# OpenSSL X509_V_ERR_* codes the findings explain in words.
_V_UNABLE_TO_GET_ISSUER_CERT = 2
_V_CERT_NOT_YET_VALID = 9
_V_CERT_HAS_EXPIRED = 10
_V_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_V_SELF_SIGNED_CERT_IN_CHAIN = 19
_V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_V_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_V_HOSTNAME_MISMATCH = 62
_V_EE_KEY_TOO_SMALL = 66
_V_CA_KEY_TOO_SMALL = 67
_V_CA_MD_TOO_WEAK = 68


class _Verdict(t.NamedTuple):
    status: str
    summary: str
    evidence: dict
    fix: str | None = None


# --- shared plumbing -----------------------------------------------------------

def _main_handshake(site: Site, probes: t.Any, host: str, address: str) -> tls_probe.TlsResult:
    """The verifying handshake every TLS check reads."""
    return tls_probe.handshake_cached(probes, address, PORT, host, ca_bundle=site.ca_bundle,
                                      timeout=site.timeout, verify=True)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cert_evidence(result: tls_probe.TlsResult, certs: list) -> dict:
    evidence = {"address": result.address, "port": result.port, "version": result.version,
                "cipher": result.cipher, "sent_chain": [c.subject.rfc4514_string() for c in certs],
                "chain_source": result.chain_source}
    if certs:
        leaf = certs[0]
        # The pin the audit's pass behind a rejected certificate connects with (tls_pin.py).
        evidence["leaf_sha256"] = tls_pin.leaf_sha256(result.chain[0])
        evidence.update({"subject": leaf.subject.rfc4514_string(), "issuer": leaf.issuer.rfc4514_string(),
                         "sans": tls_probe.names(leaf), "not_before": _when(leaf.not_valid_before_utc),
                         "not_after": _when(leaf.not_valid_after_utc)})
    return evidence


def _probe_error(host: str, result: tls_probe.TlsResult, site: Site) -> _Verdict:
    evidence = {"address": result.address, "port": result.port, "error": result.error,
                "detail": result.detail, "elapsed_ms": result.elapsed_ms}
    if result.error == tls_probe.CONFIG:
        return _Verdict(F.ERROR, "could not probe %s: %s" % (host, result.detail), evidence,
                        "Point launch_ca_bundle at a readable PEM file of CA certificates.")
    if result.error == tls_probe.TIMEOUT:
        what = "no TLS handshake within %g s" % site.timeout
    else:
        what = result.describe_error()
    return _Verdict(F.ERROR, "could not complete a TLS handshake with %s at %s:%d: %s"
                    % (host, result.address, result.port, what), evidence,
                    "Make %s answer HTTPS on %s:%d (server running, port open, certificate configured), "
                    "then re-run the audit." % (host, result.address, result.port))


def _certificates(host: str, result: tls_probe.TlsResult, site: Site) -> tuple:
    """(certificates, None) from a completed handshake, or (None, error verdict)."""
    if not result.ok:
        return None, _probe_error(host, result, site)
    certs = result.certificates()
    if not certs:
        return None, _Verdict(F.ERROR, "%s at %s sent no readable certificate" % (host, result.address),
                              {"address": result.address, "port": result.port, "version": result.version})
    return certs, None


def _per_host(spec: F.CheckSpec, site: Site, probes: t.Any,
              decide: t.Callable[[str, str], _Verdict]) -> list:
    """Run ``decide(host, address)`` for every host at every address; one finding per host."""
    hosts = list(dict.fromkeys(site.hosts))  # a host listed twice is probed once
    resolved = parallel.each_guarded(lambda h: dns_query.resolve_cached(site, probes, h), hosts, WORKERS)
    pairs = []
    by_host: dict = {h: [] for h in hosts}
    skipped: dict = {}
    for host, res in zip(hosts, resolved, strict=True):
        if isinstance(res, BaseException):
            by_host[host].append(("", _Verdict(F.ERROR, "could not resolve %s: %s" % (host, res), {})))
            continue
        if not res["addresses"]:
            statuses = sorted({"%s from %s" % (a.status, a.server) for a in res["answers"]}) or ["no resolver"]
            by_host[host].append(("", _Verdict(
                F.ERROR, "%s has no address to probe (%s)" % (host, ", ".join(statuses)),
                {"resolution": [a.to_dict() for a in res["answers"]]},
                "Publish A/AAAA records for %s (see dns.resolves), then re-run the audit." % host)))
            continue
        # The site's DNS must not decide how many handshakes the audit makes: the same cap as the http probes.
        probed = list(res["addresses"])[:http_probe.MAX_ADDRESSES_PER_NAME]
        skipped[host] = len(res["addresses"]) - len(probed)
        pairs.extend((host, a) for a in probed)
    verdicts = parallel.each_guarded(lambda pair: decide(*pair), pairs, WORKERS)
    for (host, address), verdict in zip(pairs, verdicts, strict=True):
        if isinstance(verdict, BaseException):
            verdict = _Verdict(F.ERROR, "the check failed on %s at %s: %s: %s"
                               % (host, address, type(verdict).__name__, verdict), {"address": address})
        by_host[host].append((address, verdict))

    out = []
    for host in hosts:
        items = by_host[host]
        _address, worst = V.worst(items, status=lambda item: item[1].status)
        evidence = dict(worst.evidence)
        summary = worst.summary
        if len(items) > 1:
            evidence["addresses"] = {a: v.status for a, v in items}
            leaves = {a: v.evidence["leaf_sha256"] for a, v in items if v.evidence.get("leaf_sha256")}
            if leaves:
                evidence["leaf_sha256_by_address"] = leaves
            summary += V.address_count(worst.status, [v.status for _a, v in items])
        if skipped.get(host):
            evidence["addresses_skipped"] = skipped[host]
        out.append(F.make(spec, worst.status, host, summary, evidence, worst.fix))
    return out


def _trust_text(site: Site) -> str:
    cafile, capath = tls_probe.system_store()
    text = "system store (%s)" % (cafile or capath or "none found")
    if site.ca_bundle:
        text += " + launch_ca_bundle %s" % site.ca_bundle
    return text


# --- tls.cert_valid --------------------------------------------------------------

CERT_VALID = F.CheckSpec(
    id="tls.cert_valid", impact=F.BLOCKER, stage="audit",
    title="certificate chain validates to a trusted root and the name matches, on every host",
    fix="Serve a certificate from a publicly trusted CA that names every public host, with its full chain.",
    why="Browsers show a full-page error and customers cannot buy.")


def _verify_reason(result: tls_probe.TlsResult, leaf: t.Any, host: str) -> tuple:
    """(problem sentence, fix sentence) for OpenSSL's verification failure."""
    code = result.verify_code
    issuer = leaf.issuer.rfc4514_string()
    if code == _V_DEPTH_ZERO_SELF_SIGNED_CERT:
        return ("self-signed (%s)" % leaf.subject.rfc4514_string(),
                "Replace the self-signed certificate of %s with one from a public CA (tls_acme role)." % host)
    if code == _V_HOSTNAME_MISMATCH:
        return (_mismatch_text(leaf, host),
                "Issue a certificate whose subjectAltName lists %s and serve it for that name." % host)
    if code == _V_SELF_SIGNED_CERT_IN_CHAIN:
        return ("untrusted: the chain ends at a root no client trusts (%s)" % result.verify_message,
                "Serve a certificate from a publicly trusted CA.")
    if code in (_V_UNABLE_TO_GET_ISSUER_CERT, _V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                _V_UNABLE_TO_VERIFY_LEAF_SIGNATURE):
        return ("untrusted: no path from issuer %s to a trusted root (intermediate missing, see "
                "tls.chain_complete, or a CA clients do not trust)" % issuer,
                "Serve the full chain (leaf + intermediates, e.g. fullchain.pem) from a publicly trusted CA.")
    if code == _V_CERT_HAS_EXPIRED:
        return ("expired on %s (see tls.cert_expiry)" % leaf.not_valid_after_utc.date().isoformat(),
                "Renew the certificate of %s and reload the server." % host)
    if code == _V_CERT_NOT_YET_VALID:
        return ("not valid before %s" % leaf.not_valid_before_utc.date().isoformat(),
                "Check the server clock and the certificate's notBefore, then reissue it.")
    if code in (_V_EE_KEY_TOO_SMALL, _V_CA_KEY_TOO_SMALL, _V_CA_MD_TOO_WEAK):
        return ("rejected by a modern client as too weak: %s (see tls.key_strength)" % result.verify_message,
                "Reissue the certificate with an RSA 2048+ or ECDSA P-256 key and a SHA-256 signature.")
    return ("rejected by OpenSSL: %s (code %s)" % (result.verify_message, code), None)


def _mismatch_text(leaf: t.Any, host: str) -> str:
    return "name mismatch: the certificate covers %s, not %s" % (", ".join(tls_probe.names(leaf)) or "no name", host)


@check(CERT_VALID)
def cert_valid(site: Site, probes: t.Any) -> list:
    def decide(host: str, address: str) -> _Verdict:
        result = _main_handshake(site, probes, host, address)
        certs, error = _certificates(host, result, site)
        if error:
            return error
        leaf = certs[0]
        evidence = _cert_evidence(result, certs)
        evidence["trust"] = _trust_text(site)
        if result.verified:
            return _Verdict(F.PASS, "certificate of %s at %s validates to a trusted root and matches the name "
                            "(issued by %s)" % (host, address, leaf.issuer.rfc4514_string()), evidence)
        problem, fix = _verify_reason(result, leaf, host)
        problems = [problem]
        # OpenSSL stops at its first error: say so when the name is wrong as well.
        if result.verify_code != _V_HOSTNAME_MISMATCH and not tls_probe.name_matches(leaf, host):
            problems.append(_mismatch_text(leaf, host))
        evidence.update({"verify_code": result.verify_code, "verify_message": result.verify_message,
                         "problems": problems})
        return _Verdict(F.FAIL, "certificate of %s at %s is not valid: %s" % (host, address, "; ".join(problems)),
                        evidence, fix)
    return _per_host(CERT_VALID, site, probes, decide)


# --- tls.cert_expiry ---------------------------------------------------------------

# Not raised to blocker when expired: OpenSSL rejects an expired certificate, so tls.cert_valid already
# fails it as a blocker and the risk list ranks it there, while this check keeps one impact.
CERT_EXPIRY = F.CheckSpec(
    id="tls.cert_expiry", impact=F.HIGH, stage="audit",
    title="days until the certificate's notAfter",
    fix="Renew the certificate now and make renewal automatic (see tls.auto_renew).",
    why="A certificate about to expire is an outage days away: every visit then shows a browser error.")


@check(CERT_EXPIRY)
def cert_expiry(site: Site, probes: t.Any) -> list:
    def decide(host: str, address: str) -> _Verdict:
        result = _main_handshake(site, probes, host, address)
        certs, error = _certificates(host, result, site)
        if error:
            return error
        now = dt.datetime.now(dt.timezone.utc)
        # The leaf, or a sent intermediate that runs out before it (a root sent along is ignored).
        dated = [certs[0]] + [c for c in certs[1:] if not tls_probe.is_self_signed(c)]
        cert = min(dated, key=lambda c: c.not_valid_after_utc)
        which = "certificate of %s" % host if cert is certs[0] else \
            "intermediate %s sent by %s" % (cert.subject.rfc4514_string(), host)
        not_after = cert.not_valid_after_utc
        seconds = (not_after - now).total_seconds()
        days = int(abs(seconds) // 86400)
        evidence = _cert_evidence(result, certs)
        evidence.update({"checked": cert.subject.rfc4514_string(), "checked_not_after": _when(not_after),
                         "days_left": days if seconds > 0 else -days})
        date = not_after.date().isoformat()
        if seconds <= 0:
            return _Verdict(F.FAIL, "%s at %s expired %d days ago (%s)" % (which, address, days, date), evidence,
                            "Renew the certificate of %s now and reload the server; then automate renewal "
                            "(tls.auto_renew)." % host)
        if seconds < EXPIRY_FAIL_DAYS * 86400:
            return _Verdict(F.FAIL, "%s at %s expires in %d days (%s), under the %d-day bar"
                            % (which, address, days, date, EXPIRY_FAIL_DAYS), evidence)
        if seconds < EXPIRY_WARN_DAYS * 86400:
            return _Verdict(F.WARN, "%s at %s expires in %d days (%s), under %d days"
                            % (which, address, days, date, EXPIRY_WARN_DAYS), evidence)
        return _Verdict(F.PASS, "%s at %s is valid for %d more days (until %s)" % (which, address, days, date),
                        evidence)
    return _per_host(CERT_EXPIRY, site, probes, decide)


# --- tls.chain_complete -------------------------------------------------------------

CHAIN_COMPLETE = F.CheckSpec(
    id="tls.chain_complete", impact=F.HIGH, stage="audit",
    title="the server sends every intermediate it needs",
    fix="Configure the server with the full chain (leaf followed by its intermediates, e.g. fullchain.pem).",
    why="Browsers often patch a missing intermediate from their cache or AIA, but API clients, mobile apps, webhooks "
        "and curl fail.")


@check(CHAIN_COMPLETE)
def chain_complete(site: Site, probes: t.Any) -> list:
    def decide(host: str, address: str) -> _Verdict:
        result = _main_handshake(site, probes, host, address)
        certs, error = _certificates(host, result, site)
        if error:
            return error
        evidence = _cert_evidence(result, certs)
        evidence["trust"] = _trust_text(site)
        if result.chain_source != "sent":
            return _Verdict(F.ERROR, "cannot see the chain %s sends: %s" % (host, result.chain_source), evidence,
                            "Run the audit with Python 3.10 or later.")
        leaf = certs[0]
        if tls_probe.is_self_signed(leaf):
            return _Verdict(F.SKIP, "%s at %s sends a self-signed certificate: there is no chain to complete "
                            "(see tls.cert_valid)" % (host, address), evidence)
        try:
            anchors = tls_probe.trust_anchors(site.ca_bundle)
        except (OSError, ValueError) as exc:
            return _Verdict(F.ERROR, "could not read the trust store: %s" % exc, evidence,
                            "Point launch_ca_bundle at a readable PEM file of CA certificates.")
        # Walk up from the leaf through the certificates the server sent until one
        # is issued by a trusted certificate.
        path, current, spare = [leaf], leaf, list(certs[1:])
        while True:
            anchor = next((a for a in anchors if tls_probe.issued_by(current, a)), None)
            if anchor is not None:
                evidence["path"] = [c.subject.rfc4514_string() for c in path] + \
                    ["(trusted) " + anchor.subject.rfc4514_string()]
                return _Verdict(F.PASS, "%s at %s sends a complete chain: %d certificate(s) up to %s, issued by "
                                "trusted %s" % (host, address, len(certs), current.subject.rfc4514_string(),
                                                anchor.subject.rfc4514_string()), evidence)
            parent = next((c for c in spare if tls_probe.issued_by(current, c)), None)
            if parent is None:
                break
            spare.remove(parent)
            path.append(parent)
            current = parent
            if tls_probe.is_self_signed(current):
                evidence["path"] = [c.subject.rfc4514_string() for c in path]
                return _Verdict(F.SKIP, "%s at %s sends a chain up to root %s, which is not trusted here "
                                "(see tls.cert_valid)" % (host, address, current.subject.rfc4514_string()),
                                evidence)
        evidence["path"] = [c.subject.rfc4514_string() for c in path]
        evidence["missing_issuer"] = current.issuer.rfc4514_string()
        if len(certs) == 1:
            summary = "%s at %s sends the leaf only; intermediate %s is missing" % (
                host, address, current.issuer.rfc4514_string())
        else:
            summary = "%s at %s sends %d certificates but not %s, the issuer of %s, and the trust store " \
                "does not hold it either" % (host, address, len(certs), current.issuer.rfc4514_string(),
                                             current.subject.rfc4514_string())
        return _Verdict(F.FAIL, summary, evidence)
    return _per_host(CHAIN_COMPLETE, site, probes, decide)


# --- tls.protocols ------------------------------------------------------------------

PROTOCOLS = F.CheckSpec(
    id="tls.protocols", impact=F.MEDIUM, stage="audit",
    title="TLS 1.2 and/or 1.3 offered, nothing older",
    fix="Allow only TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;) and reload the server.",
    why="TLS 1.0/1.1 accepted: no modern client is downgraded to them, but scanners (SSL Labs, PCI ASV scans) "
        "flag the site, which hurts trust.")


_MODERN = ("TLSv1.2", "TLSv1.3")
_PROBED = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_LABEL = {"SSLv3": "SSLv3", "TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}


@check(PROTOCOLS)
def protocols(site: Site, probes: t.Any) -> list:
    def probe(host: str, address: str, version: str) -> tls_probe.TlsResult:
        return tls_probe.handshake_cached(probes, address, PORT, host, ca_bundle=site.ca_bundle,
                                          timeout=site.timeout, verify=False, min_version=version,
                                          max_version=version)

    def decide(host: str, address: str) -> _Verdict:
        base = _main_handshake(site, probes, host, address)
        if not base.ok and base.error not in tls_probe.REJECTED:
            return _probe_error(host, base, site)  # unreachable: asking version by version would only wait again
        todo = [v for v in _PROBED if not (base.ok and v == base.version)]
        results = dict(zip(todo, parallel.each_guarded(lambda v: probe(host, address, v), todo, WORKERS), strict=True))
        outcome, accepted, unknown = {}, [], []
        if base.ok:
            outcome[base.version] = "accepted (negotiated by default)"
            accepted.append(base.version)
        for version, r in results.items():
            if isinstance(r, BaseException) or not (r.ok or r.error in tls_probe.REJECTED):
                outcome[version] = "unknown: %s" % (r if isinstance(r, BaseException) else r.describe_error())
                unknown.append(version)
            elif r.ok:
                outcome[version] = "accepted (%s)" % r.cipher
                accepted.append(version)
            else:
                outcome[version] = "refused (%s)" % r.detail
        if tls_probe.CAN_OFFER["SSLv3"]:
            r = probe(host, address, "SSLv3")
            outcome["SSLv3"] = "accepted" if r.ok else "refused (%s)" % r.describe_error()
            if r.ok:
                accepted.append("SSLv3")
        else:
            outcome["SSLv3"] = ("not probed: this OpenSSL (%s) is built without SSLv3 and cannot offer it"
                                % ssl.OPENSSL_VERSION)
        evidence = {"address": address, "port": PORT, "negotiated": base.version, "protocols": outcome}
        old = [v for v in tls_probe.VERSIONS if v in accepted and v in tls_probe.OLD_VERSIONS]
        modern = [v for v in _MODERN if v in accepted]
        names = ", ".join(_LABEL[v] for v in tls_probe.VERSIONS if v in accepted)
        if old:
            extra = "" if modern else "; it offers neither TLS 1.2 nor TLS 1.3"
            return _Verdict(F.FAIL, "%s at %s accepts %s (offers %s)%s" % (
                host, address, " and ".join(_LABEL[v] for v in old), names, extra), evidence)
        if unknown:
            return _Verdict(F.ERROR, "could not tell whether %s at %s accepts %s: %s" % (
                host, address, ", ".join(_LABEL[v] for v in unknown), outcome[unknown[0]]), evidence,
                "Make %s answer on %s:%d reliably, then re-run the audit." % (host, address, PORT))
        if not modern:
            if not base.ok:
                return _probe_error(host, base, site)
            return _Verdict(F.FAIL, "%s at %s offers neither TLS 1.2 nor TLS 1.3" % (host, address), evidence)
        return _Verdict(F.PASS, "%s at %s offers %s and refuses older protocols" % (host, address, names), evidence)
    return _per_host(PROTOCOLS, site, probes, decide)


# --- tls.key_strength ---------------------------------------------------------------

KEY_STRENGTH = F.CheckSpec(
    id="tls.key_strength", impact=F.HIGH, stage="audit",
    title="RSA >= 2048 bits or EC >= P-256, signature SHA-256 or better",
    fix="Reissue the certificate with an ECDSA P-256 (or RSA 2048+) key, signed with SHA-256 or better.",
    why="Modern clients reject RSA < 2048 and SHA-1 leaves (so tls.cert_valid fails too); where they still connect, "
        "the key is breakable soon.")


def _key_text(key: t.Any) -> tuple:
    """(description, weak reason or None) of a public key."""
    if isinstance(key, rsa.RSAPublicKey):
        weak = key.key_size < MIN_RSA_BITS
        return "RSA %d bits" % key.key_size, ("below RSA %d" % MIN_RSA_BITS) if weak else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        weak = key.curve.key_size < MIN_EC_BITS
        return "EC %s (%d bits)" % (key.curve.name, key.curve.key_size), "below P-256" if weak else None
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return type(key).__name__.replace("PublicKey", ""), None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA %d bits" % key.key_size, "DSA is not accepted for TLS certificates any more"
    return type(key).__name__, "unknown key type"


def _signature_text(cert: t.Any) -> tuple:
    """(signature algorithm, weak reason or None) of a certificate's own signature."""
    oid = cert.signature_algorithm_oid
    name = getattr(oid, "_name", None) or oid.dotted_string
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return name, "unknown signature hash"
    if digest is None:  # Ed25519/Ed448 hash internally
        return name, None
    if digest.name.lower() not in STRONG_HASHES:
        return name, "signed with %s, below SHA-256" % digest.name.upper()
    return name, None


@check(KEY_STRENGTH)
def key_strength(site: Site, probes: t.Any) -> list:
    def decide(host: str, address: str) -> _Verdict:
        result = _main_handshake(site, probes, host, address)
        certs, error = _certificates(host, result, site)
        if error:
            return error
        rows, problems = [], []
        for index, cert in enumerate(certs):
            if index and tls_probe.is_self_signed(cert):
                continue  # a root sent along: clients use their own copy and never check its signature
            role = "leaf" if index == 0 else "intermediate %s" % cert.subject.rfc4514_string()
            key_desc, key_weak = _key_text(cert.public_key())
            sig_desc, sig_weak = _signature_text(cert)
            rows.append({"certificate": cert.subject.rfc4514_string(), "key": key_desc, "signature": sig_desc})
            if key_weak:
                problems.append("%s key %s is %s" % (role, key_desc, key_weak))
            if sig_weak:
                problems.append("%s is %s (%s)" % (role, sig_weak, sig_desc))
        evidence = _cert_evidence(result, certs)
        evidence["keys"] = rows
        if problems:
            evidence["problems"] = problems
            return _Verdict(F.FAIL, "%s at %s: %s" % (host, address, "; ".join(problems)), evidence)
        return _Verdict(F.PASS, "%s at %s: leaf key %s, signature %s" % (
            host, address, rows[0]["key"], rows[0]["signature"]), evidence)
    return _per_host(KEY_STRENGTH, site, probes, decide)

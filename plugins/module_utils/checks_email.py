# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The email.* checks (docs: checks.md, "Email authentication"): SPF, DKIM, DMARC, alignment, MX.

Plain Python: dnspython (through ``spf.DnsLookup`` and ``dns_query``), cryptography
for the published keys and dkimpy for the signing proof.  No Ansible imports.

Every question goes to the configured resolvers (``launch_resolvers``) with
``launch_timeout``, the way a receiving mail server asks its resolver: the next
resolver is asked only when one does not answer.  A question nobody answers
(timeout, SERVFAIL, REFUSED) ends as ``error`` with its reason, never as a pass.
Each question is asked once per run (``Probes.memo``), so email.spf,
email.spf_senders and email.alignment share the SPF walk, and email.dkim and
email.alignment share the key records.

The organisational domain (DMARC fallback, relaxed alignment, external report
addresses) is found without a public suffix list: ``launch_mail_org_domain`` when
the name is at or under it, else the name's last two labels.  That is right for
example.com and shop.example.com, and wrong for names under a multi-label public
suffix such as example.co.uk: set ``launch_mail_org_domain`` there.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import ipaddress
import logging
import re
import typing as t
import urllib.parse

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported in the findings
    HAS_CRYPTOGRAPHY = False

try:
    import dkim
    HAS_DKIM = True
except ImportError:  # pragma: no cover - reported in the findings
    HAS_DKIM = False

from ansible_collections.launchready.ops.plugins.module_utils import dns_query as Q
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import parallel, spf
from ansible_collections.launchready.ops.plugins.module_utils import verdicts as V
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

STAGE = "email"
# Per-sender, per-selector and per-name work at once (the SPF walk behind a sender is longer).
WORKERS = 16

# RFC 6376 3.3.3 asks for at least 1024 bits; RFC 8301 3.2 for 2048 and says
# verifiers must not accept fewer than 1024.
DKIM_MIN_BITS = 1024
DKIM_GOOD_BITS = 2048


# ---------------------------------------------------------------- helpers

def _words(items: t.Iterable) -> str:
    items = list(items)
    return ", ".join(items) if items else "nothing"


class _MemoLookup:
    """``spf.DnsLookup`` over the configured resolvers, each question asked once per run."""

    def __init__(self, probes: t.Any, servers: list) -> None:
        self._probes = probes
        self._dns = spf.DnsLookup(servers)

    def lookup(self, name: str, rdtype: str, timeout: float) -> spf.DnsAnswer:
        key = ("email_dns", name.lower().rstrip("."), rdtype)
        return self._probes.memo(key, lambda: self._dns.lookup(name, rdtype, timeout))


def _dns(site: Site, probes: t.Any) -> _MemoLookup:
    return probes.memo(("email_dns_lookup",), lambda: _MemoLookup(probes, Q.servers_for(site.resolvers)))


def _no_resolver(spec: F.CheckSpec, site: Site) -> list | None:
    """An ``error`` finding when there is nobody to ask, else None."""
    if Q.servers_for(site.resolvers):
        return None
    return [F.make(spec, F.ERROR, site.mail_domain,
                   "No DNS resolver to ask: launch_resolvers is empty and the system has none configured.",
                   fix="Set launch_resolvers to the DNS servers to check through, e.g. ['1.1.1.1', '8.8.8.8'].")]


def _txt(site: Site, probes: t.Any, name: str) -> tuple:
    """(answer, [record text, ...]) for the TXT records of ``name``."""
    answer = _dns(site, probes).lookup(name, "TXT", site.timeout)
    texts = [spf.txt_to_text(r) for r in answer.records] if answer.status == spf.OK else []
    return answer, texts


def _unreachable(spec: F.CheckSpec, target: str, what: str, detail: str, evidence: dict) -> F.Finding:
    return F.make(spec, F.ERROR, target, "Could not check %s: %s." % (what, detail or "no answer"),
                  evidence=dict(evidence, dns_error=detail),
                  fix="Make sure every resolver in launch_resolvers answers DNS queries, then run the check again.")


def org_domain(site: Site, domain: str) -> str:
    """The organisational domain of ``domain`` (see the module docstring for the heuristic)."""
    name = domain.lower().rstrip(".")
    override = getattr(site, "mail_org_domain", None)
    if override and (name == override or name.endswith("." + override)):
        return override
    return ".".join(name.split(".")[-2:])


def aligned(site: Site, identifier: str, from_domain: str, mode: str) -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): strict is equality, relaxed is the same organisational domain."""
    a, b = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    if mode == "s":
        return a == b
    return org_domain(site, a) == org_domain(site, b)


# ---------------------------------------------------------------- email.spf

SPF = F.CheckSpec(
    "email.spf", F.HIGH, STAGE, "Exactly one valid SPF record, within the lookup limits, ending -all or ~all",
    "Publish exactly one TXT record at the mail domain, e.g. \"v=spf1 ip4:<your sending IP> include:<your mail "
    "provider> -all\", with at most 10 DNS-lookup terms in total.",
    why="Without one valid SPF record ending in -all or ~all, receivers cannot tell your mail from forgeries: order "
        "and password-reset mail lands in spam, and phishing in your name gets through.")


def _survey(site: Site, probes: t.Any, domain: str) -> spf.SpfSurvey:
    def run() -> spf.SpfSurvey:
        return spf.survey(domain, resolver=_dns(site, probes), timeout=site.timeout)
    return probes.memo(("spf_survey", domain), run)


@check(SPF)
def check_spf(site: Site, probes: t.Any) -> list:
    """The mail domain's whole SPF policy (``spf.survey``): one record, valid, within limits, strict ending.

    none, several records, a syntax error, more than 10 DNS-lookup terms or
    more than 2 void lookups (counted through every include and redirect),
    ``+all``/``?all`` and no ``all`` at all fail; a DNS fault is ``error``.
    """
    none = _no_resolver(SPF, site)
    if none:
        return none
    domain = site.mail_domain
    survey = _survey(site, probes, domain)
    evidence = survey.to_dict()
    if survey.status == spf.NONE:
        return [F.make(SPF, F.FAIL, domain,
                       "%s publishes no SPF record: receivers cannot tell your receipts from forgeries, and Gmail "
                       "and Yahoo send unauthenticated mail to spam or reject it." % domain, evidence=evidence,
                       fix="Publish one TXT record at %s: \"v=spf1 ip4:<each sending IP> include:<your mail "
                           "provider's SPF domain> -all\"." % domain)]
    if survey.status == spf.PERMERROR:
        return [F.make(SPF, F.FAIL, domain,
                       "The SPF policy of %s is broken, so receivers get 'permerror' and treat your mail as "
                       "unauthenticated: %s." % (domain, survey.reason), evidence=evidence,
                       fix=_spf_fix(survey, domain))]
    if survey.status == spf.TEMPERROR:
        return [_unreachable(SPF, domain, "the SPF policy of %s" % domain, survey.reason, evidence)]
    ending = survey.all
    if ending is None:
        if any("redirect=" in record.lower() for record in survey.records.values()):
            return [F.make(SPF, F.WARN, domain,
                           "The SPF policy of %s ends in a redirect that depends on the sender, so its final 'all' "
                           "cannot be read in advance (%d DNS lookups)." % (domain, survey.lookups),
                           evidence=evidence,
                           fix="End the record at %s with -all, or redirect to a fixed domain." % domain)]
        return [F.make(SPF, F.FAIL, domain,
                       "The SPF record of %s has no 'all' at the end, so mail from any other server gets 'neutral' "
                       "instead of being refused: %s" % (domain, survey.record), evidence=evidence,
                       fix="End the SPF record of %s with -all (or ~all while you are still finding your senders)."
                           % domain)]
    qualifier = ending[0] if ending[0] in "+-~?" else "+"
    if qualifier in "+?":
        meaning = "allows every server on the internet" if qualifier == "+" else "says nothing about other servers"
        return [F.make(SPF, F.FAIL, domain,
                       "The SPF policy of %s ends with %s, which %s to send mail as %s: anyone can forge your "
                       "receipts." % (domain, ending, meaning, domain), evidence=evidence,
                       fix="Replace %s with -all in the SPF record of %s after listing every real sender."
                           % (ending, domain))]
    note = " (~all: other servers get 'softfail'; -all is stricter once every sender is listed)" if qualifier == "~" else ""
    return [F.make(SPF, F.PASS, domain,
                   "%s has one valid SPF record ending %s, with %d of 10 DNS lookups and %d of 2 void lookups%s."
                   % (domain, ending, survey.lookups, survey.void_lookups, note), evidence=evidence)]


def _spf_fix(survey: spf.SpfSurvey, domain: str) -> str:
    reason = survey.reason
    if "DNS lookups; the limit" in reason:
        return ("Cut the DNS lookups of %s to 10 or fewer: replace include:/a/mx terms of your own servers with "
                "ip4:/ip6: ranges, and drop includes of providers you no longer use." % domain)
    if "find nothing" in reason:
        return "Remove the SPF terms that point at names with no records (listed above) from the policy of %s." % domain
    if "SPF records" in reason:
        return "Merge the SPF records of %s into one TXT record: only one v=spf1 record is allowed." % domain
    return "Fix the SPF record as described above (RFC 7208 syntax), keeping exactly one v=spf1 record at %s." % domain


# ---------------------------------------------------------------- email.spf_senders

SPF_SENDERS = F.CheckSpec(
    "email.spf_senders", F.HIGH, STAGE, "Every sending IP passes SPF",
    "Add each sending IP to the SPF record (ip4:/ip6:, or the include: of your mail provider).",
    why="A sending IP that SPF does not allow gets its mail (order confirmations, password resets) rejected or put "
        "in spam.")


def _spf_results(site: Site, probes: t.Any) -> dict:
    """check_host() of every configured sender for the envelope domain: {ip: SpfResult}, once per run."""
    domain = site.mail_envelope_domain or site.mail_domain

    def run() -> dict:
        def one(ip: str) -> spf.SpfResult:
            return spf.check_host(ip, domain, "postmaster@%s" % domain, resolver=_dns(site, probes),
                                  timeout=site.timeout)
        return parallel.each_by(one, list(site.mail_senders), WORKERS)
    return probes.memo(("spf_senders", domain, tuple(site.mail_senders)), run)


@check(SPF_SENDERS)
def check_spf_senders(site: Site, probes: t.Any) -> list:
    """RFC 7208 check_host() for each of launch_mail_senders: pass, or fail with the term that decided.

    The domain is the envelope sender's (launch_mail_envelope_domain, default the
    mail domain).  temperror is ``error``; every other result but pass fails.
    """
    if not site.mail_senders:
        return [F.make(SPF_SENDERS, F.SKIP, site.mail_domain,
                       "Not checked: launch_mail_senders lists no sending IP addresses.")]
    none = _no_resolver(SPF_SENDERS, site)
    if none:
        return none
    domain = site.mail_envelope_domain or site.mail_domain
    out = []
    for ip, result in _spf_results(site, probes).items():
        evidence = dict(result.to_dict(), sender=ip, envelope_domain=domain)
        via = " (via %s)" % " -> ".join(result.path[:-1]) if len(result.path) > 1 else ""
        counted = "%d DNS lookup%s" % (result.lookups, "" if result.lookups == 1 else "s")
        if result.result == spf.PASS:
            out.append(F.make(SPF_SENDERS, F.PASS, ip,
                              "%s may send mail for %s: SPF pass by %s%s (%s)."
                              % (ip, domain, result.mechanism or "the policy", via, counted), evidence=evidence))
        elif result.result == spf.TEMPERROR:
            out.append(_unreachable(SPF_SENDERS, ip, "whether %s may send for %s" % (ip, domain),
                                    result.reason, evidence))
        elif result.result == spf.NONE:
            out.append(F.make(SPF_SENDERS, F.FAIL, ip,
                              "Mail from %s for %s gets SPF 'none': %s publishes no SPF record, so receivers cannot "
                              "authenticate it." % (ip, domain, domain), evidence=evidence,
                              fix="Publish an SPF record at %s that lists %s (see email.spf)." % (domain, ip)))
        elif result.result == spf.PERMERROR:
            out.append(F.make(SPF_SENDERS, F.FAIL, ip,
                              "Mail from %s for %s gets SPF %s (%s), so receivers cannot authenticate it."
                              % (ip, domain, result.result, result.reason), evidence=evidence,
                              fix="Fix the SPF record of %s (see email.spf), then make sure it lists %s."
                                  % (domain, ip)))
        else:
            out.append(F.make(SPF_SENDERS, F.FAIL, ip,
                              "%s is not allowed to send mail for %s: SPF %s by %s%s (%s); receivers will reject "
                              "or spam-folder its receipts." % (ip, domain, result.result,
                                                                result.mechanism or "the default", via, counted),
                              evidence=evidence,
                              fix="Add ip%d:%s to the SPF record of %s (before its 'all'), or stop sending from it."
                                  % (ipaddress.ip_address(ip).version, ip, domain)))
    return out


# ---------------------------------------------------------------- email.dkim

DKIM = F.CheckSpec(
    "email.dkim", F.HIGH, STAGE, "Each DKIM selector publishes a good key that the deployed private key matches",
    "Publish \"v=DKIM1; k=rsa; p=<base64 public key>\" at SELECTOR._domainkey.DOMAIN for a 2048-bit RSA key, and "
    "sign with the matching private key (the email_auth role does both).",
    why="Without a good DKIM key that the sender really signs with, receivers cannot verify the mail: it fails DMARC "
        "and lands in spam or is rejected.")

_TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class TagListError(ValueError):
    """A DKIM/DMARC tag-list does not parse (RFC 6376 3.2)."""


def parse_tag_list(text: str) -> dict:
    """RFC 6376 3.2 tag=value list: {tag: value}, whitespace around tags and values removed.

    A duplicate tag or an item without '=' raises TagListError; empty items
    (a trailing ';') are skipped.
    """
    tags: dict = {}
    for item in text.split(";"):
        if not item.strip():
            continue  # a trailing ';' (allowed), or an empty item receivers skip as well
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not _TAG_RE.match(name):
            raise TagListError("%r is not tag=value" % item.strip())
        if name in tags:
            raise TagListError("tag %s= appears twice" % name)
        tags[name] = value.strip()
    return tags


def _selector_domain(site: Site, entry: str) -> tuple:
    """(selector, domain) of a launch_dkim_selectors entry: "sel" (at the mail domain) or "sel@domain"."""
    selector, _at, domain = entry.partition("@")
    return selector.strip(), (domain.strip().rstrip(".").lower() or site.mail_domain)


def _public_key(tags: dict) -> tuple:
    """(key object, kind, bits) of a parsed DKIM key record, or raise ValueError saying what is wrong."""
    kind = tags.get("k", "rsa").lower()
    raw = re.sub(r"\s+", "", tags["p"])
    try:
        der = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("p= is not valid base64") from None
    if kind == "rsa":
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm):
            try:  # a bare RSAPublicKey (PKCS#1), which verifiers also accept
                pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END RSA PUBLIC KEY-----\n"
                key = serialization.load_pem_public_key(pem)
            except (ValueError, UnsupportedAlgorithm):
                raise ValueError("p= does not hold an RSA public key") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("k=rsa but p= holds a %s key" % type(key).__name__.replace("PublicKey", ""))
        return key, "rsa", key.key_size
    if kind == "ed25519":
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(der), "ed25519", 256
        except ValueError:
            raise ValueError("p= does not hold a 32-byte Ed25519 public key") from None
    raise ValueError("k=%s is not a key type receivers know (rsa or ed25519)" % kind)


def _fingerprint(key: t.Any) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()[:16]


def inspect_key_record(text: str) -> dict:
    """What a DKIM key record (RFC 6376 3.6.1) says and what is wrong with it.

    Returns {"tags", "problems": [(status, sentence)], "key", "kind", "bits",
    "fingerprint", "revoked", "testing"}; ``key`` is None when unusable.
    """
    info: dict = {"tags": {}, "problems": [], "key": None, "kind": None, "bits": None, "fingerprint": None,
                  "revoked": False, "testing": False}
    problems = info["problems"]
    try:
        tags = parse_tag_list(text)
    except TagListError as exc:
        problems.append((F.FAIL, "the record is not a valid tag list (%s)" % exc))
        return info
    info["tags"] = tags
    if "v" in tags and (tags["v"] != "DKIM1" or next(iter(tags)) != "v"):
        problems.append((F.FAIL, "v= must be the first tag and say DKIM1 (found v=%s)" % tags["v"]))
    if "p" not in tags:
        problems.append((F.FAIL, "the record has no p= (public key) tag"))
        return info
    if not re.sub(r"\s+", "", tags["p"]):
        info["revoked"] = True
        problems.append((F.FAIL, "the key is revoked (empty p=): every signature made with this selector fails"))
        return info
    hashes = [h.strip().lower() for h in tags.get("h", "sha256").split(":") if h.strip()]
    if "h" in tags and "sha256" not in hashes:
        problems.append((F.FAIL, "h=%s allows only hashes receivers no longer accept; list sha256" % tags["h"]))
    services = [s.strip().lower() for s in tags.get("s", "*").split(":") if s.strip()]
    if "*" not in services and "email" not in services:
        problems.append((F.FAIL, "s=%s says the key is not for email" % tags["s"]))
    flags = [f.strip().lower() for f in tags.get("t", "").split(":") if f.strip()]
    if "y" in flags:
        info["testing"] = True
        problems.append((F.WARN, "t=y marks the domain as testing DKIM: receivers may ignore failures and passes"))
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        problems.append((F.ERROR, "the cryptography library is not installed, so the key cannot be read"))
        return info
    try:
        key, kind, bits = _public_key(tags)
    except ValueError as exc:
        problems.append((F.FAIL, "the key is malformed: %s" % exc))
        return info
    info.update(key=key, kind=kind, bits=bits, fingerprint=_fingerprint(key))
    if kind == "rsa" and bits < DKIM_MIN_BITS:
        problems.append((F.FAIL, "the RSA key has only %d bits; receivers reject keys under %d" % (bits, DKIM_MIN_BITS)))
    elif kind == "rsa" and bits < DKIM_GOOD_BITS:
        problems.append((F.WARN, "the RSA key has %d bits; %d is the current minimum (RFC 8301)" % (bits, DKIM_GOOD_BITS)))
    return info


class _CollectLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _proof_message(domain: str, selector: str) -> bytes:
    lines = [
        "From: Launch check <postmaster@%s>" % domain,
        "To: DKIM verifier <verify@%s>" % domain,
        "Subject: DKIM signing proof for %s._domainkey.%s" % (selector, domain),
        "Date: %s" % email.utils.formatdate(localtime=False),
        "Message-ID: %s" % email.utils.make_msgid(domain=domain),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Your order #1001 has shipped.",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def _load_private_key(pem: bytes) -> t.Any:
    """The key of a PEM file.  RSA consistency checks are skipped (they cost ~30 ms a key): only the
    public numbers are read here, and a broken private key makes dkimpy's signature fail the proof."""
    try:
        return serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:  # cryptography < 39 has no such switch
        if "unsafe_skip_rsa_key_validation" not in str(exc):
            raise
        return serialization.load_pem_private_key(pem, password=None)


def signing_proof(site: Site, probes: t.Any, selector: str, domain: str, key_path: str, published: t.Any) -> dict:
    """Sign a message with the private key at ``key_path`` (dkimpy) and verify it against DNS.

    dkimpy fetches the key record through ``dnsfunc``, which asks the configured
    resolvers with launch_timeout.  Returns {"status", "summary", ...evidence}:
    pass (verified), fail (unusable key, key mismatch, signature rejected) or
    error (the key cannot be read, DNS did not answer, dkimpy missing).
    """
    out: dict = {"private_key": key_path}
    if not HAS_DKIM:  # pragma: no cover
        return dict(out, status=F.ERROR, summary="the signing proof needs dkimpy on the controller (pip install dkimpy)")
    try:
        with open(key_path, "rb") as fh:
            pem = fh.read()
    except OSError as exc:
        return dict(out, status=F.ERROR, summary="the private key %s cannot be read (%s)" % (key_path, exc.strerror or exc))
    try:
        private = _load_private_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return dict(out, status=F.FAIL, summary="%s is not a usable unencrypted PEM private key (%s)" % (key_path, exc))
    if not isinstance(private, rsa.RSAPrivateKey):
        return dict(out, status=F.FAIL, summary="%s holds a %s key; the signing proof needs the RSA key of the selector"
                    % (key_path, type(private).__name__.replace("PrivateKey", "").lstrip("_")))
    deployed = _fingerprint(private.public_key())
    out["deployed_key"] = deployed
    mismatch = published is not None and deployed != _fingerprint(published)
    state: dict = {"asked": []}

    def dnsfunc(name: t.Any, timeout: float = 5) -> bytes | None:
        name = name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
        state["asked"].append(name)
        answer = _dns(site, probes).lookup(name, "TXT", min(float(timeout), site.timeout))
        if answer.status == spf.ERROR:
            state["dns_error"] = answer.detail
            raise dkim.DnsTimeoutError(answer.detail)
        if answer.status != spf.OK or not answer.records:
            return None
        return answer.records[0]

    handler = _CollectLog()
    logger = logging.Logger("launchready.dkim_proof")
    logger.addHandler(handler)
    logger.propagate = False
    message = _proof_message(domain, selector)
    try:
        signature = dkim.sign(message, selector.encode("ascii"), domain.encode("ascii"), pem,
                              include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], logger=logger)
        verified = dkim.verify(signature + message, logger=logger, dnsfunc=dnsfunc, timeout=site.timeout)
    except dkim.DKIMException as exc:
        return dict(out, status=F.FAIL, summary="dkimpy could not sign with %s (%s)" % (key_path, exc))
    out.update(verified=bool(verified), dns_asked=state["asked"], verifier_log=handler.lines[-5:])
    if state.get("dns_error"):
        return dict(out, status=F.ERROR, summary="the verifier's key lookup got no answer (%s)" % state["dns_error"])
    if mismatch or not verified:
        why = "; ".join(handler.lines[-2:]) or "the signature does not match the published key"
        return dict(out, status=F.FAIL,
                    summary="a message signed with the deployed key %s (%s) does not verify against the published key "
                            "(%s)" % (key_path, deployed, why))
    return dict(out, status=F.PASS, summary="a message signed with the deployed key verifies (dkimpy)")


def _dkim_states(site: Site, probes: t.Any) -> dict:
    """{entry: state} for every launch_dkim_selectors entry, once per run (shared with email.alignment)."""
    def run() -> dict:
        return parallel.each_by(lambda entry: _dkim_state(site, probes, entry), list(site.dkim_selectors), WORKERS)
    return probes.memo(("dkim_states", tuple(site.dkim_selectors)), run)


def _dkim_state(site: Site, probes: t.Any, entry: str) -> dict:
    selector, domain = _selector_domain(site, entry)
    name = "%s._domainkey.%s" % (selector, domain)
    state: dict = {"selector": selector, "domain": domain, "record_name": name, "status": F.PASS, "problems": []}
    if not selector or spf.dns_name(name) is None:
        state.update(status=F.FAIL, summary="%r is not a usable DKIM selector (launch_dkim_selectors)" % entry)
        return state
    answer, texts = _txt(site, probes, name)
    state["dns"] = {"status": answer.status, "detail": answer.detail}
    if answer.status == spf.ERROR:
        state.update(status=F.ERROR, summary="the key record %s got no answer (%s)" % (name, answer.detail))
        return state
    keys = [text for text in texts if "p=" in text or text.strip().startswith("v=DKIM1")]
    state["records"] = texts
    if not keys:
        why = {spf.NXDOMAIN: "the name does not exist", spf.NODATA: "no TXT record there"}.get(
            answer.status, "no TXT record there holds p=")
        state.update(status=F.FAIL, summary="%s has no DKIM key record (%s), so every signature with selector %s "
                                            "fails" % (name, why, selector))
        return state
    if len(keys) > 1:
        state.update(status=F.FAIL, summary="%s publishes %d key records; receivers pick one at random, so "
                                            "signatures fail some of the time" % (name, len(keys)),
                     fix="Keep exactly one key record at %s: the public half of the key your mail sender signs "
                         "with." % name)
        return state
    info = inspect_key_record(keys[0])
    state.update(record=keys[0], tags={k: (v if k != "p" else v[:24] + "...") for k, v in info["tags"].items()},
                 key_type=info["kind"], bits=info["bits"], fingerprint=info["fingerprint"], revoked=info["revoked"])
    problems = list(info["problems"])
    key_path = site.dkim_private_keys.get(entry) or site.dkim_private_keys.get(selector)
    if info["revoked"]:
        state["fix"] = ("Publish the current key of selector %s at %s, or drop %s from launch_dkim_selectors if it "
                        "is retired." % (selector, name, entry))
    if key_path and info["key"] is not None and info["kind"] == "rsa":
        proof = signing_proof(site, probes, selector, domain, key_path, info["key"])
        state["proof"] = proof
        if proof["status"] != F.PASS:
            problems.append((proof["status"], proof["summary"]))
            if proof["status"] == F.FAIL:
                state["fix"] = ("Make the mail sender sign with the key whose public half is published at %s, or "
                                "publish the public half of %s there (a new selector, to rotate without breaking "
                                "mail in flight)." % (name, key_path))
    elif key_path and info["kind"] == "ed25519":
        state["proof"] = {"status": F.SKIP, "summary": "the signing proof was not run (it signs with RSA keys only)"}
    elif not key_path:
        state["proof"] = {"status": F.SKIP, "summary": "the signing proof was not run (launch_dkim_private_keys has "
                                                       "no key for %s)" % entry}
    state["problems"] = [text for _status, text in problems]
    state["status"] = V.worst_status((status for status, _text in problems), default=F.PASS)
    what = "%s %d-bit key %s" % (info["kind"] or "unreadable", info["bits"] or 0, info["fingerprint"] or "")
    if problems:
        state["summary"] = "; ".join(text for _status, text in problems)
    else:
        proof = state.get("proof", {})
        state["summary"] = "%s publishes a good %s; %s" % (name, what.strip(), proof.get("summary", ""))
    return state


@check(DKIM)
def check_dkim(site: Site, probes: t.Any) -> list:
    """Each selector's key record: present, one, parseable (v, k, p, t, h, s), not revoked, RSA >= 2048 bits
    (1024 warns, less fails); and with launch_dkim_private_keys, a message signed with that key verifies."""
    if not site.dkim_selectors:
        return [F.make(DKIM, F.SKIP, site.mail_domain,
                       "Not checked: launch_dkim_selectors lists no DKIM selector (without DKIM, DMARC rests on SPF "
                       "alone, which breaks when mail is forwarded).")]
    none = _no_resolver(DKIM, site)
    if none:
        return none
    out = []
    for entry, state in _dkim_states(site, probes).items():
        name = state["record_name"]
        evidence = {k: v for k, v in state.items() if k not in ("summary", "fix")}
        status = state["status"]
        if status == F.PASS:
            out.append(F.make(DKIM, F.PASS, name, state["summary"] + ".", evidence=evidence))
        elif status == F.ERROR:
            out.append(F.make(DKIM, F.ERROR, name, "Could not check DKIM selector %s: %s." % (entry, state["summary"]),
                              evidence=evidence,
                              fix="Make sure the resolvers answer and the private key file is readable, then run the "
                                  "check again."))
        else:
            summary = "DKIM selector %s of %s: %s." % (state["selector"], state["domain"], state["summary"])
            out.append(F.make(DKIM, status, name, summary, evidence=evidence,
                              fix=state.get("fix") or (
                                  "Publish the public half of the key your mail sender signs with at %s as "
                                  "\"v=DKIM1; k=rsa; p=<base64 key>\" (RSA 2048 bits), e.g. with the email_auth "
                                  "role; to rotate, publish a new selector and switch the sender before removing the "
                                  "old one." % name)))
    return out


# ---------------------------------------------------------------- email.dmarc

DMARC = F.CheckSpec(
    "email.dmarc", F.MEDIUM, STAGE, "One valid DMARC record with an enforcing policy and reports",
    "Publish one TXT record at _dmarc.DOMAIN: \"v=DMARC1; p=reject; rua=mailto:dmarc-reports@DOMAIN\" "
    "(p=quarantine while you watch the first reports).",
    why="Without an enforcing DMARC policy, receivers deliver mail forged in your name (phishing your customers), "
        "and without rua nobody sees it happen.")

_POLICIES = ("none", "quarantine", "reject")
_DMARC_START = re.compile(r"^v\s*=\s*DMARC1\s*(;|$)")
_SIZE_RE = re.compile(r"^[0-9]+[kmgt]?$", re.I)


def is_dmarc_record(text: str) -> bool:
    """RFC 7489 6.6.3: a record counts only when it starts with v=DMARC1."""
    return bool(_DMARC_START.match(text.strip()))


def parse_dmarc(text: str) -> dict:
    """A DMARC record's tags and problems: {"tags", "errors": [...], "warnings": [...], "uris": {...}}."""
    out: dict = {"tags": {}, "errors": [], "warnings": [], "uris": {"rua": [], "ruf": []}, "unknown_tags": []}
    try:
        tags = parse_tag_list(text)
    except TagListError as exc:
        out["errors"].append("the record is not a valid tag list (%s)" % exc)
        return out
    out["tags"] = tags
    known = {"v", "p", "sp", "adkim", "aspf", "pct", "fo", "rf", "ri", "rua", "ruf", "np", "psd", "t"}
    out["unknown_tags"] = sorted(set(tags) - known)
    if next(iter(tags), None) != "v" or tags.get("v") != "DMARC1":
        out["errors"].append("v=DMARC1 must come first")
    policy = tags.get("p")
    if policy is None:
        out["errors"].append("the required p= tag (none, quarantine or reject) is missing")
    elif policy.lower() not in _POLICIES:
        out["errors"].append("p=%s is not none, quarantine or reject" % policy)
    for tag in ("sp", "np"):
        if tag in tags and tags[tag].lower() not in _POLICIES:
            out["errors"].append("%s=%s is not none, quarantine or reject" % (tag, tags[tag]))
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            out["errors"].append("%s=%s is not r (relaxed) or s (strict)" % (tag, tags[tag]))
    if "pct" in tags:
        if not tags["pct"].isdigit() or not 0 <= int(tags["pct"]) <= 100:
            out["errors"].append("pct=%s is not a whole number from 0 to 100" % tags["pct"])
    if "fo" in tags:
        bad = [o for o in tags["fo"].split(":") if o.strip().lower() not in ("0", "1", "d", "s")]
        if bad:
            out["errors"].append("fo=%s holds options other than 0, 1, d and s" % tags["fo"])
    if "ri" in tags and not tags["ri"].isdigit():
        out["errors"].append("ri=%s is not a number of seconds" % tags["ri"])
    for tag in ("rua", "ruf"):
        if tag not in tags:
            continue
        for item in [u.strip() for u in tags[tag].split(",")]:
            uri, _bang, size = item.partition("!")
            parsed = urllib.parse.urlsplit(uri)
            if not item or not parsed.scheme:
                out["errors"].append("%s=%s is not a list of URIs" % (tag, tags[tag]))
                continue
            if size and not _SIZE_RE.match(size):
                out["errors"].append("%s: the size limit !%s is not a number with k, m, g or t" % (tag, size))
            if parsed.scheme.lower() != "mailto":
                out["warnings"].append("%s %s is not a mailto: address; most receivers send reports only by mail"
                                       % (tag, uri))
                continue
            address = urllib.parse.unquote(parsed.path)
            if address.count("@") != 1 or not address.split("@")[1]:
                out["errors"].append("%s %s is not a mail address" % (tag, uri))
                continue
            out["uris"][tag].append(address.lower())
    return out


def _dmarc_at(site: Site, probes: t.Any, domain: str) -> dict:
    name = "_dmarc.%s" % domain
    answer, texts = _txt(site, probes, name)
    records = [text for text in texts if is_dmarc_record(text)]
    near = [text for text in texts if not is_dmarc_record(text) and "dmarc1" in text.lower()]
    return {"name": name, "status": answer.status, "detail": answer.detail, "records": records,
            "ignored": near}


def dmarc_state(site: Site, probes: t.Any) -> dict:
    """Policy discovery (RFC 7489 6.6.3) for the mail domain, with the organisational-domain fallback."""
    def run() -> dict:
        domain = site.mail_domain
        first = _dmarc_at(site, probes, domain)
        state: dict = {"domain": domain, "lookups": [first]}
        if first["status"] == spf.ERROR:
            return dict(state, status="error", detail=first["detail"])
        found, at = first, domain
        if not first["records"]:
            org = org_domain(site, domain)
            state["org_domain"] = org
            if org != domain:
                second = _dmarc_at(site, probes, org)
                state["lookups"].append(second)
                if second["status"] == spf.ERROR:
                    return dict(state, status="error", detail=second["detail"])
                found, at = second, org
        if not found["records"]:
            return dict(state, status="none", ignored=first["ignored"])
        if len(found["records"]) > 1:
            return dict(state, status="several", at=at, records=found["records"])
        parsed = parse_dmarc(found["records"][0])
        tags = {k.lower(): v for k, v in parsed["tags"].items()}
        inherited = at != domain
        policy = (tags.get("sp") or tags.get("p")) if inherited else tags.get("p")
        return dict(state, status="found", at=at, inherited=inherited, record=found["records"][0],
                    parsed=parsed, tags=tags, policy=(policy or "").lower(),
                    adkim=tags.get("adkim", "r").lower(), aspf=tags.get("aspf", "r").lower())
    return probes.memo(("dmarc_state", site.mail_domain), run)


def _report_authorisation(site: Site, probes: t.Any, policy_domain: str, addresses: list) -> dict:
    """RFC 7489 7.1: {address: "internal" | "authorised" | "unauthorised" | "error: ..."} for report addresses."""
    def one(address: str) -> str:
        host = address.split("@", 1)[1].rstrip(".")
        if org_domain(site, host) == org_domain(site, policy_domain):
            return "internal"
        name = "%s._report._dmarc.%s" % (policy_domain, host)
        answer, texts = _txt(site, probes, name)
        if answer.status == spf.ERROR:
            return "error: %s" % answer.detail
        return "authorised" if any(is_dmarc_record(text) for text in texts) else "unauthorised"
    unique = sorted(set(addresses))
    return parallel.each_by(one, unique, WORKERS)


@check(DMARC)
def check_dmarc(site: Site, probes: t.Any) -> list:
    """Exactly one valid record at _dmarc (or the organisational domain's); p=quarantine/reject; rua present;
    external report addresses authorised by a <domain>._report._dmarc.<host> record.

    none, several, invalid and unauthorised external report addresses fail;
    p=none, pct < 100, sp=none and no rua warn.
    """
    none = _no_resolver(DMARC, site)
    if none:
        return none
    domain = site.mail_domain
    state = dmarc_state(site, probes)
    evidence = {k: v for k, v in state.items() if k != "parsed"}
    if state["status"] == "error":
        return [_unreachable(DMARC, domain, "the DMARC policy of %s" % domain, state["detail"], evidence)]
    if state["status"] == "none":
        ignored = state.get("ignored") or []
        extra = (" (a TXT record there mentions DMARC1 but does not start with v=DMARC1, so receivers ignore it: "
                 "%s)" % ignored[0]) if ignored else ""
        org = state.get("org_domain")
        where = "_dmarc.%s" % domain + (" nor at _dmarc.%s" % org if org and org != domain else "")
        return [F.make(DMARC, F.FAIL, domain,
                       "No DMARC record at %s%s: receivers have no instruction for mail that fails SPF and DKIM, "
                       "so anyone can send as %s, and Gmail and Yahoo require one from bulk senders."
                       % (where, extra, domain), evidence=evidence,
                       fix="Publish one TXT record at _dmarc.%s: \"v=DMARC1; p=reject; rua=mailto:dmarc@%s\" "
                           "(p=quarantine while you watch the first reports)." % (domain, domain))]
    if state["status"] == "several":
        return [F.make(DMARC, F.FAIL, domain,
                       "_dmarc.%s publishes %d DMARC records; with more than one, receivers apply no policy at all."
                       % (state["at"], len(state["records"])), evidence=evidence,
                       fix="Keep exactly one v=DMARC1 TXT record at _dmarc.%s." % state["at"])]
    parsed = state["parsed"]
    evidence.update(errors=parsed["errors"], warnings=list(parsed["warnings"]), unknown_tags=parsed["unknown_tags"])
    origin = " (inherited from the organisational domain %s)" % state["at"] if state["inherited"] else ""
    if parsed["errors"]:
        return [F.make(DMARC, F.FAIL, domain,
                       "The DMARC record of %s%s is invalid, so receivers may ignore it: %s."
                       % (domain, origin, "; ".join(parsed["errors"])), evidence=evidence,
                       fix="Correct the record at _dmarc.%s to the RFC 7489 form, e.g. \"v=DMARC1; p=reject; "
                           "rua=mailto:dmarc@%s\"." % (state["at"], state["at"]))]
    tags = state["tags"]
    addresses = parsed["uris"]["rua"] + parsed["uris"]["ruf"]
    auth = _report_authorisation(site, probes, state["at"], addresses)
    evidence["report_addresses"] = auth
    refused = sorted(a for a, verdict in auth.items() if verdict == "unauthorised")
    if refused:
        hosts = sorted({a.split("@", 1)[1] for a in refused})
        return [F.make(DMARC, F.FAIL, domain,
                       "DMARC reports of %s go to %s, which has not agreed to receive them (no %s record), so "
                       "receivers drop those reports and you never see who sends as %s."
                       % (domain, _words(refused), _words("%s._report._dmarc.%s" % (state["at"], h) for h in hosts),
                          domain), evidence=evidence,
                       fix="Ask the report receiver to publish TXT \"v=DMARC1\" at %s, or send reports to an address "
                           "at %s." % (_words("%s._report._dmarc.%s" % (state["at"], h) for h in hosts), domain))]
    unknown = sorted(a for a, verdict in auth.items() if verdict.startswith("error"))
    if unknown:
        return [_unreachable(DMARC, domain, "whether %s may receive DMARC reports" % _words(unknown),
                             "; ".join(auth[a] for a in unknown), evidence)]
    warnings = []
    policy = state["policy"]
    if policy == "none":
        warnings.append("the policy is p=none%s: receivers deliver mail that fails authentication as if it "
                        "passed" % origin)
    if tags.get("pct", "100") != "100" and policy != "none":
        warnings.append("pct=%s applies the policy to only %s%% of failing mail" % (tags["pct"], tags["pct"]))
    if not state["inherited"] and tags.get("sp", "").lower() == "none" and policy != "none":
        warnings.append("sp=none leaves subdomains of %s unprotected" % domain)
    if not parsed["uris"]["rua"]:
        warnings.append("there is no rua= address, so you receive no aggregate reports of who sends as %s" % domain)
    warnings.extend(parsed["warnings"])
    if warnings:
        return [F.make(DMARC, F.WARN, domain,
                       "DMARC for %s works but is weak: %s." % (domain, "; ".join(warnings)), evidence=evidence,
                       fix="Move to p=quarantine, then p=reject once the aggregate reports show only your own "
                           "senders, with pct=100 and rua=mailto:<a mailbox you read>.")]
    return [F.make(DMARC, F.PASS, domain,
                   "%s has one valid DMARC record%s with p=%s and reports to %s."
                   % (domain, origin, policy, _words(parsed["uris"]["rua"])), evidence=evidence)]


# ---------------------------------------------------------------- email.alignment

ALIGNMENT = F.CheckSpec(
    "email.alignment", F.HIGH, STAGE, "SPF or DKIM aligns with the From domain under the DMARC mode",
    "Sign with a DKIM key at the From domain (d=DOMAIN), or send with an envelope sender (Return-Path) at the "
    "From domain that passes SPF.",
    why="DMARC passes only when SPF or DKIM is aligned with the From domain; unaligned mail is treated as forged and "
        "lands in spam or is rejected.")


@check(ALIGNMENT)
def check_alignment(site: Site, probes: t.Any) -> list:
    """DMARC passes when an identifier that passed is aligned with the From domain (RFC 7489 3.1, 4.2).

    DKIM: a selector whose key is good (email.dkim pass or warn) and whose
    domain aligns under adkim.  SPF: launch_mail_envelope_domain aligns under
    aspf and every launch_mail_senders address gets SPF pass for it.  Either is
    enough; neither fails.  Modes come from the DMARC record (relaxed without one).
    """
    domain = site.mail_domain
    if not site.mail_senders and not site.dkim_selectors:
        return [F.make(ALIGNMENT, F.SKIP, domain,
                       "Not checked: neither launch_mail_senders nor launch_dkim_selectors is set, so there is no "
                       "identifier to align.")]
    none = _no_resolver(ALIGNMENT, site)
    if none:
        return none
    dmarc = dmarc_state(site, probes)
    adkim = dmarc.get("adkim", "r") if dmarc["status"] == "found" else "r"
    aspf = dmarc.get("aspf", "r") if dmarc["status"] == "found" else "r"
    envelope = site.mail_envelope_domain or domain
    evidence: dict = {"from_domain": domain, "adkim": adkim, "aspf": aspf, "dmarc": dmarc["status"],
                      "org_domain": org_domain(site, domain)}
    errors = []
    dkim_rows, dkim_ok = [], []
    if site.dkim_selectors:
        for entry, state in _dkim_states(site, probes).items():
            is_aligned = aligned(site, state["domain"], domain, adkim)
            good = state["status"] in (F.PASS, F.WARN)
            dkim_rows.append({"selector": entry, "d": state["domain"], "aligned": is_aligned,
                              "key": state["status"]})
            if state["status"] == F.ERROR:
                errors.append("DKIM selector %s: %s" % (entry, state.get("summary")))
            if good and is_aligned:
                dkim_ok.append("%s (d=%s)" % (state["selector"], state["domain"]))
    spf_aligned = aligned(site, envelope, domain, aspf)
    spf_rows, spf_bad = {}, []
    if site.mail_senders:
        for ip, result in _spf_results(site, probes).items():
            spf_rows[ip] = result.result
            if result.result == spf.TEMPERROR:
                errors.append("SPF for %s: %s" % (ip, result.reason))
            elif result.result != spf.PASS:
                spf_bad.append("%s (%s)" % (ip, result.result))
    evidence.update(dkim=dkim_rows, spf={"envelope_domain": envelope, "aligned": spf_aligned, "results": spf_rows})
    spf_ok = bool(site.mail_senders) and spf_aligned and not spf_bad and not any(
        r == spf.TEMPERROR for r in spf_rows.values())
    if dkim_ok or spf_ok:
        parts = []
        if dkim_ok:
            parts.append("DKIM %s aligns (adkim=%s)" % (_words(dkim_ok), adkim))
        if spf_ok:
            parts.append("SPF of %s passes for every sender and aligns (aspf=%s)" % (envelope, aspf))
        note = "" if dkim_ok else "; without an aligned DKIM key, forwarded mail will fail DMARC"
        return [F.make(ALIGNMENT, F.PASS, domain, "Mail from %s passes DMARC alignment: %s%s."
                       % (domain, " and ".join(parts), note), evidence=evidence)]
    if errors:
        return [_unreachable(ALIGNMENT, domain, "DMARC alignment for %s" % domain, "; ".join(errors), evidence)]
    why = []
    if not site.dkim_selectors:
        why.append("no DKIM selector is configured")
    elif not any(row["key"] in (F.PASS, F.WARN) for row in dkim_rows):
        why.append("no DKIM selector has a good key (see email.dkim)")
    else:
        domains = sorted({r["d"] for r in dkim_rows})
        why.append("the DKIM domain%s %s %s not align with %s under adkim=%s" % (
            "s" if len(domains) > 1 else "", _words(domains), "do" if len(domains) > 1 else "does", domain, adkim))
    if not site.mail_senders:
        why.append("no sending IP is configured to check SPF for")
    elif not spf_aligned:
        why.append("the envelope domain %s does not align with %s under aspf=%s" % (envelope, domain, aspf))
    else:
        why.append("SPF of %s does not pass for %s" % (envelope, _words(spf_bad)))
    return [F.make(ALIGNMENT, F.FAIL, domain,
                   "Mail from %s fails DMARC: neither DKIM nor SPF aligns with the From domain (%s), so receivers "
                   "apply your DMARC policy to your own receipts." % (domain, "; ".join(why)), evidence=evidence)]


# ---------------------------------------------------------------- email.mx

MX = F.CheckSpec(
    "email.mx", F.MEDIUM, STAGE, "MX present and every exchanger resolves",
    "Publish MX records for the mail domain pointing at host names that have A/AAAA records.",
    why="Without MX, or with an exchanger that does not resolve, customers' replies and bounces are lost, and some "
        "receivers distrust a domain that cannot receive mail.")


@check(MX)
def check_mx(site: Site, probes: t.Any) -> list:
    """The mail domain has MX records and every exchanger has an address at every resolver.

    No MX (or a null MX) warns: customers' replies to receipts bounce.  An
    exchanger without an address, or given as an IP address, fails.
    """
    none = _no_resolver(MX, site)
    if none:
        return none
    domain = site.mail_domain
    answer = _dns(site, probes).lookup(domain, "MX", site.timeout)
    evidence: dict = {"status": answer.status, "detail": answer.detail,
                      "mx": [{"preference": p, "exchange": h} for p, h in answer.records] if answer.status == spf.OK
                      else []}
    if answer.status == spf.ERROR:
        return [_unreachable(MX, domain, "the MX records of %s" % domain, answer.detail, evidence)]
    hosts = sorted({h.lower() for _p, h in answer.records}) if answer.status == spf.OK else []
    if not hosts or hosts == [""]:
        null = hosts == [""]
        return [F.make(MX, F.WARN, domain,
                       "%s %s: customers who reply to a receipt get a bounce, and some receivers distrust senders "
                       "that cannot receive." % (domain, "declares that it receives no mail (null MX)" if null
                                                 else "has no MX record"), evidence=evidence,
                       fix="Publish MX records for %s pointing at your mailbox provider's servers." % domain)]
    literal = []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
            literal.append(host)
        except ValueError:
            pass
    names = [h for h in hosts if h and h not in literal]
    resolved = parallel.each_by(lambda h: Q.resolve_cached(site, probes, h), names, WORKERS)
    evidence["exchangers"] = {h: r["addresses"] for h, r in resolved.items()}
    dangling = sorted(h for h, r in resolved.items() if not r["addresses"] and not r["errors"])
    if literal or dangling:
        problems = []
        if dangling:
            problems.append("%s %s no address" % (_words(dangling), "has" if len(dangling) == 1 else "have"))
        if literal:
            problems.append("%s %s an IP address where a host name must be" % (
                _words(literal), "is" if len(literal) == 1 else "are"))
        return [F.make(MX, F.FAIL, domain,
                       "The MX records of %s are broken: %s, so mail to %s cannot be delivered there."
                       % (domain, "; ".join(problems), domain), evidence=evidence,
                       fix="Point the MX records of %s at host names with A/AAAA records, or remove the broken ones."
                           % domain)]
    errors = sorted("%s (%s)" % (a.server, a.detail or a.status) for r in resolved.values() for a in r["errors"])
    if errors:
        return [_unreachable(MX, domain, "the mail exchangers of %s" % domain, "; ".join(errors), evidence)]
    listed = ["%s (%s)" % (h, _words(resolved[h]["addresses"])) for h in names]
    return [F.make(MX, F.PASS, domain, "%s receives mail at %s." % (domain, _words(listed)), evidence=evidence)]

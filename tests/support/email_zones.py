"""Mail domains, healthy and broken, as zone files for a throwaway Knot (tests and bench).

    keys = make_keys()                       # RSA keys: good (2048), other (2048), weak (1024)
    server = KnotServer(["127.0.0.90"], zones(keys)).start()

Every domain sends from SENDER (192.0.2.25) unless its SPF says otherwise.  The
names say what is wrong; VARIANTS lists, for each broken domain, the check and
status the catalog expects (docs/checks.md, "Email authentication").
"""

from __future__ import annotations

import base64
import dataclasses
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.knot import zone

SENDER = "192.0.2.25"
STRANGER = "198.51.100.99"


@dataclasses.dataclass
class Key:
    private_pem: bytes
    public_b64: str

    def write(self, directory: str, name: str) -> str:
        path = os.path.join(directory, name + ".pem")
        with open(path, "wb") as fh:
            fh.write(self.private_pem)
        os.chmod(path, 0o600)
        return path


def make_key(bits: int = 2048) -> Key:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Key(pem, base64.b64encode(der).decode("ascii"))


def make_keys() -> dict:
    return {"good": make_key(2048), "other": make_key(2048), "weak": make_key(1024)}


def txt(text: str) -> str:
    """TXT RDATA of ``text`` in zone-file form: quoted strings of at most 255 octets."""
    return " ".join('"%s"' % text[i:i + 255] for i in range(0, len(text), 255))


def dkim(key: Key, extra: str = "") -> str:
    return txt("v=DKIM1; %sk=rsa; p=%s" % (extra, key.public_b64))


def _mail(domain: str, spf: str | None = "v=spf1 ip4:%s -all" % SENDER,
          dmarc: str | None = "v=DMARC1; p=reject; rua=mailto:dmarc@{d}", mx: bool = True, extra: str = "") -> str:
    lines = []
    if spf:
        lines.append("@ TXT %s" % txt(spf))
    if dmarc:
        lines.append("_dmarc TXT %s" % txt(dmarc.format(d=domain)))
    if mx:
        lines += ["@ MX 10 mx.%s." % domain, "mx A 192.0.2.30"]
    return "\n".join(lines) + "\n" + extra


def zones(keys: dict) -> dict:
    good = keys["good"]
    out = {
        # Healthy: SPF with a foreign TXT beside it, DKIM, DMARC, MX; and selectors with problems.
        "good.test": _mail("good.test", extra="""
@ TXT "google-site-verification=abc123"
s1._domainkey TXT %s
weak._domainkey TXT %s
bad._domainkey TXT "v=DKIM1; k=rsa; p=not*base64!"
revoked._domainkey TXT "v=DKIM1; k=rsa; p="
testing._domainkey TXT %s
sha1._domainkey TXT %s
two._domainkey TXT %s
two._domainkey TXT %s
bounce TXT "v=spf1 ip4:%s -all"
""" % (dkim(good), dkim(keys["weak"]), dkim(good, "t=y; "), dkim(good, "h=sha1; "), dkim(good),
            dkim(keys["other"]), SENDER)),
        # SPF variants.
        "nospf.test": _mail("nospf.test", spf=None),
        "twospf.test": _mail("twospf.test", extra='@ TXT "v=spf1 ip4:192.0.2.26 -all"\n'),
        "plusall.test": _mail("plusall.test", spf="v=spf1 ip4:%s +all" % SENDER),
        "noall.test": _mail("noall.test", spf="v=spf1 ip4:%s" % SENDER),
        "softall.test": _mail("softall.test", spf="v=spf1 ip4:%s ~all" % SENDER),
        "syntax.test": _mail("syntax.test", spf="v=spf1 ip4:192.0.2.300 -all"),
        # include:a -> include:b -> include:c: 11 DNS lookups in all.
        "lookups.test": _mail("lookups.test", spf="v=spf1 include:a.lookups.test -all", extra="""
a TXT "v=spf1 include:b.lookups.test ip4:%s -all"
b TXT "v=spf1 a:h1.lookups.test a:h2.lookups.test a:h3.lookups.test a:h4.lookups.test a:h5.lookups.test include:c.lookups.test -all"
c TXT "v=spf1 a:h1.lookups.test a:h2.lookups.test a:h3.lookups.test -all"
h1 A 192.0.2.41
h2 A 192.0.2.42
h3 A 192.0.2.43
h4 A 192.0.2.44
h5 A 192.0.2.45
""" % SENDER),
        "voids.test": _mail("voids.test", spf="v=spf1 a:gone1.voids.test a:gone2.voids.test a:gone3.voids.test "
                                              "ip4:%s -all" % SENDER),
        # DMARC variants.
        "nodmarc.test": _mail("nodmarc.test", dmarc=None),
        "pnone.test": _mail("pnone.test", dmarc="v=DMARC1; p=none; rua=mailto:dmarc@{d}"),
        "invalid.test": _mail("invalid.test", dmarc="v=DMARC1; p=bogus; rua=mailto:dmarc@{d}"),
        "norua.test": _mail("norua.test", dmarc="v=DMARC1; p=reject"),
        "twodmarc.test": _mail("twodmarc.test", extra='_dmarc TXT "v=DMARC1; p=none"\n'),
        "extrua.test": _mail("extrua.test", dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@reports.test"),
        "extok.test": _mail("extok.test", dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@reports.test"),
        "reports.test": zone("reports.test", 'extok.test._report._dmarc TXT "v=DMARC1"'),
        "strict.test": _mail("strict.test", dmarc="v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:dmarc@{d}",
                             extra='bounce TXT "v=spf1 ip4:%s -all"\n' % SENDER),
        # MX variants.
        "nomx.test": _mail("nomx.test", mx=False),
        "danglingmx.test": _mail("danglingmx.test", mx=False, extra="@ MX 10 gone.danglingmx.test.\n"),
        # Another organisation: an ESP with its own key and bounce domain.
        "esp.test": _mail("esp.test", extra="s1._domainkey TXT %s\nbounce TXT \"v=spf1 ip4:%s -all\"\n"
                                            % (dkim(good), SENDER)),
    }
    return {name: text if text.startswith("$ORIGIN") else zone(name, text) for name, text in out.items()}


# (domain, site variables, check id, expected status, words the summary must hold)
VARIANTS = [
    ("nospf.test", {}, "email.spf", "fail", "publishes no SPF record"),
    ("twospf.test", {}, "email.spf", "fail", "2 SPF records"),
    ("plusall.test", {}, "email.spf", "fail", "+all"),
    ("noall.test", {}, "email.spf", "fail", "no 'all'"),
    ("syntax.test", {}, "email.spf", "fail", "invalid"),
    ("lookups.test", {}, "email.spf", "fail", "11 DNS lookups; the limit is 10"),
    ("voids.test", {}, "email.spf", "fail", "3 SPF lookups find nothing"),
    ("good.test", {"mail_senders": [STRANGER]}, "email.spf_senders", "fail", "not allowed to send"),
    ("good.test", {"dkim_selectors": ["missing"]}, "email.dkim", "fail", "no DKIM key record"),
    ("good.test", {"dkim_selectors": ["weak"]}, "email.dkim", "warn", "1024 bits"),
    ("good.test", {"dkim_selectors": ["bad"]}, "email.dkim", "fail", "malformed"),
    ("good.test", {"dkim_selectors": ["revoked"]}, "email.dkim", "fail", "revoked"),
    ("good.test", {"dkim_selectors": ["sha1"]}, "email.dkim", "fail", "sha256"),
    ("good.test", {"dkim_selectors": ["testing"]}, "email.dkim", "warn", "t=y"),
    ("good.test", {"dkim_selectors": ["two"]}, "email.dkim", "fail", "2 key records"),
    ("nodmarc.test", {}, "email.dmarc", "fail", "No DMARC record"),
    ("pnone.test", {}, "email.dmarc", "warn", "p=none"),
    ("invalid.test", {}, "email.dmarc", "fail", "p=bogus"),
    ("norua.test", {}, "email.dmarc", "warn", "no rua="),
    ("twodmarc.test", {}, "email.dmarc", "fail", "2 DMARC records"),
    ("extrua.test", {}, "email.dmarc", "fail", "has not agreed to receive them"),
    ("nomx.test", {}, "email.mx", "warn", "has no MX record"),
    ("danglingmx.test", {}, "email.mx", "fail", "gone.danglingmx.test has no address"),
]

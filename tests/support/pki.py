"""A test certificate authority that makes good and deliberately broken certificates.

Root -> intermediate -> leaf, like a public CA, so a server can be made to send a
full chain, a leaf only, an expired leaf, a leaf for another name, a self-signed
one, a weak key or a SHA-1 signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.timezone.utc)


def _key(kind: str = "ec", bits: int = 2048):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclasses.dataclass
class Issued:
    cert: x509.Certificate
    key: t.Any

    @property
    def pem(self) -> bytes:
        return _pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)


class TestCA:
    """A root and an intermediate; ``issue`` makes leaves signed by the intermediate."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str = "launchready test") -> None:
        self.root_key = _key()
        self.root = self._cert(_name("%s root" % name), self.root_key, _name("%s root" % name),
                               self.root_key, ca=True, days=3650)
        self.int_key = _key()
        self.intermediate = self._cert(_name("%s intermediate" % name), self.int_key,
                                       _name("%s root" % name), self.root_key, ca=True, days=1825)

    @staticmethod
    def _cert(subject, key, issuer, issuer_key, ca=False, days=90, names=(), not_before=None,
              not_after=None, hash_alg=None):
        not_before = not_before or NOW - dt.timedelta(days=1)
        not_after = not_after or not_before + dt.timedelta(days=days)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
        if names:
            sans = []
            for n in names:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(n)))
                except ValueError:
                    sans.append(x509.DNSName(n))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        return builder.sign(issuer_key, hash_alg or hashes.SHA256())

    def issue(self, names: t.Sequence[str], days: int = 90, expired: bool = False,
              key_kind: str = "ec", bits: int = 2048, hash_alg=None) -> Issued:
        """A leaf for ``names`` signed by the intermediate."""
        key = _key(key_kind, bits)
        if expired:
            not_before, not_after = NOW - dt.timedelta(days=100), NOW - dt.timedelta(days=10)
        else:
            not_before, not_after = NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=days)
        cert = self._cert(_name(names[0]), key, self.intermediate.subject, self.int_key, names=names,
                          not_before=not_before, not_after=not_after, hash_alg=hash_alg)
        return Issued(cert, key)

    def self_signed(self, names: t.Sequence[str]) -> Issued:
        key = _key()
        return Issued(self._cert(_name(names[0]), key, _name(names[0]), key, names=names), key)

    @property
    def root_pem(self) -> bytes:
        return _pem(self.root)

    @property
    def intermediate_pem(self) -> bytes:
        return _pem(self.intermediate)

    def write(self, directory: str, stem: str, issued: Issued, chain: bool = True) -> tuple:
        """Write ``stem``.crt (leaf, plus intermediate when ``chain``) and ``stem``.key; return paths."""
        os.makedirs(directory, exist_ok=True)
        crt = os.path.join(directory, stem + ".crt")
        key = os.path.join(directory, stem + ".key")
        with open(crt, "wb") as fh:
            fh.write(issued.pem + (self.intermediate_pem if chain else b""))
        with open(key, "wb") as fh:
            fh.write(issued.key_pem)
        os.chmod(key, 0o600)
        return crt, key

    def write_bundle(self, path: str) -> str:
        with open(path, "wb") as fh:
            fh.write(self.root_pem)
        return path

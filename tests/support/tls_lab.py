"""Pieces for TLS variants: misbehaving listeners, SHA-1 leaves, nginx server blocks.

A ``FaultServer`` is a thread, not a process: ``silent`` accepts and never speaks,
``reset`` accepts and resets (SO_LINGER 0), ``trickle`` starts a TLS record and
then sends one byte of it every 0.2 s, so no single read ever times out.  ``sha1_leaf`` uses the openssl CLI
because cryptography (>= 42) refuses to sign with SHA-1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import pki

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def sha1_leaf(ca: pki.TestCA, names: t.Sequence[str], days: int = 90) -> pki.Issued:
    """A leaf for ``names`` signed by ``ca``'s intermediate with ecdsa-with-SHA1."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
           .sign(key, hashes.SHA256()))
    work = tempfile.mkdtemp(prefix="sha1-leaf-")
    try:
        paths = {n: os.path.join(work, n) for n in ("req.csr", "int.pem", "int.key", "ext.cnf", "leaf.pem")}
        with open(paths["req.csr"], "wb") as fh:
            fh.write(csr.public_bytes(serialization.Encoding.PEM))
        with open(paths["int.pem"], "wb") as fh:
            fh.write(ca.intermediate_pem)
        with open(paths["int.key"], "wb") as fh:
            fh.write(ca.int_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        with open(paths["ext.cnf"], "w", encoding="ascii") as fh:
            fh.write("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                     "subjectAltName=%s\n" % ",".join("DNS:%s" % n for n in names))
        subprocess.run([OPENSSL, "x509", "-req", "-in", paths["req.csr"], "-CA", paths["int.pem"],
                        "-CAkey", paths["int.key"], "-set_serial", str(x509.random_serial_number()),
                        "-days", str(days), "-sha1", "-extfile", paths["ext.cnf"], "-out", paths["leaf.pem"]],
                       check=True, capture_output=True, timeout=20)
        with open(paths["leaf.pem"], "rb") as fh:
            cert = x509.load_pem_x509_certificate(fh.read())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return pki.Issued(cert, key)


def server_block(address: str, names: t.Sequence[str], crt: str, key: str, protocols: str = "TLSv1.2 TLSv1.3",
                 ciphers: str | None = None, port: int = 443) -> str:
    """An nginx server block answering 200 over TLS on ``address``:``port``."""
    lines = ["server {",
             "  listen %s:%d ssl;" % (address, port),
             "  server_name %s;" % " ".join(names),
             "  ssl_certificate %s;" % crt,
             "  ssl_certificate_key %s;" % key,
             "  ssl_protocols %s;" % protocols]
    if ciphers:
        # OpenSSL 3 refuses to load a weak key or SHA-1 leaf, or to speak TLS 1.0, above level 0.
        lines.append("  ssl_ciphers %s;" % ciphers)
    lines += ["  return 200 \"ok\\n\";", "}"]
    return "\n".join("  " + line for line in lines) + "\n"

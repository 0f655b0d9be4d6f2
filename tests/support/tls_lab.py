"""Pieces for TLS variants: misbehaving listeners, SHA-1 leaves, nginx server blocks.

A ``FaultServer`` is a thread, not a process: ``silent`` accepts and never speaks,
``reset`` accepts and resets (SO_LINGER 0), ``trickle`` starts a TLS record and
then sends one byte of it every 0.2 s, so no single read ever times out.  ``sha1_leaf`` uses the openssl CLI
because cryptography (>= 42) refuses to sign with SHA-1.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import pki

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

SILENT = "silent"
RESET = "reset"
TRICKLE = "trickle"
_TRICKLE_EVERY = 0.2


class FaultServer:
    """Listen on ``address``:``port``; ``mode`` silent (hold every connection) or reset (RST at once)."""

    def __init__(self, address: str, port: int, mode: str) -> None:
        if mode not in (SILENT, RESET, TRICKLE):
            raise ValueError("mode must be %r, %r or %r" % (SILENT, RESET, TRICKLE))
        self.address, self.port, self.mode = address, port, mode
        self._stop = threading.Event()
        self._held: list = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "FaultServer":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.address, self.port))
        sock.listen(64)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="fault-%s-%s" % (self.mode, self.address),
                                        daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        last_drip = time.monotonic()
        while not self._stop.is_set():
            ready = select.select([self._sock], [], [], 0.05)[0]
            if self.mode == TRICKLE and time.monotonic() - last_drip >= _TRICKLE_EVERY:
                last_drip = time.monotonic()
                for conn in list(self._held):
                    try:
                        conn.send(b"\x02")
                    except OSError:
                        self._held.remove(conn)
                        conn.close()
            if not ready:
                continue
            try:
                conn = self._sock.accept()[0]
            except OSError:
                continue
            if self.mode == RESET:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            if self.mode == TRICKLE:
                conn.send(b"\x16\x03\x03\x40\x00")  # a 16 KiB handshake record, never completed
            self._held.append(conn)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
            self._thread = None
        for conn in self._held:
            conn.close()
        self._held.clear()
        if self._sock:
            self._sock.close()
            self._sock = None


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

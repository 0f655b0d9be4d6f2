# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections pinned to one leaf certificate: how the audit looks past a rejected certificate.

When tls.cert_valid has rejected a certificate (expired, untrusted, self-signed, wrong
name), the other checks may still judge what the site serves behind it, as a browser's
"proceed anyway" would, but only from the server the TLS probe looked at.  A pinned
context skips chain and name verification and accepts the handshake only when the leaf
the server presents has the SHA-256 (of its DER) the TLS probe recorded; any other leaf
aborts the connection right after the handshake, before a byte of the request is sent.

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import hashlib
import re
import ssl

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class PinMismatch(ssl.SSLError):
    """The server presented another leaf than the pinned one: the connection is closed unused."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # http_probe classifies ssl errors by their ``reason``; a Python-made SSLError has none.
        self.reason = message
        self.library = "launchready.tls_pin"


def leaf_sha256(der: bytes) -> str:
    """The pin of a certificate: lower-case hex SHA-256 of its DER encoding."""
    return hashlib.sha256(der).hexdigest()


def normal_pin(pin: str) -> str:
    """``pin`` as 64 lower-case hex digits (colons and a "sha256:" prefix allowed); ValueError otherwise."""
    text = str(pin or "").strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    text = text.replace(":", "")
    if not _HEX64.match(text):
        raise ValueError("a leaf pin must be a SHA-256 in hex (64 digits), got %r" % pin)
    return text


def mismatch(expected: str, der: bytes | None, server_name: str = "", address: str = "") -> str:
    """Why the presented leaf ``der`` does not satisfy the pin ``expected``, or "" when it does."""
    where = " ".join(p for p in (server_name, "at " + address if address else "") if p) or "the server"
    if not der:
        return "certificate pin mismatch: %s presented no certificate, expected leaf sha256 %s" % (where, expected)
    got = leaf_sha256(der)
    if got == normal_pin(expected):
        return ""
    return ("certificate pin mismatch: %s presented leaf sha256 %s, not the leaf sha256 %s that tls.cert_valid "
            "saw: another certificate than the one judged, so nothing is judged over this connection"
            % (where, got, normal_pin(expected)))


class _PinnedSocket(ssl.SSLSocket):
    """An SSLSocket whose handshake fails unless the leaf matches its context's pin."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        ctx = self.context
        problem = mismatch(ctx.launch_leaf_sha256, self.getpeercert(binary_form=True),
                           self.server_hostname or "", getattr(ctx, "launch_address", ""))
        if problem:
            raise PinMismatch(problem)


def pinned_context(expected: str, address: str = "") -> ssl.SSLContext:
    """A client context without chain or name verification that accepts only the leaf ``expected``.

    One context per connection (cheap: no trust store is loaded); ``address`` only names the
    server in the mismatch message.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.launch_leaf_sha256 = normal_pin(expected)
    ctx.launch_address = address
    ctx.sslsocket_class = _PinnedSocket
    return ctx

# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What counts as a secret: the rules of the secret scanner, and the fingerprint of a value.

Where detect-secrets (PyPI) has a good pattern, it is taken from its plugin class
(``denylist``) and the rule says so in ``source``: AWS access keys, Stripe secret and
restricted keys, Slack tokens and webhooks, GitHub tokens, OpenAI keys, SendGrid, Twilio
API keys, Mailchimp, credentials in URLs.  detect-secrets' own
scanner is not used: it skips *.map files and drops long lines, which is where frontend
leaks live.  This module owns what detect-secrets lacks: Anthropic and new-style OpenAI
keys, Shopify, Postmark, Mailgun, fine-grained GitHub tokens, GCP service-account JSON,
the AWS secret key in env files, database URLs, the entropy rule for ``*_SECRET``/
``*_KEY`` assignments, server-side names behind public prefixes (``NEXT_PUBLIC_``,
``VITE_``, ``REACT_APP_``), and the values that are public by design (a Stripe
*publishable* key) and never reported.

Every rule has ``anchors``: lower-case literals of which one must be in the text before
its regex runs, so a bundle without "sk_live_" never pays for the Stripe regex.

Fingerprints are an HMAC-SHA256 of the value under a key (random per run unless a
baseline brings its own), shortened: they tell findings apart and match a baseline, and
cannot be checked against a guessed value by someone who has a report but not the key.

Plain Python: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
import re
import secrets
import typing as t

try:
    from detect_secrets.plugins import aws as _ds_aws
    from detect_secrets.plugins import basic_auth as _ds_basic_auth
    from detect_secrets.plugins import github_token as _ds_github
    from detect_secrets.plugins import mailchimp as _ds_mailchimp
    from detect_secrets.plugins import openai as _ds_openai
    from detect_secrets.plugins import sendgrid as _ds_sendgrid
    from detect_secrets.plugins import slack as _ds_slack
    from detect_secrets.plugins import stripe as _ds_stripe
    from detect_secrets.plugins import twilio as _ds_twilio
    DETECT_SECRETS_ERROR = None
except ImportError as exc:  # reported by rules(): the scanner refuses to run on half its rules
    DETECT_SECRETS_ERROR = exc

# Inline allowlist markers: ours, and detect-secrets' (so a repo already marked for it stays quiet).
ALLOW_MARKERS = ("launchready: allow-secret", "pragma: allowlist secret")
# A marker allowlists values on its own line, and no further than this: a minified bundle is one line, so
# "the same line" alone would allowlist everything in it.
MARKER_REACH = 160

FINGERPRINT_PREFIX = "hmac:"
FINGERPRINT_HEX = 16  # 64 bits: tells findings apart, far too short to be a value's stand-in

# Public by design: a Stripe publishable key belongs in the browser.
PUBLIC_VALUE = re.compile(r"^(?:pk_live_|pk_test_)")
# Values that are obviously not secrets: placeholders, references, templates.
PLACEHOLDER = re.compile(
    r"^(?:\$\{?[A-Za-z_]|\{\{|<[A-Za-z_ -]+>$|%\(|process\.env|os\.environ|import\.meta|env\(|getenv|"
    r"(?:x+|\*+|\.+|-+|change[-_]?me|changeit|example|placeholder|your[-_].*|todo|dummy|redacted|none|null|"
    r"true|false|undefined|secret|password)$)", re.I)

# Names that are server-side secrets even when a build tool would inline them into the bundle.
PUBLIC_PREFIXES = ("NEXT_PUBLIC_", "VITE_", "REACT_APP_")
_SERVER_WORDS = r"(?:SECRET|PRIVATE|PASSWORD|PASSWD|SERVICE_ROLE|DATABASE_URL|DB_URL|ADMIN|SIGNING|WEBHOOK_SECRET|" \
    r"STRIPE_SK|SK_LIVE|AWS_SECRET|OPENAI_API_KEY|ANTHROPIC_API_KEY|SENDGRID_API_KEY|TWILIO_AUTH)"


@dataclasses.dataclass(frozen=True)
class Rule:
    """One kind of secret: ``pattern`` finds it, group ``group`` (0: the whole match) is the value."""

    kind: str
    pattern: t.Pattern
    anchors: tuple
    source: str  # "detect-secrets:<Plugin>" or "launchready"
    group: int = 0
    min_entropy: float = 0.0
    name_is_value: bool = False  # the match is a name, not a value (public-prefix exposure)
    description: str = ""


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts: dict = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def fingerprint(key: bytes, value: str) -> str:
    """hmac:<16 hex> of ``value`` under ``key``; the same value gives the same fingerprint in one run."""
    return FINGERPRINT_PREFIX + hmac.new(key, value.encode("utf-8", "surrogateescape"),
                                         hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def new_key() -> bytes:
    """A per-run fingerprint key: fingerprints of two runs cannot be compared, nor a guess confirmed."""
    return secrets.token_bytes(32)


def is_public_or_placeholder(value: str) -> bool:
    return bool(PUBLIC_VALUE.match(value) or PLACEHOLDER.match(value.strip("'\"` ")))


def _ds(plugin_module: t.Any, class_name: str, index: int = 0) -> t.Pattern:
    return getattr(plugin_module, class_name).denylist[index]


def _build() -> list:
    ds = "detect-secrets:"
    rules = [
        # --- patterns detect-secrets' plugins already know --------------------------------------
        Rule("aws-access-key-id", _ds(_ds_aws, "AWSKeyDetector"), ("akia", "asia", "abia", "acca", "a3t"),
             ds + "AWSKeyDetector", description="AWS access key id"),
        Rule("aws-secret-access-key", _ds(_ds_aws, "AWSKeyDetector", 1), ("aws",), ds + "AWSKeyDetector", group=1,
             min_entropy=3.5, description="AWS secret access key next to an aws...key name"),
        Rule("stripe-secret-key", _ds(_ds_stripe, "StripeDetector"), ("k_live_",), ds + "StripeDetector",
             description="Stripe secret (sk_live_) or restricted (rk_live_) key"),
        Rule("slack-token", _ds(_ds_slack, "SlackDetector"), ("xox",), ds + "SlackDetector"),
        Rule("slack-webhook", _ds(_ds_slack, "SlackDetector", 1), ("hooks.slack.com",), ds + "SlackDetector"),
        Rule("github-token", _ds(_ds_github, "GitHubTokenDetector"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
             ds + "GitHubTokenDetector"),
        Rule("openai-api-key", _ds(_ds_openai, "OpenAIDetector"), ("t3blbkfj",), ds + "OpenAIDetector"),
        Rule("sendgrid-api-key", _ds(_ds_sendgrid, "SendGridDetector"), ("sg.",), ds + "SendGridDetector"),
        Rule("twilio-api-key", _ds(_ds_twilio, "TwilioKeyDetector", 1), ("sk",), ds + "TwilioKeyDetector"),
        Rule("mailchimp-api-key", _ds(_ds_mailchimp, "MailchimpDetector"), ("-us",), ds + "MailchimpDetector"),
        # --- ours -----------------------------------------------------------------------------------
        Rule("aws-secret-access-key", re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*(?:=|:|=>)\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
            ("aws",), "launchready", group=1, min_entropy=3.5, description="AWS secret key in an env/YAML file"),
        Rule("openai-api-key", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"), ("sk-",), "launchready",
             description="OpenAI project/service key"),
        Rule("anthropic-api-key", re.compile(r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{40,}"), ("sk-ant-",),
             "launchready"),
        Rule("github-token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{60,}"), ("github_pat_",), "launchready",
             description="fine-grained GitHub token"),
        Rule("shopify-token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"), ("shp",), "launchready"),
        Rule("mailgun-api-key", re.compile(r"\bkey-[0-9a-f]{32}\b|\b[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}\b"),
             ("key-", "mailgun"), "launchready"),
        Rule("postmark-token", re.compile(
            r"(?i)postmark\w{0,30}?(?:token|key)[\"']?\s*(?:=|:|=>)\s*[\"']?"
            r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"), ("postmark",), "launchready", group=1),
        Rule("gcp-service-account", re.compile(r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\""), ("private_key_id",),
             "launchready", group=1, description="GCP service-account JSON"),
        Rule("private-key", re.compile(
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
            r"(?:\\n|\\r|\s)*([A-Za-z0-9+/=]{40,}(?:(?:\\n|\\r|\s)+[A-Za-z0-9+/=]{16,}){0,3})"),
            ("private key",), "launchready", group=1,
            description="PEM/OpenSSH private key (detect-secrets' PrivateKeyDetector markers, with the key body)"),
        Rule("database-url-password", re.compile(
            r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql)://"
            r"[^\s:/@'\"`]+:([^\s@/'\"`]{3,})@"), ("://",), "launchready", group=1,
            description="database URL with a password"),
        Rule("url-credentials", _ds(_ds_basic_auth, "BasicAuthDetector"), ("://",), ds + "BasicAuthDetector", group=1,
             min_entropy=2.5),
        Rule("generic-secret", re.compile(
            r"(?i)\b([A-Za-z0-9_.-]*(?:secret|api_?key|private_?key|access_?key|auth_?token|signing_?key|"
            r"client_?secret|password|passwd|token|_key))[\"'`]?\s*(?:=|:=|:|=>)\s*[\"'`]?"
            r"([A-Za-z0-9_+/=~.!@#%^&*-]{16,})"),
            ("secret", "key", "token", "passw"), "launchready", group=2, min_entropy=3.5,
            description="high-entropy value assigned to a *_SECRET/*_KEY/*TOKEN/*PASSWORD name"),
        Rule("public-prefix-exposure", re.compile(
            r"\b((?:NEXT_PUBLIC_|VITE_|REACT_APP_)[A-Z0-9_]*%s[A-Z0-9_]*)\b" % _SERVER_WORDS),
            ("next_public_", "vite_", "react_app_"), "launchready", group=1, name_is_value=True,
            description="a server-side name behind a public prefix: the build puts its value into the bundle"),
    ]
    return rules


_RULES: list | None = None


def rules() -> list:
    """The rule set (built once). Raises RuntimeError when detect-secrets is not installed."""
    global _RULES
    if DETECT_SECRETS_ERROR is not None:
        raise RuntimeError("the secret scanner builds on detect-secrets: pip install detect-secrets==1.5.0 (%s)"
                           % DETECT_SECRETS_ERROR)
    if _RULES is None:
        _RULES = _build()
    return _RULES


def accept(rule: Rule, value: str) -> bool:
    """Whether ``value`` matched by ``rule`` is reported (not public, not a placeholder, random enough)."""
    if rule.name_is_value:
        return True
    if is_public_or_placeholder(value):
        return False
    if rule.min_entropy and shannon_entropy(value) < rule.min_entropy:
        return False
    if rule.kind == "generic-secret" and (value.startswith(("http://", "https://")) or "." in value[:1]):
        return False
    return True

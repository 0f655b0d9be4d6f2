"""Build the storefront's static assets: content-hashed bundles plus a manifest.

``python build.py --out DIR`` turns ``src/app.js`` and ``src/app.css`` into
``DIR/app.<hash>.js`` and ``DIR/app.<hash>.css`` (hash: the first 12 hex digits of the
SHA-256 of the built content) and writes ``DIR/manifest.json`` mapping the logical names to
the built ones. The build is deterministic and writes nothing that is already up to date, so
it can run on every deploy; it prints one JSON line, ``{"changed": bool, "manifest": {...}}``.
With ``--check`` it only reports whether it would change anything. Earlier bundles are kept:
a browser holding an old page can still load the assets it refers to.

``SHOP_DEMO_BUNDLE_SECRET=1`` (off by default) builds the mistake secrets.frontend_bundle
exists for: the server's SHOP_SECRET_KEY, and a Stripe-style secret key derived from it,
inlined into app.js as a "config" object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")
ASSETS = ("app.js", "app.css")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def bundle(name: str, text: str) -> str:
    """A deliberately small "minifier": drop comments and indentation, keep line structure."""
    if name.endswith(".css"):
        text = _BLOCK_COMMENT.sub("", text)
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (name.endswith(".js") and stripped.startswith("//")):
            continue
        lines.append(stripped)
    return "\n".join(lines) + "\n"


def _demo_bundle_secret() -> str:
    """SHOP_DEMO_BUNDLE_SECRET: the server-side secrets a careless build inlines into the bundle."""
    if os.environ.get("SHOP_DEMO_BUNDLE_SECRET", "").strip().lower() not in ("1", "true", "yes", "on"):
        return ""
    key = os.environ.get("SHOP_SECRET_KEY", "")
    if not key:
        raise SystemExit("SHOP_DEMO_BUNDLE_SECRET=1 needs SHOP_SECRET_KEY in the build's environment")
    stripe = "sk_live_" + hashlib.sha256(("stripe:" + key).encode()).hexdigest()[:32]
    return 'window.SHOP_CONFIG={SHOP_SECRET_KEY:"%s",STRIPE_SECRET_KEY:"%s"};\n' % (key, stripe)


def _write_if_changed(path: str, content: str, check: bool) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == content:
                return False
    except FileNotFoundError:
        pass
    if not check:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    return True


def build(out: str, src: str = SRC, check: bool = False) -> dict:
    if not check:
        os.makedirs(out, exist_ok=True)
    manifest = {}
    changed = False
    for name in ASSETS:
        with open(os.path.join(src, name), encoding="utf-8") as fh:
            content = bundle(name, fh.read())
        if name.endswith(".js"):
            content = _demo_bundle_secret() + content
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]
        stem, ext = os.path.splitext(name)
        built = "%s.%s%s" % (stem, digest, ext)
        manifest[name] = built
        changed |= _write_if_changed(os.path.join(out, built), content, check)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    changed |= _write_if_changed(os.path.join(out, "manifest.json"), text, check)
    return {"changed": changed, "manifest": manifest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the storefront's content-hashed assets.")
    parser.add_argument("--out", required=True, help="directory for the bundles and manifest.json")
    parser.add_argument("--src", default=SRC, help="directory holding app.js and app.css")
    parser.add_argument("--check", action="store_true", help="report what would change, write nothing")
    args = parser.parse_args(argv)
    result = build(os.path.abspath(args.out), args.src, args.check)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

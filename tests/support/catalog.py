"""The check ids of the public catalog (docs/checks.md), section by section."""

from __future__ import annotations

import os
import re

from tests.support import ansible_run

CATALOG = os.path.join(ansible_run.ROOT, "docs", "checks.md")


def ids(section: str, prefixes: tuple = ()) -> set:
    """Ids listed under the "## SECTION..." heading, optionally only those starting with ``prefixes``."""
    with open(CATALOG, encoding="utf-8") as fh:
        text = fh.read()
    body = text.split("\n## " + section)[1].split("\n## ")[0]
    found = set(re.findall(r"^\| ([a-z]+\.[a-z_]+) \|", body, re.M))
    return {i for i in found if i.startswith(prefixes)} if prefixes else found

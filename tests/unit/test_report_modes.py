"""Report files are not world-readable (issue #12 item 12): they list the site's weak spots and
carry secret fingerprints."""

from __future__ import annotations

import os
import stat

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.plugin_utils import reports


def _report() -> dict:
    spec = F.CheckSpec(id="secrets.env_separation", impact=F.HIGH, stage="audit", title="t", fix="f")
    return reports.build("shop.test", [F.make(spec, F.FAIL, "app1", "1 secret shared",
                                              evidence={"shared": [{"fingerprint": "hmac-sha256:0123456789ab"}]})])


def _modes(paths: dict) -> dict:
    return {name: stat.S_IMODE(os.stat(path).st_mode) for name, path in paths.items()}


def test_report_files_are_written_0640_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        paths = reports.write(str(tmp_path / "shop.test"), _report())
    finally:
        os.umask(old)
    assert sorted(paths) == sorted(reports.REPORT_FILES)
    assert _modes(paths) == {name: 0o640 for name in reports.REPORT_FILES}
    assert stat.S_IMODE(os.stat(tmp_path / "shop.test").st_mode) == 0o750
    # Rewriting an existing report (a later stage merges into it) keeps the mode.
    again = reports.write(str(tmp_path / "shop.test"), _report())
    assert set(_modes(again).values()) == {0o640}
    assert not [n for n in os.listdir(tmp_path / "shop.test") if n.startswith(".tmp-")]


def test_a_stricter_mode_can_be_asked_for(tmp_path):
    paths = reports.write(str(tmp_path), _report(), mode=0o600)
    assert set(_modes(paths).values()) == {0o600}

"""Shared paths never lead out of the release (issue #12 item 5).

The app repository is not trusted: a real repository commits ``public -> <dir outside>``,
the release is exported from it as a deploy does, and linking ``public/uploads`` must be
refused with the sentinel directory outside left as it was.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import release as R
from tests.support import shop_repo


@pytest.fixture
def outside(tmp_path):
    """A directory outside the release root with an uploads folder worth keeping."""
    sentinel = tmp_path / "outside"
    (sentinel / "uploads").mkdir(parents=True)
    (sentinel / "uploads" / "keep.txt").write_text("customer upload\n")
    return sentinel


@pytest.fixture
def release_with_symlink(tmp_path, outside):
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.py").write_text("app\n")
    (work / "inside").mkdir()
    (work / "inside" / ".keep").write_text("")
    os.symlink(str(outside), work / "public")
    os.symlink("inside", work / "assets")  # a symlink that stays inside is fine
    shop_repo.git(str(work), "init", "-q", "-b", "main")
    shop_repo.git(str(work), "add", "-A")
    shop_repo.git(str(work), "commit", "-q", "-m", "public is a symlink")
    root = R.Root(str(tmp_path / "app"))
    root.ensure_layout()
    R.update_cache(root, str(work))
    commit = R.resolve_cached(root, "main")
    R.export(root, commit, root.release_path("r1"))
    assert os.path.islink(os.path.join(root.release_path("r1"), "public"))
    return root


def test_a_shared_dir_under_a_symlink_out_of_the_release_is_refused(release_with_symlink, outside):
    root = release_with_symlink
    with pytest.raises(R.ReleaseError) as refused:
        root.link_shared("r1", [".env"], ["public/uploads"])
    message = str(refused.value)
    assert "'public/uploads'" in message and "shared_dirs" in message and str(outside) in message
    assert (outside / "uploads" / "keep.txt").read_text() == "customer upload\n"
    # Every path is checked before any is linked: .env was not linked either.
    assert not os.path.lexists(os.path.join(root.release_path("r1"), ".env"))


def test_a_shared_file_under_the_symlink_is_refused_too(release_with_symlink, outside):
    (outside / "config.php").write_text("outside\n")
    with pytest.raises(R.ReleaseError, match="outside the release"):
        release_with_symlink.link_shared("r1", ["public/config.php"], [])
    assert (outside / "config.php").read_text() == "outside\n"


def test_a_symlink_inside_the_release_is_followed(release_with_symlink):
    root = release_with_symlink
    assert root.link_shared("r1", [], ["assets/uploads"]) == ["assets/uploads"]
    assert os.path.islink(os.path.join(root.release_path("r1"), "inside", "uploads"))


@pytest.mark.parametrize("bad", ["", ".", "./", "..", "../x", "a/../../x", "a/./b", "a//b", "/etc"])
def test_empty_dot_and_dotdot_paths_are_refused(tmp_path, bad):
    root = R.Root(str(tmp_path / "app"))
    root.ensure_layout()
    os.makedirs(root.release_path("r1"))
    (tmp_path / "app" / "releases" / "r1" / "app.py").write_text("app\n")
    with pytest.raises(R.ReleaseError, match="shared_dirs entry"):
        root.link_shared("r1", [], [bad])
    assert os.listdir(root.release_path("r1")) == ["app.py"]

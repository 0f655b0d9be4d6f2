#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/launchready/ops:
# copy the tracked (and new, unignored) files there and run it in a venv it manages.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Outside this git tree: inside it, ansible-test would see only git-tracked paths and skip all.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/launchready/ops"
mkdir -p "$dest"
cd "$top"
# Files deleted in the work tree but still in the index are skipped.
git ls-files --cached --others --exclude-standard -z | while IFS= read -r -d '' f; do
  if [ -e "$f" ]; then cp --parents "$f" "$dest"/; fi
done
# A venv of its own: --requirements installs the sanity tests' pinned tools into it, and
# ansible-test's --venv mode would fetch get-pip from a host that is not a package registry.
venv="$top/build/sanity-venv"
if [ ! -x "$venv/bin/ansible-test" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "ansible-core==$(sed -n 's/^ansible-core==//p' "$top/requirements.txt")"
fi
# ansible-test bootstraps pip in each test venv with a get-pip script from a host that is
# not a package registry; give it the stand-in that uses ensurepip and the index instead.
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
[ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp "$top/scripts/get_pip_standin.py" "$cache"; }
cd "$dest"
"$venv/bin/ansible-test" sanity --requirements --python 3.11 --color no "$@"

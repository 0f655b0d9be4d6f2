# shellcheck shell=bash
# `source scripts/env.sh` (bash): the environment make gives Ansible, for commands run by hand.
# Ansible then loads launchready.ops from this working tree (build/collections links to it),
# never from a copy under ~/.ansible, and keeps what it installs or caches in build/.
_launchready_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ANSIBLE_COLLECTIONS_PATH="$_launchready_top/build/collections"
export PYTHONPATH="$_launchready_top/build/collections"
export ANSIBLE_CONFIG="$_launchready_top/ansible.cfg"
export ANSIBLE_HOME="$_launchready_top/build/ansible-home"
export PATH="$_launchready_top/.venv/bin:/usr/sbin:$PATH"
unset _launchready_top

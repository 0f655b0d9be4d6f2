# launchready.ops - the two commands a user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/launchready/ops
LAB_INVENTORY := inventories/lab
# A YAML file of lab_* variables (another address plan: see the README) for lab-up, lab-down
# and demo: make demo LAB_VARS=lab-127.0.1.yml
LAB_VARS ?=
LAB_EXTRA := $(if $(LAB_VARS),-e @$(abspath $(LAB_VARS)))
# `make test` runs the suite with this HOME; it must end holding only the README's caches.
TEST_HOME ?= $(CURDIR)/build/home

# The collection is importable as launchready.ops through a symlink to this tree.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(VENV)/bin:/usr/sbin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# What Ansible and the tools around it install or cache (molecule's copy of the collection,
# ansible-galaxy's cache, temp files) stays in the tree instead of ~/.ansible, where a stale
# copy of the collection would shadow this tree for a later run outside make.
export ANSIBLE_HOME := $(CURDIR)/build/ansible-home

.PHONY: setup demo test lint sanity bench bench-deploy lab-up lab-down build clean

setup: $(VENV)/.installed $(COLLECTION_LINK)
	@scripts/system-packages.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

lab-up: setup
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml -e lab_state=up $(LAB_EXTRA)

lab-down: setup
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml -e lab_state=down $(LAB_EXTRA)

# The audit first, then the load check (launch_load in the lab inventory: 10 s), which adds its
# section and chart to the same reports/shop.test/report.html (it must not run beside the audit),
# then monitoring, which renders the status page (group_vars/monitoring.yml: monitoring_status_page).
demo: lab-up
	ansible-playbook -i $(LAB_INVENTORY) launchready.ops.audit $(LAB_EXTRA)
	ansible-playbook -i $(LAB_INVENTORY) launchready.ops.load_check $(LAB_EXTRA)
	ansible-playbook -i $(LAB_INVENTORY) launchready.ops.monitoring $(LAB_EXTRA)
	@ansible -i $(LAB_INVENTORY) lab-controller -m ansible.builtin.debug -a 'msg="Status page: {{ monitoring_status_page }}"' $(LAB_EXTRA) \
		| grep -o "Status page: [^'\"]*"

# HOME is a directory of the tree, emptied first but for the caches the README names; the
# session fails if the suite leaves anything else in it (tests/support/home_check.py).
# rustup keeps its own home: pip runs `rustc --version` for its User-Agent, and a rustup
# proxy would otherwise write its settings into the test HOME.
test: setup
	$(PY) -m tests.support.home_check --reset $(TEST_HOME)
	RUSTUP_HOME=$${RUSTUP_HOME:-$$HOME/.rustup} CARGO_HOME=$${CARGO_HOME:-$$HOME/.cargo} \
	  HOME=$(TEST_HOME) LAUNCHREADY_TEST_HOME=$(TEST_HOME) LAUNCHREADY_RUNTIME_DIR=$(CURDIR)/build/runtime \
	  $(PY) -m pytest --durations=25 tests

lint: setup
	ruff check .
	ansible-lint --profile production

sanity: setup
	scripts/sanity.sh

bench: setup
	$(PY) bench/run.py
	$(PY) bench/edge.py
	$(PY) bench/email_auth.py
	$(PY) bench/deploy.py
	$(PY) bench/load.py
	$(PY) bench/monitoring.py
	$(PY) bench/fleet.py
	$(PY) bench/secret_scan.py

bench-deploy: setup
	$(PY) bench/deploy.py

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build reports .pytest_cache

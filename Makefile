# launchready.ops - the two commands a user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/launchready/ops
LAB_INVENTORY := inventories/lab

# The collection is importable as launchready.ops through a symlink to this tree.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(VENV)/bin:/usr/sbin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

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
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml -e lab_state=up

lab-down: setup
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml -e lab_state=down

demo: lab-up
	ansible-playbook -i $(LAB_INVENTORY) launchready.ops.audit

test: setup
	$(PY) -m pytest tests

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
	$(PY) bench/secret_scan.py

bench-deploy: setup
	$(PY) bench/deploy.py

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build reports .pytest_cache

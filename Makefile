# The two set-up commands: `make run` (demo daemon) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck unit system-deps bench wheelhouse schema clean lock

# Exact versions with hashes (requirements/*.lock, written by `make lock`): every install takes
# them and nothing else, so a package released after the lock was made changes nothing. pip
# refuses a file whose hash differs and any dependency missing from the lock. lienthong itself
# goes in last, with --no-deps and built by the locked setuptools (--no-build-isolation), then
# its simulators (lienthong-sim, built from simulators/pyproject.toml: the `sim` extra) the same
# way: the demo, the tests and the benchmarks run them.
LOCK := requirements/runtime.lock
TEST_LOCK := requirements/test.lock
TOOLS_LOCK := requirements/tools.lock
PIP_LOCKED := $(PIP) install -q --require-hashes -r
PIP_SELF := $(PIP) install -q --no-deps --no-build-isolation -e .
PIP_SIM := $(PIP) install -q --no-deps --no-build-isolation -e simulators
UV_COMPILE := $(VENV)/bin/uv pip compile -q --universal --python-version 3.11 --generate-hashes --upgrade

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.installed: $(LOCK) pyproject.toml simulators/pyproject.toml | $(VENV)/bin/python
	$(PIP_LOCKED) $(LOCK)
	$(PIP_SELF)
	$(PIP_SIM)
	touch $@

$(VENV)/.installed-test: $(TEST_LOCK) pyproject.toml simulators/pyproject.toml | $(VENV)/bin/python
	$(PIP_LOCKED) $(TEST_LOCK)
	$(PIP_SELF)
	$(PIP_SIM)
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

# The offline wheelhouse holds exactly the runtime lock (hash-checked) plus lienthong's own wheel
# and the simulators' (lienthong-sim, for a demo or test machine: `lienthong[sim]`), so what an
# office installs without internet is what the tests ran on. Build folders are removed before (a
# stale one would slip old files into a wheel) and after (none is left inside the packages).
BUILD_LEFTOVERS := build lienthong.egg-info simulators/build simulators/lienthong_sim.egg-info
wheelhouse: $(VENV)/.installed
	rm -rf wheelhouse $(BUILD_LEFTOVERS)
	$(PIP) wheel -q --require-hashes -w wheelhouse -r $(LOCK)
	$(PIP) wheel -q --no-deps --no-build-isolation -w wheelhouse . ./simulators
	rm -rf $(BUILD_LEFTOVERS)
	cp $(LOCK) wheelhouse/requirements.lock

# Refreshes the locks to the newest releases that pyproject.toml allows (then: make test, and read
# the changelogs of cryptography, pyHanko, lxml and aiohttp; docs/operations.md).
lock: | $(VENV)/bin/python
	$(PIP_LOCKED) $(TOOLS_LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -o $(LOCK)
	$(UV_COMPILE) --extra test pyproject.toml requirements/build.in -c $(LOCK) -o $(TEST_LOCK)
	$(UV_COMPILE) requirements/tools.in -o $(TOOLS_LOCK)

clean:
	rm -rf $(VENV) data wheelhouse .mypy_cache .ruff_cache $(BUILD_LEFTOVERS)

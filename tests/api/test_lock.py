"""requirements/*.lock: exact versions with hashes that agree with pyproject.toml.

Every install (make run, test, bench, wheelhouse) takes the locks and nothing else, so these
tests fail when someone edits a dependency in pyproject.toml without running `make lock`, or
edits a lock by hand.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQ = ROOT / "requirements"
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
FROM_PYPROJECT = "lienthong (pyproject.toml)"


@dataclass
class Pin:
    version: str
    hashes: int = 0
    via: list[str] = field(default_factory=list)


def read_lock(path: Path) -> dict[str, Pin]:
    """name → pin, with the number of hashes and what pulled it in (uv's `# via` notes)."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if match := ENTRY.match(raw):
            name = canonicalize_name(match["name"])
            assert name not in pins, f"{path.name}: {name} pinned twice"
            current = pins[name] = Pin(match["version"])
        elif current is None:
            continue
        elif line.startswith("--hash=sha256:"):
            current.hashes += 1
        elif line.startswith("# via ") or line.startswith("#   "):
            current.via.append(line.removeprefix("# via ").removeprefix("#   ").strip())
    return pins


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def build_tools() -> list[Requirement]:
    lines = (REQ / "build.in").read_text(encoding="utf-8").splitlines()
    return [Requirement(ln) for ln in lines if ln.strip() and not ln.startswith("#")]


# The extras each lock covers. The `sim` extra is in none: it names only lienthong-sim, our own
# second distribution (simulators/pyproject.toml), which every install takes from the source
# tree or the wheelhouse with --no-deps, as it takes lienthong itself, and whose dependencies
# are lienthong's own. A lock holds third-party packages only.
LOCKS = {"runtime.lock": (), "test.lock": ("test",)}
OWN = {"lienthong", "lienthong-sim"}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_declared_dependency_is_locked_at_a_version_it_allows(lock: str) -> None:
    pins = read_lock(REQ / lock)
    for req in declared(*LOCKS[lock]) + build_tools():
        pin = pins.get(canonicalize_name(req.name))
        assert pin is not None, f"{req.name} is in pyproject.toml but not in {lock}: run make lock"
        assert req.specifier.contains(pin.version, prereleases=True), (
            f"{lock} pins {req.name}=={pin.version}, outside pyproject.toml's {req.specifier}"
        )


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_locked_package_is_declared_or_needed(lock: str) -> None:
    """Nothing stale: a pin that pyproject.toml pulled in is still declared there, and any other
    pin is needed by a package of the same lock."""
    pins = read_lock(REQ / lock)
    names = {canonicalize_name(r.name) for r in declared(*LOCKS[lock]) + build_tools()}
    for name, pin in pins.items():
        assert pin.via, f"{lock}: {name} says nothing of what needs it"
        if FROM_PYPROJECT in pin.via:
            assert name in names, f"{lock} has {name} from pyproject.toml, which no longer has it"
        parents = [v for v in pin.via if not v.startswith("-") and v != FROM_PYPROJECT]
        for parent in parents:
            assert canonicalize_name(parent) in pins, (
                f"{lock}: {name} needed by {parent}, not locked"
            )


@pytest.mark.parametrize("lock", ["runtime.lock", "test.lock", "tools.lock"])
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    text = (REQ / lock).read_text(encoding="utf-8")
    pins = read_lock(REQ / lock)
    assert pins, f"{lock} is empty"
    for name, pin in pins.items():
        assert pin.hashes >= 1, f"{lock}: {name} has no hash; pip --require-hashes would refuse"
    loose = [ln for ln in text.splitlines() if re.match(r"^[A-Za-z0-9].*(>=|<=|~=|>|<)", ln)]
    assert not loose, f"{lock}: not exact: {loose}"


def test_the_test_lock_installs_the_same_runtime_as_the_runtime_lock() -> None:
    """What the tests ran on is what `make run` and the wheelhouse install."""
    runtime, test = read_lock(REQ / "runtime.lock"), read_lock(REQ / "test.lock")
    differ = {n: (p.version, test[n].version) for n, p in runtime.items() if n in test}
    differ = {n: v for n, v in differ.items() if v[0] != v[1]}
    assert not differ, f"runtime and test locks disagree: {differ}"
    assert set(runtime) <= set(test), f"missing from test.lock: {set(runtime) - set(test)}"


def test_every_install_goes_through_the_locks() -> None:
    """The Makefile installs third-party packages only from a lock, hash-checked, and lienthong
    itself without resolving dependencies."""
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [ln for ln in make.splitlines() if re.search(r"\b(install|wheel)\b", ln)]
    for line in installs:
        if "PIP_LOCKED :=" in line or "$(PIP_LOCKED)" in line:
            continue
        if "--no-deps" in line or "apt-get" in line or ".PHONY" in line:
            continue
        if "--require-hashes" in line:
            continue
        if line.lstrip().startswith("#") or line.startswith(("run:", "wheelhouse:", "lock:")):
            continue
        pytest.fail(f"Makefile installs outside the lock: {line.strip()}")
    assert "--require-hashes" in make and "$(PIP_LOCKED) $(TEST_LOCK)" in make


def test_the_sim_extra_names_only_our_own_simulators_so_no_lock_holds_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    sim = [Requirement(r) for r in project["optional-dependencies"]["sim"]]
    assert [(canonicalize_name(r.name), str(r.specifier)) for r in sim] == [
        ("lienthong-sim", f"=={project['version']}")
    ]
    for lock in ("runtime.lock", "test.lock", "tools.lock"):
        assert not OWN & set(read_lock(REQ / lock)), f"{lock} pins one of our own distributions"

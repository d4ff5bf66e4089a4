"""Deployment as shipped: the unit's EnvironmentFile carries every secret the example
configuration names, the package prints its examples, the docs state what an offline server
needs, the README stays inside the repository, and health probes need no token."""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions
from pathlib import Path

import aiohttp
import pytest

from bridge.app import build_daemon, load_config, parse_config
from bridge.cli import main
from bridge.config_check import refusals
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import config_dict

ROOT = Path(__file__).resolve().parents[2]
UNIT_FILE = ROOT / "deploy" / "lienthong.service"
ENV_FILE = ROOT / "deploy" / "lienthong.env.example"
EXAMPLE = ROOT / "config.example.toml"
OPERATIONS = ROOT / "docs" / "operations.md"
README = ROOT / "README.md"


def _systemd_environment_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as systemd reads an EnvironmentFile (comments and blanks skipped)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"not KEY=VALUE: {line!r}"
        env[key] = value
    return env


def test_unit_environment_file_carries_every_secret_of_the_example() -> None:
    """The unit reads /etc/lienthong/lienthong.env; the sample holds exactly the ${NAME}s of
    the example configuration, which then loads and passes every start-up rule with it alone."""
    unit = UNIT_FILE.read_text(encoding="utf-8")
    assert re.search(r"^EnvironmentFile=/etc/lienthong/lienthong\.env$", unit, re.M)
    assert not re.search(r"^LoadCredential=", unit, re.M), "no credential file the docs omit"
    env = _systemd_environment_file(ENV_FILE.read_text(encoding="utf-8"))
    named = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", EXAMPLE.read_text(encoding="utf-8")))
    named.discard("NAME")  # the comment explaining the syntax
    assert set(env) == named
    config = load_config(EXAMPLE, environ=env)
    assert refusals(config) == []


def test_check_config_passes_the_example_with_the_sample_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As ExecStartPre runs it: the example configuration with the sample env file."""
    for key, value in _systemd_environment_file(ENV_FILE.read_text(encoding="utf-8")).items():
        monkeypatch.setenv(key, value)
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "configuration valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("what", "path"), [("config", EXAMPLE), ("unit", UNIT_FILE), ("env", ENV_FILE)]
)
def test_package_prints_its_examples(
    what: str, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lienthong example config|unit|env` prints the files shipped in the package, which
    are the repository's."""
    assert main(["example", what]) == 0
    assert capsys.readouterr().out == path.read_text(encoding="utf-8")


def _glibc(tag: str) -> tuple[int, int] | None:
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    if m := re.search(r"manylinux_(\d+)_(\d+)_", tag):
        return int(m.group(1)), int(m.group(2))
    return next((v for k, v in legacy.items() if f"{k}_" in tag), None)


def _glibc_needed() -> tuple[int, int]:
    """The newest glibc among the locked runtime wheels installed here (each wheel needs the
    oldest of its own tags); a wheelhouse built on this machine holds the same wheels."""
    lock = (ROOT / "requirements" / "runtime.lock").read_text(encoding="utf-8")
    locked = {
        re.sub(r"[-_.]+", "-", n).lower() for n in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.M)
    }
    needed = (2, 5)
    for dist in distributions():
        if re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower() not in locked:
            continue
        tags = [
            ln.split(":", 1)[1].strip()
            for ln in (dist.read_text("WHEEL") or "").splitlines()
            if ln.startswith("Tag:")
        ]
        versions = [v for t in tags if (v := _glibc(t)) is not None]
        if versions:
            needed = max(needed, min(versions))
    return needed


def test_operations_states_the_offline_prerequisites() -> None:
    """docs/operations.md names python3-venv, Python 3.11 and the glibc the wheels need.
    Read from the manylinux wheels installed here: on another system it fails, not skips."""
    assert sys.platform.startswith("linux"), "the glibc floor is read from Linux wheels"
    text = OPERATIONS.read_text(encoding="utf-8")
    major, minor = _glibc_needed()
    assert f"glibc ≥ {major}.{minor}" in text
    assert "python3-venv" in text and "Python 3.11" in text
    for heading in ("## Upgrading lienthong", "## Rolling back"):
        assert heading in text
    assert "back up" in text.lower() and "migration" in text


def test_readme_and_operations_stay_inside_the_repository() -> None:
    """No link or path in README.md leaves the repository; every relative link resolves; the
    CLI's environment variables are documented in both."""
    for doc in (README, OPERATIONS):
        text = doc.read_text(encoding="utf-8")
        assert "../" not in text, f"{doc.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not re.match(r"[a-z]+:", target):
                assert (doc.parent / target).exists(), f"{doc.name} links a missing {target}"
        assert "LIENTHONG_URL" in text and "LIENTHONG_TOKEN" in text


async def test_readyz_needs_no_token(tmp_path: Path) -> None:
    """A health probe without the token gets /readyz (and /healthz); /status still needs it."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["http"]["token"] = "probe-test-token"
        async with build_daemon(parse_config(raw, {})) as daemon, aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{daemon.http.port}"
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200 and (await resp.json())["ready"] is True
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/status") as resp:
                assert resp.status == 401

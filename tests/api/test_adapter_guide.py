"""docs/adapters.md's worked example is real code: extracted, type-checked by import, and run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adapters.md"
BLOCK = re.compile(r"^```python file=(?P<name>\S+)\n(?P<code>.*?)^```$", re.M | re.S)
# Outside the tree ruff cannot tell our packages from third-party ones; say so for isort.
FIRST_PARTY = [
    "--config",
    "lint.isort.known-first-party = ['adapters', 'bridge', 'schemas', 'simulators']",
]
EXPECTED = {
    "adapters/jsonfeed/settings.py",
    "adapters/jsonfeed/mapping.py",
    "adapters/jsonfeed/source.py",
    "simulators/jsonfeed.py",
    "adapters/jsonfeed/__init__.py",
    "adapters/test_jsonfeed_example.py",
}


def _extract(target: Path) -> dict[str, str]:
    blocks = {m["name"]: m["code"] for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}
    for name, code in blocks.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    return blocks


def test_guide_has_every_part_of_the_example() -> None:
    """The guide shows settings, mapper, source, simulator, profile and a test of the example."""
    blocks = {m["name"] for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}
    assert blocks == EXPECTED


def test_example_adapter_runs_against_its_simulator(tmp_path: Path) -> None:
    """The extracted `jsonfeed` package, placed beside the real adapters, passes its own tests."""
    overlay = tmp_path / "overlay"
    _extract(overlay)
    test_file = overlay / "adapters" / "test_jsonfeed_example.py"
    # `adapters.jsonfeed` and `simulators.jsonfeed` must import as parts of the real packages.
    (overlay / "conftest.py").write_text(
        "import adapters, simulators\n"
        f"adapters.__path__.append({str(overlay / 'adapters')!r})\n"
        f"simulators.__path__.append({str(overlay / 'simulators')!r})\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(overlay),
            "-c",
            str(ROOT / "pyproject.toml"),
            str(overlay / "conftest.py"),
            str(test_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


def test_example_passes_ruff(tmp_path: Path) -> None:
    """The example code is formatted and lint-clean like the rest of the tree."""
    _extract(tmp_path / "adapters")
    ruff = Path(sys.executable).parent / "ruff"
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [
                str(ruff),
                *args,
                "--config",
                str(ROOT / "pyproject.toml"),
                *FIRST_PARTY,
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr

"""Two distributions: `lienthong` (the daemon: bridge, adapters, schemas) and `lienthong-sim`
(the simulators, installed as the extra `lienthong[sim]`). A production daemon never carries
or imports a simulator.

Both wheels are built the way `make wheelhouse` builds them, from a copy of the sources in a
temporary folder (no build leftovers in the checkout, none from an earlier build in the wheel).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "bridge", "adapters", "schemas", "simulators"]
LEFTOVERS = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
# A string that names a module of the simulators, as `importlib.import_module` would take it.
SIM_MODULE = re.compile(r"simulators(\.\w+)*")
# The one place the daemon may name them: the CLI loads the demo by name, and says how to install
# them when the import fails for want of the package.
LOADER = ("bridge/cli", {"simulators.demo", "simulators"})


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheels")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=LEFTOVERS)
        else:
            shutil.copy(path, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(out), str(src), str(src / "simulators")], check=True)
    built = {canonicalize_name(w.name.split("-")[0]): w for w in out.glob("*.whl")}
    assert set(built) == {"lienthong", "lienthong-sim"}, sorted(built)
    return {name: zipfile.ZipFile(path) for name, path in built.items()}


def _metadata(wheel: zipfile.ZipFile) -> Message:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(wheel.read(name).decode())


def _only_with(evaluate: Callable[[dict[str, str]], bool], extra: str) -> bool:
    """A requirement's marker holds with `extra` asked for, and not without it."""
    return evaluate({"extra": extra}) and not evaluate({"extra": ""})


def _is_simulator(part: str) -> bool:
    return part in {"sim", "simulator", "simulators"} or part.endswith(("_sim", "_simulator"))


def test_the_daemon_wheel_carries_no_simulator(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = wheels["lienthong"].namelist()
    assert {"bridge/cli.py", "adapters/tdoffice/source.py", "schemas/document.py"} <= set(names)
    assert not [n for n in names if n.startswith("simulators/")]
    under_adapters = [n for n in names if n.startswith("adapters/")]
    assert not [n for n in under_adapters if any(map(_is_simulator, Path(n).with_suffix("").parts))]
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert "simulators" not in wheels["lienthong"].read(top_level).decode().split()


def test_the_sim_wheel_carries_the_simulators_alone(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = set(wheels["lienthong-sim"].namelist())
    modules = {f"simulators/{p.name}" for p in (ROOT / "simulators").glob("*.py")}
    assert {"simulators/__init__.py", "simulators/server.py", "simulators/demo.py"} <= modules
    assert modules <= names
    others = {n for n in names - modules if ".dist-info/" not in n}
    assert not others, f"lienthong-sim carries more than the simulators' modules: {others}"


def test_the_sim_extra_requires_the_simulators_of_the_same_version(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    daemon, sim = _metadata(wheels["lienthong"]), _metadata(wheels["lienthong-sim"])
    assert "sim" in daemon.get_all("Provides-Extra", [])
    wanted = [Requirement(r) for r in daemon.get_all("Requires-Dist", [])]
    by_sim = [r for r in wanted if r.marker and _only_with(r.marker.evaluate, "sim")]
    assert [(r.name, str(r.specifier)) for r in by_sim] == [("lienthong-sim", f"=={VERSION}")]
    assert daemon["Version"] == sim["Version"] == VERSION
    needs = [Requirement(r) for r in sim.get_all("Requires-Dist", [])]
    assert [(r.name, str(r.specifier)) for r in needs] == [("lienthong", f"=={VERSION}")]


def simulator_imports(source: str) -> list[str]:
    """Every import of the simulators in a module (at its top or inside a function) and every
    string that names one of their modules (what `importlib.import_module` would be given)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if SIM_MODULE.fullmatch(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] if SIM_MODULE.fullmatch(node.module) else []
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [node.value] if SIM_MODULE.fullmatch(node.value) else []
    return found


def test_the_scan_sees_every_way_of_importing() -> None:
    source = (
        "import simulators\nfrom simulators.server import SimServer\n"
        "def f():\n    import simulators.demo as d\n    return importlib.import_module("
        "'simulators.vxp'), 'the simulators are not installed'\n"
    )
    assert simulator_imports(source) == [
        "simulators",
        "simulators.server",
        "simulators.demo",
        "simulators.vxp",
    ]


def test_neither_bridge_nor_adapters_import_the_simulators() -> None:
    wrong = []
    for path in sorted([*ROOT.glob("bridge/**/*.py"), *ROOT.glob("adapters/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        for name in simulator_imports(path.read_text(encoding="utf-8")):
            if not (rel.startswith(LOADER[0]) and name in LOADER[1]):
                wrong.append(f"{rel}: {name}")
    assert not wrong, "the daemon imports the simulators:\n" + "\n".join(wrong)

"""Open files at province scale: the estimate grows with the systems a configuration calls,
not with its units, and check-config warns when the process's limit is short of it."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import toml_of
from bridge.app import parse_config
from bridge.config import Config
from bridge.open_files import needed, warning

ROOT = Path(__file__).resolve().parents[2]


def _raw(tmp_path: Path, units: int) -> dict[str, Any]:
    def unit(n: int) -> dict[str, Any]:
        code = f"{n % 20 + 1:03d}.{n // 20 + 1:02d}.33.H49"
        return {
            "id": code,
            "name": f"Xã {n}",
            "sources": [
                {
                    "name": f"u{n}-moffice",
                    "profile": "moffice",
                    "base_url": "https://moffice.tinh.gov.vn",
                    "username": "vanthu",
                    "password": "x",
                }
            ],
            "sinks": [
                {
                    "name": f"u{n}-home",
                    "profile": "tdoffice",
                    "base_url": "https://tdoffice.tinh.gov.vn",
                    "api_key": f"k{n}",
                }
            ],
        }

    return {
        "bridge": {"data_dir": str(tmp_path / "data")},
        "http": {"listen": "127.0.0.1:0"},
        "units": [unit(n) for n in range(units)],
    }


def _config(tmp_path: Path, units: int) -> Config:
    return parse_config(_raw(tmp_path, units), {})


def test_the_estimate_grows_with_systems_not_units(tmp_path: Path) -> None:
    few, many = needed(_config(tmp_path, 10)), needed(_config(tmp_path, 300))
    assert few == many, "300 units on two systems need the files ten do"
    assert many < 1024, "within a shell's usual limit"
    assert warning(_config(tmp_path, 300), limit=4 * many) is None
    told = warning(_config(tmp_path, 300), limit=256)
    assert told is not None and "256" in told and "LimitNOFILE" in told


def test_check_config_warns_when_the_limit_is_low(tmp_path: Path) -> None:
    path = tmp_path / "lienthong.toml"
    path.write_text(toml_of(_raw(tmp_path, 30)), encoding="utf-8")

    def low_limit() -> None:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (200, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        )

    done = subprocess.run(
        [sys.executable, "-m", "bridge", "check-config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=low_limit,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "giới hạn tệp mở 200" in done.stderr and "open-file limit 200" in done.stderr

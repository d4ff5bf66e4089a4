"""A province of 300 units × five roads and a home system: the configuration the benchmark
writes with defaults and a units table loads, passes check-config, is the same configuration
as the repeated `[[units]]` of before at a fraction of the size, and the same units come in
from a province's own CSV file through `lienthong units import`."""

from __future__ import annotations

import codecs
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.province_config import ROADS, province_units, write_province
from bridge.app import load_config
from bridge.cli import main
from bridge.config import Config
from bridge.unit_table import HOME

URLS = {road: f"http://127.0.0.1:{9201 + i}" for i, road in enumerate((*ROADS, HOME))}
# How a province names the columns (Vietnamese, as its spreadsheet has them).
PROVINCE_HEADERS = {
    "code": "Mã đơn vị",
    "name": "Tên đơn vị",
    "area": "Huyện",
    "enabled": "Sử dụng",
    "moffice.username": "M-Office.Tài khoản",
    "moffice.password_file": "M-Office.Tệp mật khẩu",
    "idesk.username": "iDesk.tài khoản",
    "idesk.password_file": "iDesk.tệp mật khẩu",
    "tdoffice.api_key_file": "TDOffice.tệp khóa API",
    "home.profile": "Hệ thống chính.hồ sơ",
    "home.api_key_file": "Hệ thống chính.tệp khóa API",
}


def _roads(config: Config) -> list[Any]:
    return [
        (u.id, u.name, u.area, [e.model_dump() for e in (*u.sources, *u.sinks)])
        for u in config.units
    ]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    write_province(out, province_units(300), URLS)
    return out


def test_the_300_unit_configuration_loads_and_passes_check_config(
    province: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(province / "config.toml", environ={})
    assert len(config.units) == 300
    assert sum(len(u.sources) for u in config.units) == 1500
    assert all(u.home is not None and u.home.profile == "tdoffice" for u in config.units)
    assert main(["check-config", str(province / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert "Đơn vị / units: 300: 300 được / ok, 0 lỗi / with errors, 0 tắt / disabled" in out
    assert "300 đơn vị / units, 1500 nguồn / sources, 300 đích / sinks" in out


def test_it_is_the_old_configuration_in_a_quarter_of_the_bytes(province: Path) -> None:
    """The repeated `[[units]]` and defaults + table load to the same units and roads."""
    new = load_config(province / "config.toml", environ={})
    old = load_config(province / "old-config.toml", environ={})
    assert _roads(new) == _roads(old)
    old_size = (province / "old-config.toml").stat().st_size
    new_size = (province / "config.toml").stat().st_size + (province / "units.csv").stat().st_size
    assert new_size * 4 < old_size, (new_size, old_size)


def test_the_same_units_imported_from_a_provinces_csv(
    province: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The province's own list (Vietnamese headers, `;`, BOM) imported into a configuration
    that has only the defaults gives the very units the generated table gives."""
    shutil.copytree(province / "secrets", tmp_path / "secrets")
    shutil.copy(province / "config.toml", tmp_path / "config.toml")
    lines = (province / "units.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    named = [PROVINCE_HEADERS.get(c, c) for c in header]
    text = "\r\n".join([";".join(named), *(line.replace(",", ";") for line in lines[1:])])
    source = tmp_path / "danh-sach-don-vi.csv"
    source.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    config = tmp_path / "config.toml"
    assert main(["units", "import", str(source), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Thêm / added: 300" in out and "Tổng / total: 300 đơn vị / units, 300" in out
    imported = load_config(config, environ=dict(os.environ))
    generated = load_config(province / "config.toml", environ={})
    assert _roads(imported) == _roads(generated)

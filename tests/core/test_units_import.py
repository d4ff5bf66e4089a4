"""`lienthong units import`: the list a province keeps (CSV in any of its encodings and
separators, XLSX, Vietnamese headers) into the units table, checked row by row; and the
table as `check-config` and `load_config` read it."""

from __future__ import annotations

import codecs
import os
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from adapters.moffice.settings import MofficeSettings
from adapters.tdoffice.settings import TdofficeSinkSettings
from bridge.app import load_config
from bridge.cli import main

ENV = {"MO_PW": "mk-chung"}
HEADER = ["Mã đơn vị", "Tên đơn vị", "Địa bàn", "M-Office.Tài khoản", "moffice.biến mật khẩu"]
HEADER += ["home.hồ sơ", "home.tệp khóa API", "Ghi chú"]
ROWS = [
    ["000.01.01.H49", "Ủy ban nhân dân xã Đoàn Kết", "Vân Đồn", "vt-doanket", "MO_PW"],
    ["000.01.02.H49", "Ủy ban nhân dân xã Quan Lạn", "Vân Đồn", "vt-quanlan", "MO_PW"],
]
ROWS = [[*r, "tdoffice", f"keys/{r[0]}", "điện thoại 0203"] for r in ROWS]
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def _config(tmp_path: Path, table: bool = True) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    for row in ROWS:
        (keys / row[0]).write_text(f"key-{row[0]}\n", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[bridge]\ndata_dir = "{tmp_path / "data"}"\n'
        + ('units_table = "units.csv"\n' if table else "")
        + '[defaults.moffice]\nbase_url = "https://moffice.quangninh.gov.vn"\npoll_interval = 60\n'
        + '[defaults.tdoffice.sink]\nbase_url = "https://tdoffice.quangninh.gov.vn"\n',
        encoding="utf-8",
    )
    return path


def to_1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: a letter, then its tone as a combining
    mark where the code page has no precomposed form."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
            tone = "".join(c for c in parts if c in TONES)
            out.append((base + tone).encode("cp1258"))
    return b"".join(out)


def _csv(rows: list[list[str]], sep: str) -> str:
    return "\r\n".join(sep.join(r) for r in [HEADER, *rows]) + "\r\n"


def _write(path: Path, form: str, rows: list[list[str]] = ROWS) -> Path:
    if form == "utf8-bom-semicolon":
        path.write_bytes(codecs.BOM_UTF8 + _csv(rows, ";").encode("utf-8"))
    elif form == "cp1258-comma":
        path.write_bytes(to_1258(_csv(rows, ",")))
    elif form == "utf16-tab":
        path.write_bytes(_csv(rows, "\t").encode("utf-16"))
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["Danh sách đơn vị tỉnh Quảng Ninh"])  # a title row above the header
        sheet.append([])
        for row in [HEADER, *rows]:
            sheet.append(row)
        book.save(path)
    return path


FORMS = ["utf8-bom-semicolon", "cp1258-comma", "utf16-tab", "xlsx"]


@pytest.mark.parametrize("form", FORMS)
def test_a_provinces_file_is_imported_and_loads(
    tmp_path: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever the encoding, separator or format, the units come in with their Vietnamese
    names exact, credentials from the environment and files, the rest from the defaults."""
    config = _config(tmp_path)
    source = _write(tmp_path / ("units.xlsx" if form == "xlsx" else "donvi.csv"), form)
    assert main(["units", "import", str(source), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Thêm / added: 2: 000.01.01.H49, 000.01.02.H49" in out
    assert "bỏ qua cột / column ignored: Ghi chú" in out
    assert f"Đã ghi / written: {tmp_path / 'units.csv'}" in out
    header = (tmp_path / "units.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == (
        "code,name,area,enabled,moffice.username,moffice.password_env,home.profile,"
        "home.api_key_file"
    )
    loaded = load_config(config, environ=dict(os.environ))
    assert [(u.id, u.name, u.area) for u in loaded.units] == [
        ("000.01.01.H49", "Ủy ban nhân dân xã Đoàn Kết", "Vân Đồn"),
        ("000.01.02.H49", "Ủy ban nhân dân xã Quan Lạn", "Vân Đồn"),
    ]
    unit = loaded.units[0]
    (source_settings,) = unit.sources
    assert isinstance(source_settings, MofficeSettings)
    assert isinstance(unit.home, TdofficeSinkSettings)
    assert source_settings.name == "000.01.01.H49-moffice"
    assert source_settings.username == "vt-doanket"
    assert source_settings.password.get_secret_value() == "mk-chung"
    assert source_settings.base_url == "https://moffice.quangninh.gov.vn"
    assert source_settings.poll_interval == 60
    assert unit.home.name == "000.01.01.H49-home"
    assert unit.home.api_key.get_secret_value() == "key-000.01.01.H49"


def test_a_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    source = _write(tmp_path / "donvi.csv", "utf8-bom-semicolon")
    assert main(["units", "import", str(source), "--config", str(config), "--dry-run"]) == 0
    assert "Chạy thử: chưa ghi gì / dry run: nothing written" in capsys.readouterr().out
    assert not (tmp_path / "units.csv").exists()
    assert main(["units", "import", str(source), "--config", str(config)]) == 0
    before = (tmp_path / "units.csv").stat()
    changed = _write(tmp_path / "moi.csv", "utf8-bom-semicolon", ROWS[:1])
    assert main(["units", "import", str(changed), "--config", str(config), "--dry-run"]) == 0
    assert "disabled (no longer listed): 1: 000.01.02.H49" in capsys.readouterr().out
    after = (tmp_path / "units.csv").stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )


def test_errors_are_reported_by_row_and_column_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    bad = [
        ROWS[0],
        ["000.01.03.H49", "Xã Bản Sen", "Vân Đồn", "", "MO_PW", "tdofice", "keys/x", ""],
        ["000.01.04.H49", "Xã Minh Châu", "Vân Đồn", "vt-mc", "MO PW", "tdoffice", "keys/no", ""],
    ]
    source = _write(tmp_path / "donvi.csv", "utf8-bom-semicolon", bad)
    assert main(["units", "import", str(source), "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "dòng 3 / row 3 (000.01.03.H49), cột / column home.profile: không biết hồ sơ" in out
    assert "did you mean 'tdoffice'?" in out
    assert "dòng 3 / row 3 (000.01.03.H49), cột / column moffice.username: thiếu khóa" in out
    assert "dòng 4 / row 4 (000.01.04.H49), cột / column moffice.password_env" in out
    assert "không phải tên biến môi trường / not an environment variable name" in out
    assert "dòng 4 / row 4 (000.01.04.H49), cột / column home.api_key_file" in out
    assert "cannot read secret file" in out
    assert "Không ghi gì vì có lỗi / nothing written" in out
    assert not (tmp_path / "units.csv").exists()


def test_a_unit_no_longer_listed_is_kept_disabled_and_changes_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["units", "import", str(_write(tmp_path / "a.csv", "cp1258-comma")), "--config", str(config)]) == 0  # fmt: skip
    (tmp_path / "units.csv").chmod(0o640)
    renamed = [[*ROWS[0][:3], "vt-moi", *ROWS[0][4:]]]
    source = _write(tmp_path / "b.csv", "cp1258-comma", renamed)
    capsys.readouterr()
    assert main(["units", "import", str(source), "--config", str(config)]) == 0
    assert (tmp_path / "units.csv").stat().st_mode & 0o777 == 0o640, "the table keeps its mode"
    out = capsys.readouterr().out
    assert "Đổi / changed: 1: 000.01.01.H49 (moffice.username)" in out
    assert "disabled (no longer listed): 1: 000.01.02.H49" in out
    loaded = load_config(config, environ=dict(os.environ))
    assert [u.id for u in loaded.units] == ["000.01.01.H49"]
    assert [u.id for u in loaded.disabled_units] == ["000.01.02.H49"]
    road = loaded.units[0].sources[0]
    assert isinstance(road, MofficeSettings) and road.username == "vt-moi"


def test_a_secret_in_clear_is_accepted_and_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    (tmp_path / "units.csv").write_text(
        "code,name,moffice.username,moffice.password\n000.01.01.H49,Xã A,vt-a,matkhau123\n",
        encoding="utf-8",
    )
    assert main(["check-config", str(config)]) == 0
    captured = capsys.readouterr()
    warning = "units[000.01.01.H49].sources[000.01.01.H49-moffice].password: bí mật để trần"
    assert warning in captured.err and "units.csv dòng 2" in captured.err
    assert "matkhau123" not in captured.err + captured.out
    assert "000.01.01.H49  Xã A" in captured.out and "2 cảnh báo / warnings" in captured.out


def test_check_config_reports_each_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A table of units with their state, each error under its unit, a summary; exit 2."""
    config = _config(tmp_path)
    (tmp_path / "units.csv").write_text(
        "code,name,area,enabled,moffice.username,moffice.password_env\n"
        "000.01.01.H49,Xã A,Vân Đồn,1,vt-a,MO_PW\n"
        "000.01.02.H49,Xã B,Vân Đồn,có,,MO_PW\n"
        "000.01.03.H49,Xã C,Cô Tô,không,vt-c,MO_PW\n",
        encoding="utf-8",
    )
    assert main(["check-config", str(config)]) == 2
    out = capsys.readouterr().out.splitlines()
    row_a = next(line for line in out if line.startswith("000.01.01.H49"))
    row_b = next(i for i, line in enumerate(out) if line.startswith("000.01.02.H49"))
    row_c = next(line for line in out if line.startswith("000.01.03.H49"))
    assert "được / ok" in row_a and "Vân Đồn" in row_a
    assert "LỖI / ERRORS (1)" in out[row_b]
    assert out[row_b + 1].startswith(
        "    - units[000.01.02.H49].sources[000.01.02.H49-moffice].username: thiếu khóa"
    )
    assert "tắt / disabled" in row_c
    assert out[-1].startswith("Đơn vị / units: 3: 1 được / ok, 1 lỗi / with errors, 1 tắt")


def test_a_table_kept_as_a_workbook_is_written_and_read_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, table=False)
    text = config.read_text(encoding="utf-8").replace(
        "[bridge]\n", '[bridge]\nunits_table = "don-vi.xlsx"\n'
    )
    config.write_text(text, encoding="utf-8")
    source = _write(tmp_path / "donvi.csv", "utf8-bom-semicolon")
    assert main(["units", "import", str(source), "--config", str(config)]) == 0
    book = openpyxl.load_workbook(tmp_path / "don-vi.xlsx", read_only=True)
    header = next(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert header[:4] == ("code", "name", "area", "enabled")
    loaded = load_config(config, environ=dict(os.environ))
    assert [u.name for u in loaded.units] == [ROWS[0][1], ROWS[1][1]]


def test_a_file_that_cannot_be_read_is_refused_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    broken = tmp_path / "donvi.xlsx"
    broken.write_bytes(b"not a workbook")
    no_code = tmp_path / "donvi.csv"
    no_code.write_text("Tên đơn vị;Huyện\nXã A;Vân Đồn\n", encoding="utf-8")
    for source, reason in ((broken, "cannot read"), (no_code, "no unit code column")):
        assert main(["units", "import", str(source), "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert f"Không nhập được / cannot import: {source}" in err and reason in err
    assert not (tmp_path / "units.csv").exists()

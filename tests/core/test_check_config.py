"""`lienthong check-config`: bilingual errors naming sources and sinks, "did you mean",
the rules `run` refuses on, warnings, and `--connect` against the real simulators."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.app import parse_config
from bridge.cli import main
from bridge.config import BridgeSection, HttpSection
from bridge.errors import ConfigError
from simulators.moffice import MofficeSim
from simulators.tdoffice import TdofficeSim

ROOT = Path(__file__).resolve().parents[2]
UNIT = "000.00.33.H49"


def _errors(raw: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, {})
    return "\n".join(info.value.errors)


def test_errors_are_bilingual_and_name_endpoints_by_name() -> None:
    """Each schema error: Vietnamese first, English beside, the source by its name."""
    text = _errors(
        {
            "units": [
                {
                    "id": UNIT,
                    "sources": [
                        {"name": "vd-mo", "profile": "moffice", "base_url": "ftp://x"},
                        {"name": "vd-td", "profile": "tdofice"},
                    ],
                    "sinks": [{"name": "vd-home", "profile": "tdoffice", "base_url": "http://h"}],
                }
            ]
        }
    )
    assert (
        f"units[{UNIT}].sources[vd-mo].password: thiếu khóa bắt buộc / required key missing" in text
    )
    assert f"units[{UNIT}].sources[vd-mo].base_url: không đúng dạng" in text
    assert "did you mean 'tdoffice'?" in text and f"units[{UNIT}].sources[vd-td].profile" in text
    assert f"units[{UNIT}].sinks[vd-home].api_key: thiếu khóa bắt buộc" in text
    assert "sources[0]" not in text and "Field required" not in text


_KEYS = [
    (section, key)
    for section, model in (("bridge", BridgeSection), ("http", HttpSection))
    for key in model.model_fields
    if len(key) >= 5
]


@given(st.sampled_from(_KEYS), st.data())
def test_a_misspelt_key_gets_its_suggestion(target: tuple[str, str], data: st.DataObject) -> None:
    """A key with one letter dropped is refused with "did you mean" naming the real key."""
    section, key = target
    cut = data.draw(st.integers(0, len(key) - 1))
    typo = key[:cut] + key[cut + 1 :]
    if typo in dict(_KEYS).values() or typo == key:
        return
    text = _errors({section: {typo: "1"}})
    assert f"{section}.{typo}: khóa không có trong cấu hình / unknown key" in text
    assert f"có phải ý là '{key}'? / did you mean '{key}'?" in text


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[bridge]\ndata_dir = "{tmp_path / "data"}"\n{body}', encoding="utf-8")
    return path


def test_check_config_refuses_what_run_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listening beyond loopback without a token: check-config exits 2 as run does, same words."""
    path = _toml(tmp_path, '[http]\nlisten = "0.0.0.0:8787"\n')
    assert main(["check-config", str(path)]) == 2
    checked = capsys.readouterr().err
    assert "http.listen: nghe ngoài máy cục bộ cần http.token" in checked
    assert main(["run", "--config", str(path)]) == 2
    assert "http.listen: nghe ngoài máy cục bộ cần http.token" in capsys.readouterr().err
    tokened = _toml(tmp_path, '[http]\nlisten = "0.0.0.0:8787"\ntoken = "t"\n')
    assert main(["check-config", str(tokened)]) == 0


def test_warnings_for_a_unit_without_sink_and_a_missing_drop_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Allowed, but said: a unit with no sink, a folder source whose folder is not there, a
    trust store that is not there."""
    missing = tmp_path / "no-such-inbox"
    path = _toml(
        tmp_path,
        f'trust_store = "{tmp_path / "no-trust"}"\n[[units]]\nid = "{UNIT}"\n[[units.sources]]\nname = "vd-scan"\nprofile = "folder"\n'
        f'path = "{missing}"\n',
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr()
    assert "configuration valid" in out.out
    assert f"units[{UNIT}]: đơn vị không có đích nào" in out.err and "has no sink" in out.err
    assert f"units[{UNIT}].sources[vd-scan].path: thư mục {missing} không tồn tại" in out.err
    assert (
        "bridge.trust_store: thư mục" in out.err and "every signature would be untrusted" in out.err
    )


def _connect_config(tmp_path: Path, td: TdofficeSim, mo: MofficeSim, mo_password: str) -> Path:
    return _toml(
        tmp_path,
        f"""[[units]]
id = "{UNIT}"
[[units.sources]]
name = "vd-td"
profile = "tdoffice"
base_url = "{td.base_url}"
api_key = "{td.api_key}"
[[units.sources]]
name = "vd-mo"
profile = "moffice"
base_url = "{mo.base_url}"
username = "{mo.username}"
password = "${{MO_PASSWORD}}"
[[units.sources]]
name = "vd-scan"
profile = "folder"
path = "{tmp_path / "inbox"}"
[[units.sinks]]
name = "vd-home"
profile = "tdoffice"
base_url = "{td.base_url}"
api_key = "{td.api_key}"
[[units.sinks]]
name = "vd-archive"
profile = "folder"
path = "{tmp_path / "archive"}"
""",
    )


async def _check(path: Path, password: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "check-config",
        "--connect",
        "--timeout",
        "10",
        str(path),
        cwd=ROOT,
        env={**os.environ, "MO_PASSWORD": password},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_connect_logs_in_to_every_endpoint_and_reports_each(tmp_path: Path) -> None:
    """--connect calls each adapter's check(): a refused password and a missing inbox fail
    (exit 1) by name, without the password; with both fixed every endpoint is ok (exit 0)."""
    async with TdofficeSim(api_key="td-key") as td, MofficeSim(password="right-pw") as mo:
        path = _connect_config(tmp_path, td, mo, "wrong-pw")
        code, out = await _check(path, "wrong-pw")
        assert code == 1, out
        assert "nguồn/source vd-td (tdoffice): được / ok" in out
        assert "nguồn/source vd-mo (moffice): HỎNG / FAILED" in out
        assert "nguồn/source vd-scan (folder): HỎNG / FAILED" in out
        assert "đích/sink vd-home (tdoffice): được / ok" in out
        assert "đích/sink vd-archive (folder): được / ok" in out
        assert "3 được / ok, 2 hỏng / failed" in out
        assert "wrong-pw" not in out
        assert mo.calls("POST", "/api/auth/token"), "the moffice login was really tried"

        (tmp_path / "inbox").mkdir()
        code, out = await _check(path, "right-pw")
        assert code == 0, out
        assert "5 được / ok, 0 hỏng / failed" in out

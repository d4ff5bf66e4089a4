"""`lienthong status` for cron and monitoring: exit 1 on a failing road, 2 when unreachable,
`--wide` never cuts, every option described, LIENTHONG_URL and LIENTHONG_TOKEN honoured."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.app import build_daemon, parse_config
from bridge.cli import build_parser, main
from bridge.cli_status import failing
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import config_dict, make_doc, wait_until

ROOT = Path(__file__).resolve().parents[2]
LONG_NAME = "vd-tdoffice-so-tai-chinh-tinh-quang-ninh-duong-truyen-chinh-thuc-2026"
TOKEN = "status-cli-token"


async def _status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, the table's lines (not the daemon's own log lines) and stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["status", *argv])
    out = capsys.readouterr()
    table = [line for line in out.out.splitlines() if "│" in line or "failing" in line]
    return code, "\n".join(table), out.err


async def test_exit_codes_and_wide_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """0 while every road works; 1 (naming it) once a source's key is refused; 2 without the
    token, and 2 when nothing listens. --wide prints a long name whole; 80 columns cut it."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        source.add_document(*make_doc(0), unit="000.00.33.H49")
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["units"][0]["sources"][0]["name"] = LONG_NAME
        raw["http"]["token"] = TOKEN
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="one delivery")
            url = f"http://127.0.0.1:{daemon.http.port}"
            monkeypatch.setenv("LIENTHONG_URL", url)
            monkeypatch.setenv("LIENTHONG_TOKEN", TOKEN)
            monkeypatch.setenv("COLUMNS", "80")

            code, out, _ = await _status(capsys)
            assert code == 0, out
            assert LONG_NAME not in out, "80 columns cut the long name"
            code, out, _ = await _status(capsys, "--wide")
            assert code == 0 and LONG_NAME in out

            source.api_keys.clear()  # the source's key is refused from now on
            source.add_document(*make_doc(1), unit="000.00.33.H49")

            def source_failing() -> bool:
                return daemon.endpoints[LONG_NAME].health.state == "failing"

            await wait_until(source_failing, what="the source failing")
            code, out, _ = await _status(capsys, "--wide")
            assert code == 1
            assert f"Đang hỏng / failing: 000.00.33.H49/{LONG_NAME}" in out

            monkeypatch.delenv("LIENTHONG_TOKEN")
            code, _, err = await _status(capsys)
            assert code == 2 and "HTTP 401" in err and "check the token" in err
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, _, err = await _status(capsys, "--url", closed)
    assert code == 2 and "cannot reach the daemon" in err


_STATES = st.sampled_from(["ok", "backoff", "disabled", "unknown", "failing"])


def _status_of(states: list[list[str]]) -> dict[str, Any]:
    return {
        "units": [
            {
                "id": f"U{i}",
                "sources": [{"name": f"s{i}{j}", "state": s} for j, s in enumerate(unit)],
                "sinks": [],
            }
            for i, unit in enumerate(states)
        ]
    }


@given(st.lists(st.lists(_STATES, max_size=4), max_size=3))
def test_only_failing_counts_as_failing(states: list[list[str]]) -> None:
    """unknown, backoff and disabled are not failures; each failing endpoint is named."""
    names = failing(_status_of(states))
    expected = [f"U{i}/s{i}{j}" for i, u in enumerate(states) for j, s in enumerate(u)]
    expected = [
        n for n, s in zip(expected, [s for u in states for s in u], strict=True) if s == "failing"
    ]
    assert names == expected


def test_every_option_is_described() -> None:
    """status --help describes each option and names LIENTHONG_URL and LIENTHONG_TOKEN."""
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["status"]  # type: ignore[index]
    for action in sub._actions:
        assert action.help, f"{action.option_strings} has no help"
    text = sub.format_help()
    assert "LIENTHONG_URL" in text and "LIENTHONG_TOKEN" in text and "--wide" in text

"""The `[alerts]` section: the example in config.example.toml is valid once uncommented,
secrets come from ${ENV} or *_file and are never shown, mistakes name their key."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from bridge.app import parse_config
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _example_alerts() -> str:
    """The commented `[alerts]` tables of config.example.toml, uncommented."""
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [alerts]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("#").removeprefix(" "))
    return "\n".join(block) + "\n"


def test_the_example_is_valid() -> None:
    raw = tomllib.loads(_example_alerts())
    env = {"LIENTHONG_SMTP_PASSWORD": "smtp-pw", "LIENTHONG_ALERT_WEBHOOK_SECRET": "hook-s"}
    alerts = parse_config(raw, env).alerts
    assert alerts is not None and alerts.email is not None and alerts.webhook is not None
    assert alerts.road_down_after == 600 and alerts.remind_every == 4 * 3600
    assert dt.date(2027, 2, 5) in alerts.holidays
    assert alerts.email.from_ == "lienthong@vandon.quangninh.gov.vn" and len(alerts.email.to) == 2
    assert alerts.email.password is not None
    assert alerts.email.password.get_secret_value() == "smtp-pw"
    assert "smtp-pw" not in repr(alerts) and "hook-s" not in repr(alerts)


def test_a_password_file_and_the_default_port(tmp_path: Path) -> None:
    (tmp_path / "smtp.pw").write_text("from-file\n")
    email = {"host": "mail", "tls": "ssl", "username": "u", "password_file": "smtp.pw"}
    raw = {"alerts": {"email": email | {"from": "a@b.vn", "to": ["c@d.vn"]}}}
    alerts = parse_config(raw, {}, base=tmp_path).alerts
    assert alerts is not None and alerts.email is not None and alerts.email.password is not None
    assert alerts.email.password.get_secret_value() == "from-file"
    assert alerts.email.effective_port == 465


def test_mistakes_name_their_key() -> None:
    raw = {"alerts": {"road_down_after": 0, "email": {"host": "mail", "tls": "tls", "to": []}}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, {})
    text = "\n".join(caught.value.errors)
    for key in (
        "alerts.road_down_after",
        "alerts.email.tls",
        "alerts.email.to",
        "alerts.email.from",
    ):
        assert key in text, text

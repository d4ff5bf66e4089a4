"""`[[units.outboxes]]`: read through the profile's outbox settings, errors by key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.tdoffice.settings import TdofficeOutboxSettings
from bridge.app import parse_config
from bridge.errors import ConfigError
from schemas import Road

UNIT = "000.00.31.H59"


def _raw(outbox: dict[str, Any], *, source_name: str = "tieucan-td") -> dict[str, Any]:
    return {
        "units": [
            {
                "id": UNIT,
                "sources": [
                    {
                        "name": source_name,
                        "profile": "tdoffice",
                        "base_url": "http://127.0.0.1:9103",
                        "api_key": "k",
                    }
                ],
                "outboxes": [
                    {
                        "name": "tieucan-out",
                        "profile": "tdoffice",
                        "base_url": "http://127.0.0.1:9103",
                        "api_key": "${TD_KEY}",
                        **outbox,
                    }
                ],
            }
        ]
    }


def test_an_outbox_reads_with_its_defaults_and_smtp_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "smtp.pw").write_text("mật-khẩu\n", encoding="utf-8")
    smtp = {"host": "mail.travinh.gov.vn", "username": "ubnd", "password_file": "smtp.pw"}
    config = parse_config(
        _raw({"smtp": {**smtp, "from": "ubndtieucan@travinh.gov.vn"}, "axis": "tieucan-vxp"}),
        {"TD_KEY": "secret-key"},
        base=tmp_path,
    )
    (outbox,) = config.units[0].outboxes
    assert isinstance(outbox, TdofficeOutboxSettings)
    assert outbox.roads == (Road.INTERNAL, Road.AXIS, Road.MAIL, Road.PAPER)
    assert outbox.api_key.get_secret_value() == "secret-key"
    assert outbox.axis == "tieucan-vxp" and outbox.require_signature is False
    assert outbox.smtp is not None and outbox.smtp.sender == "ubndtieucan@travinh.gov.vn"
    assert outbox.smtp.password is not None
    assert outbox.smtp.password.get_secret_value() == "mật-khẩu"
    assert outbox.smtp.effective_port == 587 and outbox.smtp.tls == "starttls"
    assert "mật-khẩu" not in repr(outbox)


@pytest.mark.parametrize(
    ("outbox", "source_name", "expected"),
    [
        (
            {"roads": ["axis", "ship"]},
            "tieucan-td",
            "units[000.00.31.H59].outboxes[tieucan-out].roads[1]: ",
        ),
        ({"roads": []}, "tieucan-td", "outboxes[tieucan-out].roads: "),
        ({"roads": ["mail", "mail"]}, "tieucan-td", "outboxes[tieucan-out].roads: "),
        ({"smtp": {"host": "h", "from": "not-an-address"}}, "tieucan-td", "smtp.from"),
        ({"smtp": {"host": "h", "from": "a@b.vn", "tls": "ssl"}}, "tieucan-td", "smtp.tls"),
        ({"smtp": {"host": "h", "from": "a@b.vn", "username": "u"}}, "tieucan-td", "smtp"),
        ({"poll_interval": 0}, "tieucan-td", "outboxes[tieucan-out].poll_interval"),
        ({}, "tieucan-out", "outboxes[tieucan-out].name: tên 'tieucan-out' đã dùng"),
        ({"profile": "mailbox"}, "tieucan-td", "outboxes[tieucan-out].profile: 'mailbox'"),
    ],
)
def test_outbox_errors_name_their_key_path(
    outbox: dict[str, Any], source_name: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_raw(outbox, source_name=source_name), {"TD_KEY": "k"})
    assert any(expected in line for line in caught.value.errors), caught.value.errors


def test_an_outbox_inherits_the_profiles_defaults_and_its_own_role_table() -> None:
    raw = _raw({"api_key": None})
    del raw["units"][0]["outboxes"][0]["api_key"]
    raw["defaults"] = {"tdoffice": {"api_key": "shared-key", "outbox": {"poll_interval": 7.0}}}
    config = parse_config(raw, {})
    (outbox,) = config.units[0].outboxes
    (source,) = config.units[0].sources
    assert outbox.api_key.get_secret_value() == "shared-key"  # type: ignore[attr-defined]
    assert (outbox.poll_interval, source.poll_interval) == (7.0, 30.0)
    raw["defaults"] = {"tdoffice": {"outbox": {"page_size": 500}}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, {})
    assert any(
        "page_size" in line and "defaults.tdoffice.outbox" in line for line in caught.value.errors
    ), caught.value.errors

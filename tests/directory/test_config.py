"""`[directory]` in the configuration: defaults, successors with a TOML or text date, and the
errors an operator reads (Vietnamese first, the key named)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bridge.app import organ_directory, parse_config, profiles
from bridge.config import directory_axis
from bridge.directory_sync import configure_directory
from bridge.errors import ConfigError
from bridge.normalize.organ_history import DirectoryEntry

VXP = {"profile": "vxp", "base_url": "http://127.0.0.1:1", "system_id": "s", "secret": "k"}


def _config(directory: dict[str, Any]) -> dict[str, Any]:
    return {
        "directory": directory,
        "units": [
            {
                "id": "000.00.17.H59",
                "sources": [
                    {"name": "tv-folder", "profile": "folder", "path": "/tmp/none"},
                    {"name": "tv-vxp", **VXP},
                    {"name": "tv-vxp2", **VXP, "system_id": "t"},
                ],
            }
        ],
    }


def test_defaults_and_the_first_vxp_source() -> None:
    config = parse_config(_config({}), {})
    assert config.directory.sync_interval == 3600 and config.directory.successors == ()
    axis = directory_axis(config, profiles())
    assert axis is not None and axis.name == "tv-vxp"
    named = parse_config(_config({"axis": "tv-vxp2"}), {})
    chosen = directory_axis(named, profiles())
    assert chosen is not None and chosen.name == "tv-vxp2"


def test_successors_take_a_toml_date_or_text_and_reach_the_resolver() -> None:
    config = parse_config(
        _config(
            {
                "successors": [
                    {"old": "000.00.12.H59", "new": "000.00.17.H59", "from": dt.date(2025, 7, 1)},
                    {"old": "000.01.31.H59", "new": "000.03.31.H59", "from": "2025-07-01"},
                ]
            }
        ),
        {},
    )
    assert [s.since for s in config.directory.successors] == [dt.date(2025, 7, 1)] * 2
    directory = organ_directory(config)
    assert directory.resolve_at("000.01.31.H59", dt.date(2025, 6, 30)).code == "000.01.31.H59"
    assert directory.resolve_at("000.01.31.H59", dt.date(2025, 7, 1)).code == "000.03.31.H59"


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        ({"axis": "nope"}, "directory.axis: không có nguồn nào tên 'nope'"),
        ({"axis": "tv-folder"}, "does not serve an organ directory"),
        ({"sync_interval": 0}, "directory.sync_interval"),
        ({"successors": [{"old": "000.00.12.H59", "new": "000.00.12.H59"}]}, "old và new trùng"),
        ({"successors": [{"old": "x y", "new": "000.00.12.H59"}]}, "directory.successors[0].old"),
        (
            {"successors": [{"old": "000.00.12.H59", "new": "000.00.17.H59", "from": "1/7"}]},
            "directory.successors[0].from",
        ),
        ({"axes": "tv-vxp"}, "directory.axes"),
    ],
)
def test_errors_name_the_key(directory: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_config(directory), {})
    assert any(expected in e for e in raised.value.errors), raised.value.errors


def test_a_reload_replaces_the_configured_part_only() -> None:
    """On SIGHUP the daemon gives the directory the new file's organs and successors; what
    came from the axis stays."""
    first = parse_config(
        _config(
            {"successors": [{"old": "000.01.31.H59", "new": "000.03.31.H59", "from": "2025-07-01"}]}
        ),
        {},
    )
    directory = organ_directory(first)
    directory.refresh([DirectoryEntry("7", "000.07.31.H59", "Ủy ban nhân dân xã Bảy")])
    day = dt.date(2025, 7, 2)
    assert directory.resolve_at("000.01.31.H59", day).code == "000.03.31.H59"
    configure_directory(directory, parse_config(_config({}), {}))
    assert directory.resolve_at("000.01.31.H59", day).code == "000.01.31.H59"
    assert directory.resolve_at("000.07.31.H59", day).known

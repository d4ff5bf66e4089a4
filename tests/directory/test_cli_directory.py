"""`lienthong status` shows the organ directory: its size, version, last sync and the error
of a failed sync (the last good directory staying in force)."""

from __future__ import annotations

from rich.console import Console

from bridge.cli_status import render

TOTALS = dict.fromkeys(
    (
        "received",
        "documents",
        "duplicates",
        "revisions",
        "quarantined",
        "delivered",
        "pending",
        "dead",
    ),
    0,
)


def _printed(directory: dict[str, object]) -> str:
    console = Console(record=True, width=200)
    status = {"version": "1", "totals": TOTALS, "units": [], "directory": directory}
    render(status, console)
    return console.export_text()


def test_a_synced_directory() -> None:
    text = _printed(
        {
            "organs": 412,
            "version": 9031,
            "synced_at": "2026-12-07T08:00:00+00:00",
            "last_error": None,
        }
    )
    assert "Danh bạ cơ quan / Organ directory" in text
    assert "412" in text and "9031" in text and "2026-12-07T08:00:00" in text
    assert "Directory sync failed" not in text


def test_a_failed_sync_is_shown() -> None:
    text = _printed(
        {
            "organs": 0,
            "version": None,
            "synced_at": None,
            "last_error": "Không đồng bộ được danh bạ / Directory sync failed: timeout",
        }
    )
    assert "chưa đồng bộ / never synced" in text
    assert "Directory sync failed: timeout" in text
    assert "the last good directory stays in force" in text

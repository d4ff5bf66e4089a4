"""`lienthong status` and `lienthong dead-letters`: talk to a running daemon over HTTP."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from rich.console import Console
from rich.table import Table

from bridge.domain.enums import HealthState

STATE_LABELS: dict[str, str] = {
    HealthState.UNKNOWN: "chưa kết nối / not connected yet",
    HealthState.OK: "bình thường / ok",
    HealthState.BACKOFF: "đang thử lại / retrying",
    HealthState.FAILING: "hỏng / down",
    HealthState.DISABLED: "đã tắt / disabled",
}


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _call(url: str, token: str | None, method: str = "GET", body: Any = None) -> Any:
    token = token or os.environ.get("LIENTHONG_TOKEN")
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, method=method, data=data)  # noqa: S310
    req.add_header("X-Actor", f"cli:{os.environ.get('USER', 'operator')}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


FAILING = (
    HealthState.FAILING
)  # every other state (ok, backoff, disabled, unknown…) is not a failure
EXIT_OK, EXIT_FAILING, EXIT_UNREACHABLE = 0, 1, 2
DEFAULT_URL = "http://127.0.0.1:8787"


def default_url() -> str:
    """`--url`'s default: LIENTHONG_URL, else the daemon's default address."""
    return os.environ.get("LIENTHONG_URL") or DEFAULT_URL


def failing(status: dict[str, Any]) -> list[str]:
    """ "unit/name" of every source and sink whose state is failing."""
    return [
        f"{unit['id']}/{ep['name']}"
        for unit in status.get("units", [])
        for ep in (*unit.get("sources", []), *unit.get("sinks", []))
        if ep.get("state") == FAILING
    ]


def render(status: dict[str, Any], console: Console) -> None:
    t = status["totals"]
    console.print(
        f"[bold]lienthong {status['version']}[/] — nhận/received {t['received']} · văn bản/documents "
        f"{t['documents']} · trùng/duplicates {t['duplicates']} · sửa/revisions {t['revisions']} · "
        f"cách ly/quarantined {t['quarantined']} · đã chuyển/delivered {t['delivered']} · "
        f"chờ/pending {t['pending']} · chết/dead {t['dead']}"
    )
    for unit in status["units"]:
        table = Table(title=f"{unit['name']} ({unit['id']})", expand=False)
        for col in (
            "",
            "tên / name",
            "hồ sơ / profile",
            "trạng thái / state",
            "số / count",
            "lỗi / last error",
        ):
            table.add_column(col)
        for s in unit["sources"]:
            table.add_row(
                "nguồn/source",
                s["name"],
                s["profile"],
                state_label(s["state"]),
                str(s.get("received", 0)),
                s.get("last_error") or "",
            )
        for k in unit["sinks"]:
            counts = f"{k['delivered']} / {k['pending']} / {k['dead']}"
            table.add_row(
                "đích/sink",
                k["name"],
                k["profile"],
                state_label(k["state"]),
                counts,
                k.get("last_error") or "",
            )
        console.print(table)
    if (directory := status.get("directory")) is not None:
        render_directory(directory, console)
    for task in status.get("tasks", []):
        if task["state"] == FAILING:
            console.print(
                f"[bold red]Tác vụ nền {task['name']} bị lỗi, đang khởi động lại / background task "
                f"{task['name']} failed, restarting[/] ({task['restarts']}): {task['last_error']}"
            )
    if status.get("ready") is False:
        console.print("[bold red]Dịch vụ chưa sẵn sàng / the daemon is not ready[/]")
    remaining = t["pending"] + t.get("unprocessed", 0)
    if remaining:
        done = t["delivered"]
        share = done / (done + t["pending"]) if done + t["pending"] else 0.0
        console.print(
            f"Đang xử lý tồn đọng / backlog: {share:.0%} đã chuyển / delivered — còn {t['pending']} "
            f"lượt chuyển và {t.get('unprocessed', 0)} bản ghi chờ đối chiếu / {t['pending']} "
            f"deliveries and {t.get('unprocessed', 0)} records remaining"
        )
    if down := failing(status):
        console.print(f"[bold red]Đang hỏng / failing:[/] {', '.join(down)}")


def render_directory(directory: dict[str, Any], console: Console) -> None:
    """The organ directory's line of the status table: its size, version, last sync, error."""
    table = Table(title="Danh bạ cơ quan / Organ directory", expand=False)
    for col in (
        "cơ quan / organs",
        "phiên bản / version",
        "đồng bộ lúc / synced at",
        "lỗi / error",
    ):
        table.add_column(col)
    version = directory.get("version")
    table.add_row(
        str(directory.get("organs", 0)),
        "—" if version is None else str(version),
        directory.get("synced_at") or "chưa đồng bộ / never synced",
        directory.get("last_error") or "",
    )
    console.print(table)
    if directory.get("last_error"):
        console.print(
            "[bold red]Không đồng bộ được danh bạ, danh bạ cũ vẫn được dùng / Directory sync"
            " failed, the last good directory stays in force[/]"
        )


def show_status(url: str, token: str | None, *, watch: bool = False, wide: bool = False) -> int:
    """Print the daemon's status. Exit 0 when nothing is failing, 1 when a source or sink is
    failing, 2 when the daemon cannot be reached or refuses the token. `wide` never cuts
    a line (the default fits the terminal, 80 columns when not on one)."""
    console = Console(width=100_000, soft_wrap=True) if wide else Console()
    while True:
        try:
            status = _call(url.rstrip("/") + "/status", token)
        except urllib.error.HTTPError as exc:
            print(
                f"dịch vụ từ chối / the daemon refused: HTTP {exc.code}"
                + (" — kiểm tra mã truy cập / check the token" if exc.code == 401 else ""),
                file=sys.stderr,
            )
            return EXIT_UNREACHABLE
        except (urllib.error.URLError, OSError, ValueError) as exc:
            print(
                f"không kết nối được dịch vụ / cannot reach the daemon at {url}: {exc}",
                file=sys.stderr,
            )
            return EXIT_UNREACHABLE
        if watch:
            console.clear()
        render(status, console)
        if not watch:
            return EXIT_FAILING if failing(status) else EXIT_OK
        time.sleep(2)


def dead_letters(
    url: str, token: str | None, action: str, item: str | None, *, replay_all: bool
) -> int:
    base = url.rstrip("/")
    try:
        if action == "list":
            items = _call(base + "/dead-letters", token)["items"]
            if not items:
                print("Không có thư chết / no dead letters")
            for d in items:
                print(
                    f"#{d['id']}\t{d['sink']}\t{d['op']}\tvăn bản/document {d['document_id']}\t{d['last_error']}"
                )
            return 0
        target = "all" if replay_all else item
        if not target:
            print("cần ID hoặc --all / give an ID or --all", file=sys.stderr)
            return 2
        result = _call(f"{base}/dead-letters/{target}/replay", token, method="POST")
        print(f"Đã gửi lại / replayed: {result['replayed']}")
        return 0
    except urllib.error.HTTPError as exc:
        print(f"lỗi / error: HTTP {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(
            f"không kết nối được dịch vụ / cannot reach the daemon at {url}: {exc}", file=sys.stderr
        )
        return 1


def operator_action(url: str, token: str | None, path: str, body: Any = None) -> int:
    """POST an operator action and print its answer; 1 on an error answer."""
    try:
        result = _call(url.rstrip("/") + path, token, method="POST", body=body)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        print(f"lỗi / error: HTTP {exc.code} {detail}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(
            f"không kết nối được dịch vụ / cannot reach the daemon at {url}: {exc}", file=sys.stderr
        )
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


def quarantine_list(url: str, token: str | None) -> int:
    try:
        items = _call(url.rstrip("/") + "/quarantine", token)["items"]
    except (urllib.error.URLError, OSError) as exc:
        print(
            f"không kết nối được dịch vụ / cannot reach the daemon at {url}: {exc}", file=sys.stderr
        )
        return 1
    if not items:
        print("Không có bản ghi cách ly / nothing quarantined")
    for q in items:
        print(f"#{q['id']}\t{q['kind']}\t{q['source']}\t{q['external_id']}\t{q['reason']}")
    return 0

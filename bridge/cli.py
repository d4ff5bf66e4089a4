"""The `lienthong` command line. Messages for operators: Vietnamese first, English beside."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from bridge import __version__
from bridge.cli_setup import EXAMPLES, cmd_example
from bridge.cli_status import (
    DEFAULT_URL,
    dead_letters,
    default_url,
    operator_action,
    quarantine_list,
    show_status,
)
from bridge.operators import Role, new_token, operator_block

Command = Callable[[argparse.Namespace], int]


def _local(name: str) -> Command:
    """A command of `bridge.cli_local` (it runs the bridge here: the runtime and every adapter),
    loaded by name when it runs, so that the commands which only call a running daemon
    (`status`, `dead-letters`, …) start at once."""

    def command(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module("bridge.cli_local"), name)(args))

    return command


def cmd_status(args: argparse.Namespace) -> int:
    return show_status(args.url, args.token, watch=args.watch, wide=args.wide)


def cmd_dead_letters(args: argparse.Namespace) -> int:
    return dead_letters(args.url, args.token, args.action, args.id, replay_all=args.all)


def cmd_quarantine(args: argparse.Namespace) -> int:
    if args.action == "list":
        return quarantine_list(args.url, args.token)
    if not args.id:
        print("cần ID / give an ID", file=sys.stderr)
        return 2
    return operator_action(args.url, args.token, f"/quarantine/{args.id}/{args.action}")


def cmd_documents(args: argparse.Namespace) -> int:
    if args.action == "split":
        return operator_action(
            args.url, args.token, f"/documents/{args.document}/split", {"record_id": args.other}
        )
    return operator_action(
        args.url, args.token, f"/documents/{args.document}/merge", {"other_id": args.other}
    )


def cmd_token(args: argparse.Namespace) -> int:
    token = new_token()
    print(f"Mã truy cập của {args.name} (chỉ hiện lần này) / {args.name}'s token (shown only now):")
    print(f"  {token}\n")
    print("Dán vào tệp cấu hình / paste into the configuration:")
    print(operator_block(args.name, token, args.units, Role(args.role)))
    return 0


_REMOTE: dict[str, dict[str, str]] = {
    "status": {
        "help": "trạng thái dịch vụ đang chạy / the running daemon's status",
        "description": "Bảng trạng thái; mã thoát 0: bình thường, 1: có nguồn/đích hỏng, 2: không"
        " kết nối được / Status table; exit 0 when nothing is failing, 1 when a source or sink"
        " is failing, 2 when the daemon cannot be reached or refuses the token.",
    },
    "dead-letters": {
        "help": "thư chết: liệt kê, gửi lại / dead letters: list, replay",
        "description": "Lượt chuyển hỏng hẳn / deliveries that failed for good.",
    },
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lienthong", description="Cầu nối liên thông văn bản / document interconnection bridge"
    )
    p.add_argument("--version", action="version", version=f"lienthong {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="chạy dịch vụ / run the daemon")
    run.add_argument("--config", required=True, help="tệp cấu hình TOML / the TOML configuration")
    run.set_defaults(func=_local("cmd_run"))

    check = sub.add_parser(
        "check-config",
        help="kiểm tra cấu hình / validate a configuration",
        description="Kiểm tra cấu hình như khi chạy; lỗi: mã thoát 2, --connect hỏng: 1 / "
        "Validates a configuration with every rule `run` applies; exit 2 when invalid, "
        "1 when --connect finds an endpoint failing.",
    )
    check.add_argument("file", help="tệp cấu hình TOML / the TOML configuration file")
    check.add_argument(
        "--connect",
        action="store_true",
        help="đăng nhập thử mọi nguồn và đích / log in to every source and sink and report each",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="giây tối đa cho mỗi kết nối / seconds at most per endpoint with --connect (default 20)",
    )
    check.set_defaults(func=_local("cmd_check_config"))

    example = sub.add_parser(
        "example",
        help="in tệp mẫu đi kèm / print a file shipped with lienthong",
        description="In ra tệp mẫu để bắt đầu cài đặt / prints a shipped file to start from:"
        " config (config.example.toml), unit (the systemd unit), env (the unit's secrets file).",
    )
    example.add_argument(
        "what",
        choices=sorted(EXAMPLES),
        help="config: cấu hình mẫu / example configuration; unit: tệp systemd / systemd unit;"
        " env: tệp biến bí mật / the unit's EnvironmentFile",
    )
    example.set_defaults(func=cmd_example)

    demo = sub.add_parser("demo", help="chạy thử với các hệ thống giả lập / run with simulators")
    demo.add_argument("--port", type=int, default=8787, help="cổng trang / HTTP port (8787)")
    demo.add_argument("--data", default="./data", help="thư mục dữ liệu / data folder (./data)")
    demo.add_argument(
        "--documents", type=int, default=40, help="số văn bản mẫu / sample documents (40)"
    )
    demo.set_defaults(func=_local("cmd_demo"))

    sim = sub.add_parser("simulate", help="chạy một hệ thống giả lập / run one simulator")
    sim.add_argument("profile", help="hồ sơ / profile (moffice, idesk, tdoffice, …)")
    sim.add_argument("--port", type=int, default=0, help="cổng / port (0: any free one)")
    sim.add_argument("--seed", type=int, default=1, help="hạt giống dữ liệu / data seed")
    sim.set_defaults(func=_local("cmd_simulate"))

    norm = sub.add_parser("normalize", help="chuẩn hóa một bản ghi / normalize one raw record")
    norm.add_argument("--profile", required=True, help="hồ sơ của tệp / the file's profile")
    norm.add_argument("file", help="một bản ghi thô / one raw record")
    norm.add_argument(
        "--attachments",
        help="thư mục chứa tệp đính kèm để kiểm tra chữ ký / folder of the attachment files, to check signatures",
    )
    norm.add_argument(
        "--trust-store",
        help="thư mục chứng thư gốc tin cậy (PEM) / folder of trusted CA certificates (PEM)",
    )
    norm.set_defaults(func=_local("cmd_normalize"))

    tok = sub.add_parser(
        "token",
        help="cấp mã truy cập cho người vận hành / issue an operator's token",
        description="In một mã mới một lần, và bảng [[operators]] chỉ giữ mã băm của nó /"
        " prints a fresh token once, and the [[operators]] block holding only its hash.",
    )
    tok.add_argument("action", choices=["new"], help="new: cấp mã mới / issue a new token")
    tok.add_argument("--name", required=True, help="tên người vận hành / the operator's name")
    tok.add_argument(
        "--units", nargs="*", default=[], help="mã đơn vị được xem / unit ids (default: all)"
    )
    tok.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.OPERATOR.value,
        help="viewer: chỉ xem / read only; operator: xem và thao tác / read and act (default)",
    )
    tok.set_defaults(func=cmd_token)

    units = sub.add_parser(
        "units",
        help="bảng đơn vị / the units table",
        description="Nhập danh sách đơn vị (CSV hoặc XLSX) vào bảng đơn vị, kiểm tra từng dòng;"
        " đơn vị không còn trong tệp bị tắt / imports a list of units (CSV or XLSX) into the"
        " units table, checking every row; units no longer listed are disabled. Exit 2 when a"
        " row or the configuration is invalid (nothing written).",
    )
    units.add_argument("action", choices=["import"], help="import: nhập / import a file")
    units.add_argument("file", help="tệp CSV hoặc XLSX / the CSV or XLSX file")
    units.add_argument(
        "--config",
        default="/etc/lienthong/config.toml",
        help="tệp cấu hình / the configuration (default /etc/lienthong/config.toml)",
    )
    units.add_argument(
        "--dry-run", action="store_true", help="chỉ báo cáo, không ghi / report, write nothing"
    )
    units.set_defaults(func=_local("cmd_units_import"))

    remote: list[argparse.ArgumentParser] = []
    quar = sub.add_parser("quarantine", help="bản ghi cách ly / quarantined records")
    quar.add_argument(
        "action",
        choices=["list", "release", "retry"],
        help="list: liệt kê / list; release: cho qua / let through; retry: thử lại / try again",
    )
    quar.add_argument("id", nargs="?", help="mã bản ghi cách ly / quarantined record id")
    quar.set_defaults(func=cmd_quarantine)
    remote.append(quar)

    docs = sub.add_parser("documents", help="sửa nhận diện trùng / correct duplicate detection")
    docs.add_argument(
        "action", choices=["split", "merge"], help="split: tách ra / split off; merge: gộp / merge"
    )
    docs.add_argument("document", type=int, help="văn bản / document id")
    docs.add_argument(
        "other",
        type=int,
        help="split: bản ghi / record id; merge: văn bản gộp vào / document to merge in",
    )
    docs.set_defaults(func=cmd_documents)
    remote.append(docs)

    mig = sub.add_parser(
        "migrate-store", help="chuyển dữ liệu SQLite sang PostgreSQL / copy SQLite to PostgreSQL"
    )
    mig.add_argument("--from", dest="source", required=True, help="sqlite:ĐƯỜNG_DẪN / sqlite:PATH")
    mig.add_argument("--to", dest="target", required=True, help="postgresql://…")
    mig.add_argument("--blobs", default=None, help="thư mục tệp / blob folder (default: beside)")
    mig.set_defaults(func=_local("cmd_migrate_store"))

    for name, func in (("status", cmd_status), ("dead-letters", cmd_dead_letters)):
        sp = sub.add_parser(name, **_REMOTE[name])  # type: ignore[arg-type]
        if name == "status":
            sp.add_argument(
                "--watch",
                action="store_true",
                help="làm mới mỗi 2 giây đến khi Ctrl-C / refresh every 2 seconds until Ctrl-C",
            )
            sp.add_argument(
                "--wide",
                action="store_true",
                help="không cắt dòng ở bề rộng màn hình (80 cột khi không có) / never cut lines"
                " at the terminal width (80 columns without a terminal)",
            )
        else:
            sp.add_argument(
                "action",
                choices=["list", "replay"],
                help="list: liệt kê / list them; replay: gửi lại / send again",
            )
            sp.add_argument("id", nargs="?", help="mã thư chết / dead letter id (replay)")
            sp.add_argument(
                "--all", action="store_true", help="gửi lại tất cả / replay every dead letter"
            )
        sp.set_defaults(func=func)
        remote.append(sp)
    for sp in remote:
        sp.add_argument(
            "--url",
            default=default_url(),
            help="địa chỉ dịch vụ / the daemon's address (env LIENTHONG_URL, default"
            f" {DEFAULT_URL})",
        )
        sp.add_argument(
            "--token",
            default=None,
            help="mã truy cập / bearer token (env LIENTHONG_TOKEN; the variable keeps it out of"
            " the process list)",
        )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130

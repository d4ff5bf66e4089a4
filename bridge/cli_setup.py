"""`lienthong check-config` and `lienthong example`: what an installation is started and
checked with. Messages for operators: Vietnamese first, English beside."""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files

from bridge.app import connect_all, load_config, run_loop
from bridge.config_check import refusals, warnings
from bridge.domain.enums import EndpointRole
from bridge.errors import ConfigError
from bridge.logging import configure

_ROLES = {
    EndpointRole.SOURCE: "nguồn/source",
    EndpointRole.SINK: "đích/sink",
    "database": "cơ sở dữ liệu/database",
}


def cmd_check_config(args: argparse.Namespace) -> int:
    """Exit 0 valid (warnings allowed), 2 invalid or refused as `run` would, 1 when `--connect`
    finds an endpoint that does not answer or refuses the credentials."""
    configure("warning")  # the check's own lines only
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print_config_errors(args.file, exc.errors)
        return 2
    if refused := refusals(config):
        print_config_errors(args.file, refused)
        return 2
    for warning in warnings(config):
        print(f"Cảnh báo / warning: {warning}", file=sys.stderr)
    n_src = sum(len(u.sources) for u in config.units)
    n_sink = sum(len(u.sinks) for u in config.units)
    print(
        f"Cấu hình hợp lệ / configuration valid: {len(config.units)} đơn vị / units, "
        f"{n_src} nguồn / sources, {n_sink} đích / sinks"
    )
    if not args.connect:
        return 0
    reached = run_loop(connect_all(config, args.timeout))
    for r in reached:
        role = _ROLES[r.role]
        verdict = "được / ok" if r.error is None else f"HỎNG / FAILED: {r.error}"
        print(f"  {role} {r.name} ({r.profile}): {verdict}")
    failed = sum(r.error is not None for r in reached)
    print(f"Kết nối / connections: {len(reached) - failed} được / ok, {failed} hỏng / failed")
    return 1 if failed else 0


def print_config_errors(path: str, errors: list[str]) -> None:
    print(f"Cấu hình không hợp lệ / invalid configuration: {path}", file=sys.stderr)
    for err in errors:
        print(f"  - {err}", file=sys.stderr)


EXAMPLES = {
    "config": "config.example.toml",
    "unit": "lienthong.service",
    "env": "lienthong.env.example",
}


def cmd_example(args: argparse.Namespace) -> int:
    """Print a file shipped inside the package, to start an installation from."""
    text = files("bridge").joinpath("examples", EXAMPLES[args.what]).read_text(encoding="utf-8")
    sys.stdout.write(text)
    return 0

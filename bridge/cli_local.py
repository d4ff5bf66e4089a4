"""The commands that run the bridge here rather than call a running daemon: `run`,
`check-config`, `normalize`, `migrate-store`, `demo`, `simulate`. They need the runtime and
every adapter, so `bridge.cli` loads this module only when one of them runs. Messages for
operators: Vietnamese first, English beside."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from bridge import open_files
from bridge.app import connect_all, load_config, profiles, run_loop, serve
from bridge.cli_setup import print_config_errors
from bridge.config import parse_config
from bridge.config_check import refusals, warnings
from bridge.config_report import build, render, unit_lines
from bridge.domain.enums import EndpointRole
from bridge.errors import ConfigError, PermanentError
from bridge.logging import configure
from bridge.signatures import TrustStore, verify_document
from bridge.store.migrate import migrate_store
from bridge.units_import import apply, plan_import, report

_ROLES = {
    EndpointRole.SOURCE: "nguồn/source",
    EndpointRole.SINK: "đích/sink",
    "database": "cơ sở dữ liệu/database",
}


def cmd_run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print_config_errors(args.config, exc.errors)
        return 2
    configure(config.bridge.log_level, cache=True)
    if refused := refusals(config):  # the same rules as check-config
        print_config_errors(args.config, refused)
        return 2
    open_files.raise_limit(config)
    try:
        return run_loop(serve(config, Path(args.config)))
    except ConfigError as exc:
        print_config_errors(args.config, exc.errors)
        return 2
    except OSError as exc:  # the port is taken, the data folder is not writable…
        print(f"không khởi động được / cannot start: {exc}", file=sys.stderr)
        return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    """Exit 0 valid (warnings allowed), 2 invalid or refused as `run` would, 1 when `--connect`
    finds an endpoint that does not answer or refuses the credentials."""
    configure("warning")  # the check's own lines only
    lines, table_warnings = unit_lines(Path(args.file), profiles())
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print_config_errors(args.file, exc.errors)
        print(render(build(lines, exc.errors, table_warnings)))
        return 2
    if refused := refusals(config):
        print_config_errors(args.file, refused)
        print(render(build(lines, refused, table_warnings)))
        return 2
    found = [*warnings(config), *table_warnings, *filter(None, [open_files.warning(config)])]
    for warning in found:
        print(f"Cảnh báo / warning: {warning}", file=sys.stderr)
    print(render(build(lines, [], found)))
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


def cmd_units_import(args: argparse.Namespace) -> int:
    """Exit 0 imported (or would be, with --dry-run); 2 when a row or the configuration is
    invalid, or a file cannot be read: nothing is written then."""
    configure("warning")
    try:
        plan = plan_import(
            Path(args.file),
            Path(args.config),
            dict(os.environ),
            profiles=profiles(),
            parse=parse_config,
        )
    except ConfigError as exc:
        print(f"Không nhập được / cannot import: {args.file}", file=sys.stderr)
        for err in exc.errors:
            print(f"  - {err}", file=sys.stderr)
        return 2
    if not plan.errors and not args.dry_run:
        apply(plan)
    print(report(plan, dry_run=args.dry_run))
    return 2 if plan.errors else 0


def cmd_normalize(args: argparse.Namespace) -> int:
    configure("warning")  # stdout carries the document only; warnings go to stderr

    spec = profiles().get(args.profile)
    if spec is None:
        print(
            f"không biết hồ sơ / unknown profile: {args.profile} (known: {', '.join(sorted(profiles()))})",
            file=sys.stderr,
        )
        return 1
    try:
        data = Path(args.file).read_bytes()
        record = spec.read_file(data, Path(args.file).name)
        if record.error:
            raise PermanentError(record.error)
        doc = spec.to_document(record)
    except OSError as exc:
        print(f"không đọc được tệp / cannot read file: {exc.strerror}", file=sys.stderr)
        return 1
    except PermanentError as exc:
        print(exc.reason.replace("\n", " "), file=sys.stderr)
        return 1
    if args.attachments:
        doc = _verify_offline(doc, Path(args.attachments), args.trust_store)
    print(doc.model_dump_json(indent=2))
    return 0


def _verify_offline(doc: Any, folder: Path, trust_store: str | None) -> Any:
    """Check the signatures of the attachments found in `folder` (by name, SHA-256 checked)."""

    class _Files:
        def path(self, sha256: str) -> Path:
            return found.get(sha256, folder / "\0missing")

    found: dict[str, Path] = {}
    attachments = []
    for att in doc.attachments:
        candidate = folder / Path(att.name).name
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == att.sha256:
            found[att.sha256] = candidate
            att = att.model_copy(update={"blob": att.sha256})
        attachments.append(att)
    trust = TrustStore.from_folder(
        Path(trust_store) if trust_store else None, fetch_revocation=False
    )
    checked = verify_document(
        doc.model_copy(update={"attachments": tuple(attachments)}), _Files(), trust
    )
    return checked.model_copy(
        update={
            "attachments": tuple(a.model_copy(update={"blob": None}) for a in checked.attachments)
        }
    )


def cmd_migrate_store(args: argparse.Namespace) -> int:
    """Copy a SQLite deployment into an empty PostgreSQL database; print rows per table."""
    blobs = Path(args.blobs) if args.blobs else None
    try:
        copied = asyncio.run(migrate_store(args.source, args.target, blobs_dir=blobs))
    except ConfigError as exc:
        print("; ".join(exc.errors).replace("\n", " "), file=sys.stderr)
        return 1
    for table, count in sorted(copied.items()):
        print(f"{table}: {count}")
    print(f"Đã chuyển / migrated: {sum(copied.values())} (bảng và tệp / rows and blobs)")
    return 0


def _simulators() -> Any | None:
    """`simulators.demo`, loaded by name: the daemon itself never imports the simulators."""
    try:
        return importlib.import_module("simulators.demo")
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("simulators"):
            raise
        print(
            "chưa cài các hệ thống giả lập: pip install 'lienthong[sim]'"
            " / the simulators are not installed: pip install 'lienthong[sim]'",
            file=sys.stderr,
        )
        return None


def cmd_demo(args: argparse.Namespace) -> int:
    demo = _simulators()
    if demo is None:
        return 1
    configure("info")
    run = demo.run_demo(port=args.port, data_dir=Path(args.data), documents=args.documents)
    return int(run_loop(run))


def cmd_simulate(args: argparse.Namespace) -> int:
    demo = _simulators()
    if demo is None:
        return 1
    configure("info")
    return int(run_loop(demo.run_simulator(args.profile, port=args.port, seed=args.seed)))

"""`lienthong units import FILE`: a province's list of units into the units table.

`plan_import` reads the file (CSV or XLSX, leniently: `bridge.unit_table`), merges it with
the current table (a unit no longer listed is kept, disabled: nothing is dropped unseen) and
validates the result with the whole configuration, every error by row and column. Nothing is
written unless every row is valid; then `write_table` replaces the table atomically and the
daemon, which watches it, starts the added units and stops the disabled ones.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bridge.config import Config
from bridge.config_units import ERROR_PATH, Inheritance, table_units
from bridge.errors import ConfigError
from bridge.interfaces import Profiles
from bridge.unit_table import UNIT_COLUMNS, Row, Table, parse_enabled, read_table, write_table

Parse = Callable[..., Config]  # bridge.config.parse_config with its profiles
_UNSET = re.compile(r"environment variable (\w+) is not set")


@dataclass
class Plan:
    """What an import would do."""

    source: Path
    target: Path
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # code → columns changed
    disabled: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    target_named: bool = True  # the configuration names the table (else: how to name it)

    @property
    def enabled(self) -> int:
        return sum(parse_enabled(r.get("enabled", "")) is not False for r in self.rows)


def plan_import(
    source: Path, config_path: Path, environ: dict[str, str], *, profiles: Profiles, parse: Parse
) -> Plan:
    """Read `source`, merge it with the configuration's units table, check the result."""
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [f"{config_path}: không đọc được cấu hình / cannot read: {exc}"]
        ) from None
    bridge = raw.setdefault("bridge", {})
    named = bridge.get("units_table")
    target = config_path.parent / (named if isinstance(named, str) and named else "units.csv")
    plan = Plan(source, target, target_named=bool(named))
    new = read_table(source, profiles)
    plan.warnings += [f"bỏ qua cột / column ignored: {c}" for c in new.ignored]
    current = read_table(target, profiles) if target.exists() else Table(target.name)
    merged = _merge(new, current, plan)
    plan.warnings += table_units(merged, profiles, Inheritance(None, profiles, [])).warnings
    bridge["units_table"] = str(target)
    try:
        config = parse(raw, environ, config_path.parent, profiles=profiles, table=merged)
    except ConfigError as exc:
        # A variable not set here may well be in the daemon's own environment (systemd's
        # EnvironmentFile): named once as a warning, not an error of every row using it.
        unset = sorted({m[1] for line in exc.errors if (m := _UNSET.search(line))})
        rows = {r.cells.get("code"): r for r in merged.rows}
        plan.errors = [_by_row(e, rows) for e in exc.errors if not _UNSET.search(e)]
        plan.warnings += [
            f"biến môi trường {name} chưa đặt ở đây (dịch vụ có môi trường riêng) /"
            f" environment variable {name} not set here (the daemon has its own)"
            for name in unset
        ]
    else:
        plan.warnings += _count_note(config)
    return plan


def _merge(new: Table, current: Table, plan: Plan) -> Table:
    """The table to write: the imported rows in their order, then the current table's units
    the import no longer lists, disabled. Fills `plan`'s lists."""
    merged = Table(new.source, ignored=new.ignored)
    before = {r.cells.get("code"): _enabled_said(r) for r in current.rows}
    listed = set()
    for row in map(_enabled_said, new.rows):
        code = row.cells.get("code", "")
        listed.add(code)
        old = before.get(code)
        if old is None:
            plan.added.append(code or f"dòng / row {row.line}")
        elif old.cells != row.cells:
            columns = sorted(set(old.cells) ^ set(row.cells) | _differing(old, row))
            plan.changed[code] = columns
        else:
            plan.unchanged += 1
        merged.rows.append(row)
    for known, row in before.items():
        if known in listed or known is None:
            continue
        if parse_enabled(row.cells.get("enabled", "")) is not False:
            plan.disabled.append(known)
        cells = {**row.cells, "enabled": "false"}
        merged.rows.append(Row(row.line, cells, source=current.source))
    order = [*UNIT_COLUMNS, *new.columns, *current.columns]
    used = {c for r in merged.rows for c in r.cells}
    merged.columns = [c for c in dict.fromkeys(order) if c in used or c in UNIT_COLUMNS]
    plan.columns = merged.columns
    plan.rows = [r.cells for r in merged.rows]
    return merged


def _enabled_said(row: Row) -> Row:
    """The row with its `enabled` cell written out (`true` when it was left empty)."""
    if "enabled" in row.cells:
        return row
    return Row(row.line, {**row.cells, "enabled": "true"}, row.source)


def _differing(old: Row, new: Row) -> set[str]:
    return {c for c in set(old.cells) & set(new.cells) if old.cells[c] != new.cells[c]}


def _by_row(line: str, rows: dict[str | None, Row]) -> str:
    """An error as the report shows it: the row and column first, when it is a row's (`rows`
    by unit code)."""
    match = ERROR_PATH.match(line)
    row = rows.get(match["unit"]) if match else None
    if match is None or row is None:
        return line
    key = match["key"]
    column = {"id": "code"}.get(key, key)
    if match["endpoint"] is not None:
        road = match["endpoint"].removeprefix(f"{match['unit']}-")
        column = f"{road}.{key}"
    reason = line[match.end() :].lstrip()
    return f"dòng {row.line} / row {row.line} ({match['unit']}), cột / column {column}: {reason}"


def _count_note(config: Config) -> list[str]:
    units = [*config.units, *config.disabled_units]
    lonely = [u.id for u in units if not u.sinks]
    if not lonely:
        return []
    return [
        f"{len(lonely)} đơn vị không có hệ thống chính / units without a home system:"
        f" {', '.join(lonely[:10])}{' …' if len(lonely) > 10 else ''}"
    ]


def report(plan: Plan, *, dry_run: bool) -> str:
    """The import's report, Vietnamese first with English beside."""
    out = [f"Nhập bảng đơn vị / units import: {plan.source} → {plan.target}"]
    out.append(f"  Thêm / added: {len(plan.added)}{_listing(plan.added)}")
    changed = [f"{c} ({', '.join(cols)})" for c, cols in plan.changed.items()]
    out.append(f"  Đổi / changed: {len(changed)}{_listing(changed)}")
    out.append(
        f"  Tắt (không còn trong tệp) / disabled (no longer listed): {len(plan.disabled)}"
        f"{_listing(plan.disabled)}"
    )
    out.append(f"  Không đổi / unchanged: {plan.unchanged}")
    for warning in plan.warnings:
        out.append(f"  Cảnh báo / warning: {warning}")
    if plan.errors:
        out.append(f"  Lỗi / errors: {len(plan.errors)}")
        out += [f"    - {e}" for e in plan.errors]
        out.append("Không ghi gì vì có lỗi / nothing written: fix the errors first")
        return "\n".join(out)
    out.append(f"Tổng / total: {len(plan.rows)} đơn vị / units, {plan.enabled} đang dùng / enabled")
    if dry_run:
        out.append("Chạy thử: chưa ghi gì / dry run: nothing written")
    else:
        out.append(f"Đã ghi / written: {plan.target}")
    if not plan.target_named:
        out.append(f'Thêm vào [bridge] / add to [bridge]: units_table = "{plan.target.name}"')
    return "\n".join(out)


def _listing(items: list[str], at_most: int = 20) -> str:
    if not items:
        return ""
    more = f" … (+{len(items) - at_most})" if len(items) > at_most else ""
    return ": " + ", ".join(items[:at_most]) + more


def apply(plan: Plan) -> None:
    """Write the planned table atomically (only a plan without errors)."""
    assert not plan.errors
    write_table(plan.target, plan.columns, plan.rows)

"""What `check-config` prints per unit: a table of every unit (from `[[units]]` and the units
table) with its state, its errors and warnings under it, and a summary.

The units are listed from the files as written, so a configuration that does not validate
is still reported unit by unit; errors and warnings are placed under the unit their key path
names (`units[000.00.33.H49]…`), the rest stand before the table.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.config import _label
from bridge.config_units import Inheritance, table_units
from bridge.errors import ConfigError
from bridge.interfaces import Profiles
from bridge.unit_table import read_table

_UNIT_PATH = re.compile(r"^units\[([^\]]+)\]")


@dataclass
class UnitLine:
    label: str
    name: str
    area: str
    enabled: bool
    sources: int
    sinks: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.errors:
            return f"LỖI / ERRORS ({len(self.errors)})"
        if not self.enabled:
            return "tắt / disabled"
        return "được / ok" + (
            f", {len(self.warnings)} cảnh báo / warnings" if self.warnings else ""
        )


@dataclass
class Report:
    units: list[UnitLine]
    errors: list[str]  # not about one unit
    warnings: list[str]


def unit_lines(path: Path, profiles: Profiles) -> tuple[list[UnitLine], list[str]]:
    """Every unit the configuration and its units table list, valid or not; and what the
    table holds that is allowed but unwise (a secret in clear)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return [], []
    listed = raw.get("units", [])
    units: list[Any] = list(listed) if isinstance(listed, list) else []
    bridge = raw.get("bridge", {})
    table = bridge.get("units_table") if isinstance(bridge, dict) else None
    warnings: list[str] = []
    if isinstance(table, str) and table:
        try:
            found = read_table(path.parent / table, profiles)
        except ConfigError:
            found = None
        if found is not None:
            from_table = table_units(found, profiles, Inheritance(None, profiles, []))
            units += from_table.units
            warnings = from_table.warnings
    lines = []
    for i, unit in enumerate(units):
        if not isinstance(unit, dict):
            continue
        enabled = unit.get("enabled", True)
        lines.append(
            UnitLine(
                _label(unit.get("id"), i),
                str(unit.get("name", "")),
                str(unit.get("area", "")),
                enabled is not False,
                _count(unit.get("sources")),
                _count(unit.get("sinks")),
            )
        )
    return lines, warnings


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def build(lines: list[UnitLine], errors: list[str], warnings: list[str]) -> Report:
    """Place each error and warning under its unit."""
    by_label = {line.label: line for line in lines}
    report = Report(lines, [], [])
    for texts, attr in ((errors, "errors"), (warnings, "warnings")):
        for text in texts:
            match = _UNIT_PATH.match(text)
            line = by_label.get(match[1]) if match else None
            if line is None:
                getattr(report, attr).append(text)
            else:
                getattr(line, attr).append(text)
    return report


def render(report: Report) -> str:
    out = []
    for text in report.errors:
        out.append(f"Lỗi / error: {text}")
    for text in report.warnings:
        out.append(f"Cảnh báo / warning: {text}")
    if report.units:
        rows = [
            (u.label, u.name, u.area, u.state, str(u.sources), str(u.sinks)) for u in report.units
        ]
        head = (
            *("Mã / code", "Tên / name", "Địa bàn / area"),
            *("Trạng thái / state", "Nguồn/src", "Đích/sinks"),
        )
        widths = [min(40, max(len(r[i]) for r in [head, *rows])) for i in range(len(head))]
        out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        for row, unit in zip(rows, report.units, strict=True):
            out.append("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            out += [f"    - {e}" for e in unit.errors]
            out += [f"    ! {w}" for w in unit.warnings]
    bad = sum(bool(u.errors) for u in report.units)
    off = sum(not u.enabled and not u.errors for u in report.units)
    ok = len(report.units) - bad - off
    out.append(
        f"Đơn vị / units: {len(report.units)}: {ok} được / ok, {bad} lỗi / with errors,"
        f" {off} tắt / disabled; lỗi chung / other errors: {len(report.errors)}"
    )
    return "\n".join(out)

"""Configuration a province can keep: per-profile defaults, and units from a table.

`[defaults]` holds keys for every source and sink, `[defaults.<profile>]` keys for every
source and sink of that profile, `[defaults.<profile>.source]` / `.sink` keys for one role.
A road inherits them, the nearest winning: its own value, then the role's table, the
profile's, then `[defaults]`. A key a road's settings do not have is not passed to it (a
`poll_interval` in `[defaults]` reaches sources only). Every value keeps where it came from,
so an error says `… (giá trị từ / value from defaults.moffice.base_url)`.

`table_units` turns the rows of a units table (`bridge.unit_table`) into units as `[[units]]`
would give them: a `<road>.<key>` column is a source of profile `<road>` named
`<code>-<road>`; `home.<key>` the unit's home system (its first sink) of profile
`home.profile`. `<key>_env` names an environment variable, `<key>_file` a file (relative to
the table's folder); a secret written in clear is allowed and warned about.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import ErrorDetails

from bridge.config_errors import suggestion
from bridge.interfaces import Profiles
from bridge.settings import SinkSettings, SourceSettings
from bridge.unit_table import HOME, Row, Table, parse_enabled

# each endpoint list of a unit, and the role its defaults table and errors name it by;
# sources, sinks and outboxes share one namespace of names
ROLE_OF_KIND = {"sources": "source", "sinks": "sink", "outboxes": "outbox"}
_MODEL_OF_KIND = {
    "sources": "source_settings",
    "sinks": "sink_settings",
    "outboxes": "outbox_settings",
}
_NOT_INHERITED = {"name", "profile"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ERROR_PATH = re.compile(  # a configuration error about a unit's value, or a road's
    r"^units\[(?P<unit>[^\]]+)\]\.(?:(?:sources|sinks|outboxes)\[(?P<endpoint>[^\]]+)\]\.)?(?P<key>\w+):"
)
UNIT = "đơn vị / the unit"

Note = Callable[[ErrorDetails], str]


def settings_model(profiles: Profiles, profile: Any, kind: str) -> type[BaseModel] | None:
    spec = profiles.get(profile) if isinstance(profile, str) else None
    if spec is None:
        return None
    model: type[BaseModel] | None = getattr(spec, _MODEL_OF_KIND[kind])
    return model


@functools.cache
def secret_keys(model: type[BaseModel]) -> frozenset[str]:
    """Keys whose values are secrets (typed SecretStr)."""
    return frozenset(k for k, f in model.model_fields.items() if SecretStr in _types(f.annotation))


def _types(annotation: Any) -> set[Any]:
    args = getattr(annotation, "__args__", None)
    return {annotation} if not args else {a for arg in args for a in _types(arg)}


@dataclass
class Provenance:
    """Where an endpoint's values came from, for its error messages."""

    origins: dict[str, str] = field(default_factory=dict)  # key → origin
    layers: tuple[str, ...] = ()  # the defaults tables that gave it something
    unit: str = UNIT  # where its own values are written

    def note(self, err: ErrorDetails) -> str:
        key = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "missing":
            if not self.layers:
                return ""
            places = ", ".join(self.layers)
            return f" (không có ở đơn vị lẫn {places} / set neither in the unit nor in {places})"
        origin = self.origins.get(key)
        if origin is None:
            return ""
        if origin.startswith("defaults"):
            return f" (giá trị từ / value from {origin})"
        if origin == UNIT:
            return " (đặt ở đơn vị / set in the unit)" if self.layers else ""
        return f" (từ / from {origin})"


class Inheritance:
    """The `[defaults]` tables, checked once, applied to each source and sink."""

    def __init__(self, raw: Any, profiles: Profiles, errors: list[str]) -> None:
        self.profiles = profiles
        self.common: dict[str, Any] = {}
        self.by_profile: dict[str, dict[str, Any]] = {}
        self.by_role: dict[tuple[str, str], dict[str, Any]] = {}
        self.table_origins: dict[str, dict[str, str]] = {}  # endpoint name → key → origin
        self.unit_origins: dict[str, dict[str, str]] = {}  # unit id → key → origin
        if raw is None:
            return
        if not isinstance(raw, dict):
            errors.append("defaults: phải là bảng / must be a table")
            return
        common_keys = set(SourceSettings.model_fields) | set(SinkSettings.model_fields)
        for key, value in raw.items():
            if isinstance(value, dict):
                self._profile(key, value, errors)
            elif key in common_keys - _NOT_INHERITED:
                self.common[key] = value
            else:
                errors.append(_unknown(f"defaults.{key}", key, common_keys - _NOT_INHERITED))

    def _profile(self, name: str, table: dict[str, Any], errors: list[str]) -> None:
        if name not in self.profiles:
            errors.append(
                f"defaults.{name}: không biết hồ sơ / unknown profile"
                f" (có / known: {', '.join(sorted(self.profiles))}){suggestion(name, self.profiles)}"
            )
            return
        models = {
            role: m
            for kind, role in ROLE_OF_KIND.items()
            if (m := settings_model(self.profiles, name, kind)) is not None
        }
        keys = {k for m in models.values() for k in m.model_fields} - _NOT_INHERITED
        own: dict[str, Any] = {}
        for key, value in table.items():
            if key in ROLE_OF_KIND.values() and isinstance(value, dict):
                model = models.get(key)
                if model is None:
                    errors.append(
                        f"defaults.{name}.{key}: '{name}' không dùng được làm {key} / cannot be a {key}"
                    )
                    continue
                allowed = set(model.model_fields) - _NOT_INHERITED
                for k in value:
                    if k not in allowed:
                        errors.append(_unknown(f"defaults.{name}.{key}.{k}", k, allowed))
                self.by_role[(name, key)] = {k: v for k, v in value.items() if k in allowed}
            elif key in keys:
                own[key] = value
            else:
                errors.append(_unknown(f"defaults.{name}.{key}", key, keys))
        self.by_profile[name] = own

    def apply(self, raw: Any, kind: str) -> tuple[Any, Note | None]:
        """The endpoint `raw` with what it inherits, and how its errors say where values came
        from. Leaves anything it cannot place (no table, unknown profile) as it is."""
        if not isinstance(raw, dict):
            return raw, None
        profile = raw.get("profile")
        model = settings_model(self.profiles, profile, kind)
        if model is None:
            return raw, None
        assert isinstance(profile, str)
        role = ROLE_OF_KIND[kind]
        fields = set(model.model_fields)
        merged: dict[str, Any] = {}
        prov = Provenance()
        for where, table in (
            ("defaults", self.common),
            (f"defaults.{profile}", self.by_profile.get(profile, {})),
            (f"defaults.{profile}.{role}", self.by_role.get((profile, role), {})),
        ):
            used = {k: v for k, v in table.items() if k in fields}
            if used:
                prov.layers += (where,)
            for key, value in used.items():
                merged[key] = value
                prov.origins[key] = f"{where}.{key}"
        own = self.table_origins.get(str(raw.get("name")), {})
        for key, value in raw.items():
            merged[key] = value
            prov.origins[key] = own.get(key, UNIT)
        return merged, prov.note

    def unit_note(self, unit_id: Any) -> Note | None:
        """How a table unit's own errors (`enabled`, `name`) cite their row and column."""
        origins = self.unit_origins.get(str(unit_id))
        if origins is None:
            return None
        return Provenance(origins).note

    def cite(self, line: str) -> str:
        """An error about a table unit's value, with the row and column it came from."""
        match = ERROR_PATH.match(line)
        if match is None or " (từ / from " in line or " (giá trị từ / value from " in line:
            return line
        if match["endpoint"] is not None:
            origins = self.table_origins.get(match["endpoint"], {})
        else:
            origins = self.unit_origins.get(match["unit"], {})
        origin = origins.get(_target(match["key"]))
        return f"{line} (từ / from {origin})" if origin else line


def _unknown(path: str, key: str, known: Iterable[str]) -> str:
    return f"{path}: khóa không có trong cấu hình / unknown key{suggestion(key, known)}"


@dataclass
class TableUnits:
    """The units of a table as `[[units]]` tables, with what to warn about."""

    units: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def table_units(table: Table, profiles: Profiles, inheritance: Inheritance) -> TableUnits:
    """Units from the table's rows; their cells' origins go into `inheritance`."""
    out = TableUnits()
    for row in table.rows:
        code = row.cells.get("code", "")
        where = f"units[{code or row.line}]"
        if not code:
            out.errors.append(
                f"{where}.id: thiếu mã đơn vị / unit code missing ({table.origin(row, 'code')})"
            )
            continue
        unit: dict[str, Any] = {"id": code}
        origins = {"id": table.origin(row, "code")}
        for column in ("name", "area"):
            if column in row.cells:
                unit[column] = row.cells[column]
                origins[column] = table.origin(row, column)
        if "enabled" in row.cells:
            enabled = parse_enabled(row.cells["enabled"])
            unit["enabled"] = row.cells["enabled"] if enabled is None else enabled
            origins["enabled"] = table.origin(row, "enabled")
        inheritance.unit_origins[code] = origins
        unit["sources"], unit["sinks"] = [], []
        for road, cells in _roads(row).items():
            kind, endpoint = _endpoint(code, road, cells, table, row, out)
            if endpoint is None:
                continue
            unit[kind].append(endpoint)
            model = settings_model(profiles, endpoint["profile"], kind)
            in_clear = sorted(secret_keys(model) & set(cells)) if model is not None else []
            for key in in_clear:
                out.warnings.append(
                    f"{where}.{kind}[{endpoint['name']}].{key}: bí mật để trần trong bảng đơn vị,"
                    f" nên dùng {road}.{key}_env hoặc {road}.{key}_file / a secret in clear in"
                    f" the units table ({table.origin(row, f'{road}.{key}')}); prefer"
                    f" {road}.{key}_env or {road}.{key}_file"
                )
            inheritance.table_origins[endpoint["name"]] = {
                _target(key): table.origin(row, f"{road}.{key}") for key in cells
            }
        out.units.append(unit)
    return out


def _roads(row: Row) -> dict[str, dict[str, str]]:
    roads: dict[str, dict[str, str]] = {}
    for column, value in row.cells.items():
        if "." in column:
            road, key = column.split(".", 1)
            roads.setdefault(road, {})[key] = value
    return roads


def _target(key: str) -> str:
    """The settings key a column sets (`password_env` and `password_file` set `password`)."""
    return key.removesuffix("_env").removesuffix("_file") if key != "ca_file" else key


def _endpoint(
    code: str, road: str, cells: dict[str, str], table: Table, row: Row, out: TableUnits
) -> tuple[str, dict[str, Any] | None]:
    kind = "sinks" if road == HOME else "sources"
    endpoint: dict[str, Any] = {"name": f"{code}-{road}"}
    if road == HOME:
        if "profile" not in cells:
            out.errors.append(
                f"units[{code}].sinks[{code}-{HOME}].profile: thiếu hồ sơ của hệ thống chính /"
                f" the home system's profile is missing ({table.origin(row, f'{HOME}.profile')})"
            )
            return kind, None
        endpoint["profile"] = cells["profile"]
    else:
        endpoint["profile"] = road
    for key, value in cells.items():
        if key == "profile":
            continue
        if key.endswith("_env"):
            if not _ENV_NAME.match(value):
                out.errors.append(
                    f"units[{code}].{kind}[{endpoint['name']}].{key}: {value!r} không phải tên"
                    f" biến môi trường / not an environment variable name"
                    f" ({table.origin(row, f'{road}.{key}')})"
                )
                continue
            endpoint[key.removesuffix("_env")] = "${" + value + "}"
        else:
            endpoint[key] = value
    return kind, endpoint


def collapse(errors: list[str]) -> list[str]:
    """One line for an error a default causes in every road that inherits it, with the count
    of the others (a wrong `[defaults.moffice]` is one problem, not 300)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for line in errors:
        reason = line.partition(": ")[2]
        if "(giá trị từ / value from defaults" not in reason:
            out.append(line)
            continue
        if reason in seen:
            seen[reason] += 1
            continue
        seen[reason] = 0
        out.append(line)
    return [
        f"{line} (và {seen[r]} chỗ khác / and {seen[r]} more)"
        if (r := line.partition(": ")[2]) in seen and seen[r]
        else line
        for line in out
    ]

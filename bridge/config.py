"""Configuration: TOML → one frozen model tree, with `${ENV}` and `*_file` secrets resolved.

`load_config(path)` reports every problem at once, each with its key path, units and their
sources and sinks named by id and name (`units[000.00.33.H49].sources[vandon-moffice].base_url`),
Vietnamese first with English beside, by raising ConfigError.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bridge.alerts.settings import AlertsSettings
from bridge.config_errors import explain, suggestion
from bridge.config_units import (
    ROLE_OF_KIND,
    Inheritance,
    Note,
    collapse,
    settings_model,
    table_units,
)
from bridge.errors import ConfigError
from bridge.interfaces import Profiles
from bridge.operators import OperatorEntry, check_operators
from bridge.settings import OutboxSettings, SinkSettings, SourceSettings
from bridge.unit_table import Table, read_table
from schemas.base import Model

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


class BridgeSection(Model):
    data_dir: Path = Path("./data")
    database: str = "sqlite"  # or postgresql://user@host/db
    trust_store: Path | None = None  # folder of PEM CA certificates for signature checks
    require_revocation: bool = False  # signatures whose revocation cannot be checked: indeterminate
    fetch_revocation: bool = True  # try the CA's OCSP/CRL addresses (often unreachable offline)
    shutdown_grace: float = Field(default=10.0, gt=0)  # seconds
    forward_secret: bool = False  # never forward Mật/Tối mật/Tuyệt mật unless an operator says so
    retention_days: int = Field(default=365, ge=1)
    instance: str | None = (
        None  # this instance's name among several on one database (default host:pid)
    )
    lease_ttl: float = Field(default=30.0, gt=0)  # seconds before a dead instance's sources pass on
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    # Deliveries in a second process, so a catch-up uses a second CPU core (see
    # bridge/delivery_process.py). Worth it on machines with two cores or more.
    delivery_process: bool = False
    units_table: Path | None = None  # units in a CSV or XLSX file, beside [[units]]
    units_check_interval: float = Field(default=5.0, gt=0)  # seconds between looks at it


class HttpSection(Model):
    listen: str = Field(
        default="127.0.0.1:8787", pattern=r"^[^:\s]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$"
    )
    token: SecretStr | None = None

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


class UnitConfig(Model):
    id: str = Field(pattern=r"^[0-9A-Z.]{1,35}$")
    name: str = ""
    area: str = ""  # the district or area it belongs to
    enabled: bool = True  # false: kept in the configuration, nothing of it runs
    sources: tuple[SourceSettings, ...] = ()
    sinks: tuple[SinkSettings, ...] = ()
    outboxes: tuple[OutboxSettings, ...] = ()  # the unit's issued documents (văn bản đi)
    quarantine_invalid_signatures: bool = False  # else delivered with the verdict in a note

    @property
    def home(self) -> SinkSettings | None:
        return self.sinks[0] if self.sinks else None


class OrganEntry(Model):
    """An organ of the directory: its code now, and the codes it carried before."""

    code: str = Field(pattern=r"^[0-9A-Z.]{1,35}$")
    name: str = Field(min_length=1)
    previous: tuple[str, ...] = ()  # codes before a merger or re-coding (the 2025 reorganisation)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class SuccessorEntry(Model):
    """`[[directory.successors]]`: an organ merged or re-coded; documents of `old` dated from
    `from` on are `new`'s (without `from`: from the day the axis deleted `old`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    old: str = Field(pattern=r"^[0-9A-Z.]{1,35}$")
    new: str = Field(pattern=r"^[0-9A-Z.]{1,35}$")
    since: dt.date | None = Field(default=None, alias="from")  # a TOML date or "yyyy-MM-dd"

    @model_validator(mode="after")
    def _differs(self) -> SuccessorEntry:
        if self.old == self.new:
            raise ValueError("old và new trùng nhau / old and new are the same code")
        return self


class DirectorySection(Model):
    """`[directory]`: the organ directory synced from an axis node (bridge/directory_sync.py)."""

    axis: str | None = None  # the vxp source whose node syncs it (default: the first)
    sync_interval: float = Field(default=3600.0, gt=0)  # seconds between syncs
    successors: tuple[SuccessorEntry, ...] = ()


class Config(Model):
    bridge: BridgeSection = BridgeSection()
    http: HttpSection = HttpSection()
    directory: DirectorySection = DirectorySection()
    organs: tuple[OrganEntry, ...] = ()
    operators: tuple[OperatorEntry, ...] = ()  # named tokens (bridge/operators.py)
    units: tuple[UnitConfig, ...] = ()  # the enabled ones
    disabled_units: tuple[UnitConfig, ...] = ()  # `enabled = false`: validated, never run
    alerts: AlertsSettings | None = None  # e-mail and webhook alerts (bridge/alerts)

    def unit(self, unit_id: str) -> UnitConfig:
        return next(u for u in self.units if u.id == unit_id)


def load_config(
    path: str | Path, environ: dict[str, str] | None = None, *, profiles: Profiles
) -> Config:
    """Read and validate a configuration file against the profiles the bridge speaks.

    Raises ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: không tìm thấy tệp / file not found"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: TOML không hợp lệ / invalid TOML: {exc}"]) from None
    environ = environ if environ is not None else dict(os.environ)
    return parse_config(raw, environ, base=path.parent, profiles=profiles)


def parse_config(
    raw: dict[str, Any],
    environ: dict[str, str],
    base: Path = Path("."),
    *,
    profiles: Profiles,
    table: Table | None = None,
) -> Config:
    """Validate a configuration read already; every endpoint against its profile's settings.

    `table`, when given, stands for the file `[bridge] units_table` names (an import checks
    the table it would write)."""
    errors: list[str] = []
    resolved = _resolve(raw, "", environ, base, errors)
    units_raw = resolved.pop("units", [])
    if resolved.pop("disabled_units", None) is not None:
        errors.append("disabled_units: khóa không có trong cấu hình / unknown key")
    inheritance = Inheritance(resolved.pop("defaults", None), profiles, errors)
    if isinstance(units_raw, list):
        units_raw += _table_units(resolved, environ, base, profiles, inheritance, errors, table)
    try:
        top = Config.model_validate(resolved)
    except ValidationError as exc:
        errors.extend(_format(exc, "", Config))
        top = Config()
    units = _parse_units(units_raw, profiles, errors, inheritance)
    errors.extend(check_operators(top.operators, [u.id for u in units]))
    errors.extend(_check_directory(top.directory, units, profiles))
    if errors:
        raise ConfigError(collapse([inheritance.cite(e) for e in errors]))
    return top.model_copy(
        update={
            "units": tuple(u for u in units if u.enabled),
            "disabled_units": tuple(u for u in units if not u.enabled),
        }
    )


def directory_axis(config: Config, profiles: Profiles) -> SourceSettings | None:
    """The source whose axis node syncs the organ directory: `[directory] axis`, else the
    first source of a profile that serves a directory; None when there is none."""
    sources = [
        s
        for u in config.units
        for s in u.sources
        if (spec := profiles.get(s.profile)) is not None and spec.make_directory_source
    ]
    wanted = config.directory.axis
    return next((s for s in sources if wanted in (None, s.name)), None)


def _check_directory(
    section: DirectorySection, units: list[UnitConfig], profiles: Profiles
) -> list[str]:
    if section.axis is None:
        return []
    found = [s for u in units for s in u.sources if s.name == section.axis]
    if not found:
        return [
            f"directory.axis: không có nguồn nào tên '{section.axis}' / "
            f"no source is named '{section.axis}'"
        ]
    spec = profiles.get(found[0].profile)
    if spec is None or spec.make_directory_source is None:
        return [
            f"directory.axis: nguồn '{section.axis}' ({found[0].profile}) không phục vụ danh bạ"
            f" cơ quan / source '{section.axis}' does not serve an organ directory (use a vxp"
            " source)"
        ]
    return []


def _table_units(
    resolved: dict[str, Any],
    environ: dict[str, str],
    base: Path,
    profiles: Profiles,
    inheritance: Inheritance,
    errors: list[str],
    table: Table | None,
) -> list[Any]:
    """The units of `[bridge] units_table`, as `[[units]]` tables with secrets resolved (a
    `_file` relative to the table's folder); the table's path made absolute in `resolved`."""
    bridge = resolved.get("bridge")
    name = bridge.get("units_table") if isinstance(bridge, dict) else None
    if not isinstance(name, str) or not name:
        return []
    assert isinstance(bridge, dict)
    path = Path(name) if Path(name).is_absolute() else base / name
    bridge["units_table"] = str(path)
    try:
        table = table or read_table(path, profiles)
    except ConfigError as exc:
        errors.extend(f"bridge.units_table: {e}" for e in exc.errors)
        return []
    found = table_units(table, profiles, inheritance)
    errors.extend(found.errors)
    return [_resolve(u, f"units[{u['id']}]", environ, path.parent, errors) for u in found.units]


def _parse_units(
    units_raw: Any, profiles: Profiles, errors: list[str], inheritance: Inheritance
) -> list[UnitConfig]:
    if not isinstance(units_raw, list):
        errors.append("units: phải là danh sách [[units]] / must be an array of tables")
        return []
    units: list[UnitConfig] = []
    names: dict[str, str] = {}
    unit_ids: set[str] = set()
    for i, unit in enumerate(units_raw):
        if not isinstance(unit, dict):
            errors.append(f"units[{i}]: phải là bảng / must be a table")
            continue
        where = f"units[{_label(unit.get('id'), i)}]"
        endpoints: dict[str, list[Any]] = {kind: [] for kind in ROLE_OF_KIND}
        for kind in ROLE_OF_KIND:
            listed = unit.get(kind, [])
            if not isinstance(listed, list):
                errors.append(
                    f"{where}.{kind}: phải là danh sách bảng / must be an array of tables"
                )
                continue
            for j, ep_raw in enumerate(listed):
                name = ep_raw.get("name") if isinstance(ep_raw, dict) else None
                at = f"{where}.{kind}[{_label(name, j)}]"
                ep_raw, note = inheritance.apply(ep_raw, kind)
                endpoints[kind].append(_endpoint(ep_raw, at, kind, profiles, errors, note))
                if not isinstance(name, str):
                    continue
                if name in names:
                    errors.append(
                        f"{at}.name: tên '{name}' đã dùng ở {names[name]} / name already used"
                    )
                names.setdefault(name, at)
        fields = {k: v for k, v in unit.items() if k not in ROLE_OF_KIND}
        listed = {kind: [e for e in found if e] for kind, found in endpoints.items()}
        try:
            u = UnitConfig.model_validate({**fields, **listed})
        except ValidationError as exc:
            errors.extend(_format(exc, where, UnitConfig, inheritance.unit_note(unit.get("id"))))
            continue
        if u.id in unit_ids:
            errors.append(f"{where}.id: mã đơn vị '{u.id}' bị trùng / duplicate unit id")
        unit_ids.add(u.id)
        units.append(u)
    return units


def _label(name: Any, index: int) -> str:
    """How an error names a unit or endpoint: its id or name when it has a usable one."""
    if isinstance(name, str) and name and all(c.isalnum() or c in "._-" for c in name):
        return name
    return str(index)


def _element_label(value: Any, index: int) -> str:
    """A unit by its id, a source or sink by its name (as `_parse_units` names them)."""
    if not isinstance(value, dict):
        return str(index)
    return _label(value.get("id", value.get("name")), index)


def _endpoint(
    raw: Any,
    where: str,
    kind: str,
    profiles: Profiles,
    errors: list[str],
    note: Note | None = None,
) -> Any:
    """One endpoint of a unit's `kind` list (sources, sinks, outboxes), read with its
    profile's settings model for that kind."""
    if not isinstance(raw, dict):
        errors.append(f"{where}: phải là bảng / must be a table")
        return None
    name = raw.get("profile")
    spec = profiles.get(name) if isinstance(name, str) else None
    if spec is None:
        known = ", ".join(sorted(profiles))
        hint = suggestion(name, profiles) if isinstance(name, str) else ""
        errors.append(
            f"{where}.profile: không biết hồ sơ {name!r} / unknown profile (có / known: {known}){hint}"
        )
        return None
    role = ROLE_OF_KIND[kind]
    model = settings_model(profiles, name, kind)
    if model is None:
        errors.append(f"{where}.profile: '{name}' không dùng được làm {role} / cannot be a {role}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors.extend(_format(exc, where, model, note))
        return None


def _resolve(value: Any, where: str, environ: dict[str, str], base: Path, errors: list[str]) -> Any:
    """Expand ${ENV} in strings and turn `KEY_file = "path"` into `KEY = <file content>`."""
    if isinstance(value, str):
        return _expand(value, where, environ, errors)
    if isinstance(value, list):
        return [
            _resolve(v, f"{where}[{_element_label(v, i)}]", environ, base, errors)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        item = _resolve(item, path, environ, base, errors)
        if key.endswith("_file") and isinstance(item, str) and key != "ca_file":
            target = key[: -len("_file")]
            file = Path(item) if Path(item).is_absolute() else base / item
            try:
                out[target] = file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                errors.append(
                    f"{path}: không đọc được tệp bí mật / cannot read secret file ({exc.strerror})"
                )
            continue
        out[key] = item
    return out


def _expand(text: str, where: str, environ: dict[str, str], errors: list[str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        errors.append(
            f"{where}: biến môi trường ${{{name}}} chưa đặt / environment variable {name} is not set"
        )
        return ""

    return _ENV.sub(sub, text)


def _format(
    exc: ValidationError,
    where: str,
    model: type[BaseModel] | None = None,
    note: Note | None = None,
) -> list[str]:
    lines = []
    for err in exc.errors():
        parts = [where] if where else []
        for loc in err["loc"]:
            if isinstance(loc, int):
                parts[-1:] = [f"{parts[-1]}[{loc}]"] if parts else [f"[{loc}]"]
            else:
                parts.append(str(loc))
        lines.append(f"{'.'.join(parts)}: {explain(err, model)}{note(err) if note else ''}")
    return lines

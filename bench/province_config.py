"""The configuration of a province: N units × five roads and a home system each, written the
way a province keeps it (`config.toml` with `[defaults]`, `units.csv` with one unit a row,
secrets in files) and, for comparison, the way it had to be written before (every unit's
roads repeating every address and setting in `[[units]]`).

`write_province(out, units, urls)` writes both against the given simulator base URLs;
`python -m bench.province_config --units 300 --out DIR` prints their sizes in bytes. The
simulators' own demo accounts are the defaults (`SIM_ACCOUNTS`); a tdoffice key per unit
(`td_key`, `home_key`) lets one tdoffice simulator tell the units apart
(`TdofficeSim.api_keys[key] = unit`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from adapters import registry
from bridge.config_units import secret_keys, settings_model
from bridge.unit_table import HOME, UNIT_COLUMNS, write_table

ROADS = ("moffice", "idesk", "voffice", "tdoffice", "vxp")  # the sources of every unit
# The simulators' demo accounts (simulators/*.py): every unit logs in with them.
SIM_ACCOUNTS: dict[str, dict[str, str]] = {
    "moffice": {"username": "vanthu", "password": "matkhau"},
    "idesk": {"username": "vanthu", "password": "idesk-secret"},
    "voffice": {"client_id": "lienthong", "client_secret": "bimat"},
    "vxp": {"system_id": "vxp.sim.01"},
}
VXP_SECRET = "vxp-sim-secret"  # the axis simulator's demo secret


@dataclass(frozen=True)
class ProvinceUnit:
    code: str
    name: str
    area: str


@dataclass(frozen=True)
class ProvinceFiles:
    config: Path  # with [defaults] and units_table
    table: Path  # units.csv
    old_config: Path  # the same units as repeated [[units]]

    def sizes(self) -> dict[str, int]:
        new = self.config.stat().st_size + self.table.stat().st_size
        return {
            "old_toml_bytes": self.old_config.stat().st_size,
            "defaults_toml_bytes": self.config.stat().st_size,
            "units_csv_bytes": self.table.stat().st_size,
            "defaults_and_csv_bytes": new,
        }


def province_units(count: int, districts: int = 10) -> list[ProvinceUnit]:
    """`count` communes spread over `districts` districts, codes `000.DD.NN.H49`-like."""
    return [
        ProvinceUnit(
            f"000.{i // 100 + 1:02d}.{i % 100:02d}.H49",
            f"Ủy ban nhân dân xã số {i + 1}",
            f"Huyện số {i % districts + 1}",
        )
        for i in range(count)
    ]


def td_key(unit: str) -> str:
    return f"td-{unit}"


def home_key(unit: str) -> str:
    return f"home-{unit}"


def sim_roads(unit: ProvinceUnit) -> dict[str, dict[str, str]]:
    """A unit's own values per road against the simulators (`home` its home system)."""
    roads = {road: dict(SIM_ACCOUNTS.get(road, {})) for road in ROADS}
    roads["tdoffice"]["api_key"] = td_key(unit.code)
    roads[HOME] = {"profile": "tdoffice", "api_key": home_key(unit.code)}
    return roads


def write_province(
    out: Path,
    units: Sequence[ProvinceUnit],
    urls: Mapping[str, str],
    *,
    roads: Callable[[ProvinceUnit], dict[str, dict[str, str]]] = sim_roads,
    poll_interval: float = 60.0,
    bridge: Mapping[str, Any] | None = None,
    http: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> ProvinceFiles:
    """Write `config.toml`, `units.csv`, `secrets/` and `old-config.toml` into `out`.

    `urls` maps each road (`moffice`, …, and `home`) to its system's base URL; secrets go to
    one file each under `secrets/<code>/`, named in both configurations by `KEY_file`.
    `defaults` adds keys to `[defaults]` (a table for a profile is merged with the one made
    here); the old-style file leaves them out, so compare sizes without them."""
    out.mkdir(parents=True, exist_ok=True)
    bridge = {"data_dir": str(out / "data"), **(bridge or {})}
    http = {"listen": "127.0.0.1:0", **(http or {})}
    (out / "secrets").mkdir(exist_ok=True)
    (out / "secrets" / "vxp").write_text(VXP_SECRET, encoding="utf-8")
    made: dict[str, Any] = {"poll_interval": poll_interval}
    for road in ROADS:
        made[road] = {"base_url": urls[road]}
    made["vxp"]["secret_file"] = "secrets/vxp"
    made["tdoffice"]["sink"] = {"base_url": urls[HOME]}
    for key, value in (defaults or {}).items():
        if isinstance(value, Mapping) and isinstance(made.get(key), dict):
            made[key] = {**made[key], **value}
        else:
            made[key] = value
    rows = [_row(out, unit, roads(unit)) for unit in units]
    columns = [*UNIT_COLUMNS, *dict.fromkeys(c for r in rows for c in r if "." in c)]
    table = out / "units.csv"
    write_table(table, columns, rows)
    config = out / "config.toml"
    text = tomli_w.dumps({"bridge": {**bridge, "units_table": table.name}, "http": http})
    config.write_text(text + "\n" + tomli_w.dumps({"defaults": made}), encoding="utf-8")
    old = out / "old-config.toml"
    old.write_text(_old_toml(bridge, http, units, rows, urls, poll_interval), encoding="utf-8")
    return ProvinceFiles(config, table, old)


def _row(out: Path, unit: ProvinceUnit, roads: dict[str, dict[str, str]]) -> dict[str, str]:
    """One unit's row; its secrets written to files the row names."""
    row = {"code": unit.code, "name": unit.name, "area": unit.area, "enabled": "true"}
    for road, values in roads.items():
        profile = values.get("profile", road)
        model = settings_model(registry(), profile, "sinks" if road == HOME else "sources")
        secrets = secret_keys(model) if model is not None else frozenset()
        for key, value in values.items():
            if key in secrets:
                folder = out / "secrets" / unit.code
                folder.mkdir(exist_ok=True)
                (folder / f"{road}.{key}").write_text(value, encoding="utf-8")
                row[f"{road}.{key}_file"] = f"secrets/{unit.code}/{road}.{key}"
            else:
                row[f"{road}.{key}"] = value
    return row


def _old_toml(
    bridge: Mapping[str, Any],
    http: Mapping[str, Any],
    units: Sequence[ProvinceUnit],
    rows: Sequence[dict[str, str]],
    urls: Mapping[str, str],
    poll_interval: float,
) -> str:
    """The same units as every road spelled out in `[[units]]`, as a person writes them."""
    lines = [tomli_w.dumps({"bridge": dict(bridge), "http": dict(http)})]
    for unit, row in zip(units, rows, strict=True):
        lines += ["[[units]]", *_pairs({"id": unit.code, "name": unit.name, "area": unit.area})]
        for road in (*ROADS, HOME):
            keys = {c.split(".", 1)[1]: v for c, v in row.items() if c.startswith(f"{road}.")}
            if not keys:
                continue
            kind = "sinks" if road == HOME else "sources"
            endpoint: dict[str, Any] = {"name": f"{unit.code}-{road}", "profile": road}
            endpoint.update(base_url=urls[road], **keys)
            if road == HOME:
                endpoint["profile"] = keys["profile"]
            else:
                endpoint["poll_interval"] = poll_interval
            if road == "vxp":
                endpoint["secret_file"] = "secrets/vxp"
            lines += ["", f"  [[units.{kind}]]", *("  " + p for p in _pairs(endpoint))]
        lines.append("")
    return "\n".join(lines)


def _pairs(table: Mapping[str, Any]) -> list[str]:
    return tomli_w.dumps(dict(table)).splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="ROAD=URL",
        help="a road's base URL (moffice, idesk, voffice, tdoffice, vxp, home)",
    )
    args = parser.parse_args(argv)
    urls = {road: f"http://127.0.0.1:{9101 + i}" for i, road in enumerate((*ROADS, HOME))}
    urls.update(dict(pair.split("=", 1) for pair in args.url))
    files = write_province(args.out, province_units(args.units), urls)
    print(json.dumps({"units": args.units, **files.sizes()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

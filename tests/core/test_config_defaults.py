"""`[defaults]`: values declared once per profile and role, inherited by every road, the
nearest winning; errors name the road's key path and where the value came from."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.vxp.settings import VxpSettings
from bridge.app import parse_config
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
UNIT = "000.00.33.H49"
LEVELS = ("defaults", "profile", "role", "road")  # from farthest to nearest
# key → (roles it belongs to, values per level: distinct so the winner is known)
KEYS: dict[str, tuple[set[str], dict[str, Any]]] = {
    "timeout_s": ({"source", "sink"}, {"defaults": 11.0, "profile": 12.0, "role": 13.0, "road": 14.0}),
    "poll_interval": ({"source"}, {"defaults": 21.0, "profile": 22.0, "role": 23.0, "road": 24.0}),
    "max_in_flight": ({"sink"}, {"defaults": 31, "profile": 32, "role": 33, "road": 34}),
    "verify_tls": ({"source", "sink"}, {"defaults": True, "profile": False, "role": True, "road": False}),
    "base_url": ({"source", "sink"}, {"defaults": None, "profile": "http://p.gov.vn", "role": "http://r.gov.vn", "road": "http://u.gov.vn"}),
}  # fmt: skip
MODEL_DEFAULTS = {"timeout_s": 60.0, "poll_interval": 30.0, "max_in_flight": 4, "verify_tls": True}


def _config(placed: dict[str, set[str]]) -> dict[str, Any]:
    """One unit with a tdoffice source and a tdoffice sink; each key set at its levels."""
    defaults: dict[str, Any] = {"tdoffice": {"source": {}, "sink": {}}}
    source: dict[str, Any] = {"name": "vd-td-in", "profile": "tdoffice", "api_key": "k1"}
    sink: dict[str, Any] = {"name": "vd-home", "profile": "tdoffice", "api_key": "k2"}
    for key, levels in placed.items():
        roles, values = KEYS[key]
        for level in levels:
            value = values[level]
            if level == "defaults":
                defaults[key] = value
            elif level == "profile":
                defaults["tdoffice"][key] = value
            elif level == "role":
                for role in roles:
                    defaults["tdoffice"][role][key] = value
            else:
                for role, road in (("source", source), ("sink", sink)):
                    if role in roles:
                        road[key] = value
    return {"defaults": defaults, "units": [{"id": UNIT, "sources": [source], "sinks": [sink]}]}


def _expected(key: str, levels: set[str]) -> Any:
    nearest = [level for level in LEVELS if level in levels]
    return KEYS[key][1][nearest[-1]] if nearest else MODEL_DEFAULTS.get(key)


_placements = st.fixed_dictionaries(
    {
        key: st.sets(st.sampled_from([lv for lv in LEVELS if KEYS[key][1][lv] is not None]))
        for key in KEYS
    }
)


@given(_placements)
def test_the_nearest_value_wins_for_every_placement(placed: dict[str, set[str]]) -> None:
    """Whatever levels a key is set at, each road gets the nearest one (its own, the role's,
    the profile's, `[defaults]`), or the model's default; a key reaches only the roads whose
    settings have it; a required key set nowhere is an error saying where it was looked for."""
    raw = _config(placed)
    if not placed["base_url"]:
        with pytest.raises(ConfigError) as info:
            parse_config(raw, {})
        lines = {e.split(":")[0]: e for e in info.value.errors}
        for role, path in (("source", "sources[vd-td-in]"), ("sink", "sinks[vd-home]")):
            line = lines[f"units[{UNIT}].{path}.base_url"]
            assert "thiếu khóa bắt buộc / required key missing" in line
            inherited = any(
                level != "road" and role in KEYS[key][0]
                for key, levels in placed.items()
                for level in levels
            )
            assert ("set neither in the unit nor in defaults" in line) == inherited, line
        return
    unit = parse_config(raw, {}).units[0]
    roads = {"source": unit.sources[0], "sink": unit.sinks[0]}
    for key, levels in placed.items():
        roles = KEYS[key][0]
        for role, road in roads.items():
            if role not in roles:
                assert key not in type(road).model_fields
                continue
            assert getattr(road, key) == _expected(key, levels), (key, role, levels)


def test_a_bad_default_is_named_once_with_its_origin_and_the_count() -> None:
    """A default wrong for three roads: one line, the first road's full key path, the
    default's own path, and how many others it breaks."""
    units = [
        {
            "id": f"000.00.0{i}.H49",
            "sources": [{"name": f"u{i}-mo", "profile": "moffice", "username": "u"}],
        }
        for i in range(3)
    ]
    raw = {
        "defaults": {"moffice": {"base_url": "ftp://nowhere", "password": "p"}},
        "units": units,
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, {})
    lines = [e for e in info.value.errors if "base_url" in e]
    assert len(lines) == 1, info.value.errors
    assert lines[0].startswith("units[000.00.00.H49].sources[u0-mo].base_url: không đúng dạng")
    assert "(giá trị từ / value from defaults.moffice.base_url)" in lines[0]
    assert lines[0].endswith("(và 2 chỗ khác / and 2 more)")


def test_a_bad_value_of_the_road_says_it_was_set_there() -> None:
    raw = {
        "defaults": {"moffice": {"base_url": "http://mo.gov.vn", "password": "p"}},
        "units": [
            {
                "id": UNIT,
                "sources": [
                    {"name": "vd-mo", "profile": "moffice", "username": "u", "page_size": 0}
                ],
            }
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, {})
    assert info.value.errors == [
        f"units[{UNIT}].sources[vd-mo].page_size: phải từ 1 trở lên / must be at least 1"
        " (đặt ở đơn vị / set in the unit)"
    ]


def test_unknown_keys_and_profiles_in_defaults_are_refused_at_their_path() -> None:
    raw = {
        "defaults": {
            "poll_intervall": 5,
            "mofice": {"base_url": "http://x"},
            "moffice": {"api_key": "k", "sink": {"max_in_flight": 2}},
            "tdoffice": {"source": {"max_in_flight": 2}},
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, {})
    text = "\n".join(info.value.errors)
    assert "defaults.poll_intervall: khóa không có trong cấu hình / unknown key" in text
    assert "did you mean 'poll_interval'?" in text
    assert "defaults.mofice: không biết hồ sơ / unknown profile" in text
    assert "did you mean 'moffice'?" in text
    assert "defaults.moffice.api_key: khóa không có trong cấu hình / unknown key" in text
    assert "defaults.moffice.sink: 'moffice' không dùng được làm sink / cannot be a sink" in text
    assert "defaults.tdoffice.source.max_in_flight: khóa không có trong cấu hình" in text


def test_secrets_in_defaults_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "vxp-secret").write_text("s3cret\n", encoding="utf-8")
    raw = {
        "defaults": {
            "vxp": {"base_url": "${VXP_URL}", "system_id": "vxp.01", "secret_file": "vxp-secret"}
        },
        "units": [
            {"id": f"000.00.0{i}.H49", "sources": [{"name": f"u{i}-vxp", "profile": "vxp"}]}
            for i in range(2)
        ],
    }
    config = parse_config(raw, {"VXP_URL": "http://axis.gov.vn"}, tmp_path)
    for unit in config.units:
        (source,) = unit.sources
        assert isinstance(source, VxpSettings)
        assert source.base_url == "http://axis.gov.vn"
        assert source.secret.get_secret_value() == "s3cret"


def test_the_example_defaults_and_table_are_valid(tmp_path: Path) -> None:
    """The commented `[defaults]` of config.example.toml, uncommented, with the units table
    row it shows, gives a unit whose roads need nothing more."""
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [defaults]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#") or line.startswith("# A units table"):
            break
        block.append(line.removeprefix("#").removeprefix(" "))
    rows = [ln.removeprefix("#").strip() for ln in lines if ln.startswith("#   ")]
    (tmp_path / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "doanket-moffice").write_text("pw", encoding="utf-8")
    text = '[bridge]\nunits_table = "units.csv"\n' + "\n".join(block)
    env = {"VXP_SECRET": "s", "TD_KEY_DOANKET": "k"}
    config = parse_config(tomllib.loads(text), env, tmp_path)
    (unit,) = config.units
    assert unit.id == "000.01.01.H49" and unit.area == "Vân Đồn"
    assert [s.name for s in unit.sources] == ["000.01.01.H49-moffice", "000.01.01.H49-vxp"]
    assert unit.home is not None and unit.home.name == "000.01.01.H49-home"
    assert all(s.timeout_s == 30 and s.poll_interval == 60 for s in unit.sources)

"""Configuration loading: the example file, ${ENV} and *_file secrets, errors with key paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.app import load_config, parse_config
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_loads() -> None:
    """config.example.toml is valid with its environment variables set."""
    env = {
        "LIENTHONG_TOKEN": "t0k",
        "MOFFICE_PASSWORD": "pw",
        "TDOFFICE_KEY": "k",
        "VOFFICE_SECRET": "s",
        "IDESK_PASSWORD": "pw",
        "VXP_SECRET": "s",
        "MAIL_PASSWORD": "pw",
        "TDOFFICE_HOOK_SECRET": "h",
    }
    config = load_config(ROOT / "config.example.toml", environ=env)
    assert config.units, "the example has at least one unit"
    assert config.http.token is not None and config.http.token.get_secret_value() == "t0k"
    names = [e.name for u in config.units for e in (*u.sources, *u.sinks)]
    assert len(names) == len(set(names))


def test_env_default_and_secret_file(tmp_path: Path) -> None:
    """${NAME:-default} gives a default and KEY_file reads the secret from a file."""
    secret = tmp_path / "key.txt"
    secret.write_text("from-file\n")
    raw = {
        "bridge": {"data_dir": "${DATA:-/tmp/x}"},
        "units": [
            {
                "id": "000.00.31.H59",
                "name": "UBND",
                "sinks": [
                    {
                        "name": "home",
                        "profile": "tdoffice",
                        "base_url": "http://127.0.0.1:1",
                        "api_key_file": str(secret),
                    }
                ],
            }
        ],
    }
    config = parse_config(raw, {})
    assert str(config.bridge.data_dir) == "/tmp/x"
    assert config.units[0].sinks[0].api_key.get_secret_value() == "from-file"  # type: ignore[attr-defined]


def test_every_error_reported_with_its_key_path() -> None:
    """Several problems are reported at once, each naming where it is."""
    raw = {
        "http": {"listen": "not an address"},
        "units": [
            {
                "id": "000.00.31.H59",
                "sources": [
                    {"name": "a", "profile": "tdoffice", "base_url": "http://127.0.0.1:1"},
                    {"name": "b", "profile": "nosuch"},
                    {
                        "name": "c",
                        "profile": "moffice",
                        "base_url": "${UNSET_VAR}",
                        "username": "u",
                        "password": "p",
                    },
                ],
                "sinks": [
                    {"name": "a", "profile": "tdoffice", "base_url": "http://x", "api_key": "k"}
                ],
            }
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, {})
    text = "\n".join(info.value.errors)
    assert "http.listen" in text
    assert "units[000.00.31.H59].sources[a].api_key" in text
    assert "units[000.00.31.H59].sources[b].profile" in text
    assert "units[000.00.31.H59].sources[c].base_url" in text and "UNSET_VAR" in text
    assert "units[000.00.31.H59].sinks[a].name" in text


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A configuration path that does not exist is refused with a clear reason."""
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")

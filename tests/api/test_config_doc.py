"""docs/configuration.md names every configuration key the code accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from adapters import registry
from bridge.config import BridgeSection, HttpSection, UnitConfig
from bridge.settings import SinkSettings, SourceSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(profile: str) -> str:
    """The part of the page under `### \\`profile\\`` (up to the next heading of that level)."""
    match = re.search(rf"^### `{profile}`.*?(?=^##|\Z)", _text(), re.M | re.S)
    assert match, f"configuration.md has no section for profile {profile}"
    return match.group(0)


def _keys(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


@pytest.mark.parametrize(
    "model", [BridgeSection, HttpSection, UnitConfig, SourceSettings, SinkSettings]
)
def test_core_keys_documented(model: type[BaseModel]) -> None:
    """Every field of the core configuration models appears as `key` on the page."""
    missing = sorted(k for k in _keys(model) if f"`{k}`" not in _text())
    assert missing == [], f"{model.__name__} keys missing from configuration.md: {missing}"


@pytest.mark.parametrize("name", sorted(registry()))
def test_profile_keys_documented_in_their_section(name: str) -> None:
    """Every profile-specific key of each registered profile appears in that profile's section."""
    profile = registry()[name]
    common = _keys(SourceSettings) | _keys(SinkSettings)
    keys: set[str] = set()
    for model in (profile.source_settings, profile.sink_settings):
        if model is not None:
            keys |= _keys(model) - common
    section = _section(name)
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert missing == [], f"{name} keys missing from its section of configuration.md: {missing}"


def test_profiles_listed_match_the_registry() -> None:
    """The page documents exactly the registered profiles, no stale ones."""
    documented = set(re.findall(r"^### `([a-z_]+)`", _text(), re.M))
    assert documented == set(registry())

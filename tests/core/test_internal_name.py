"""The name `internal` is the internal road's source in a receiving unit: no source, sink or
outbox of the configuration may take it."""

from __future__ import annotations

import pytest

from bridge.app import parse_config
from bridge.errors import ConfigError


@pytest.mark.parametrize("kind", ["sources", "sinks", "outboxes"])
def test_the_name_internal_is_reserved(kind: str) -> None:
    endpoint = {
        "name": "internal",
        "profile": "tdoffice",
        "base_url": "http://127.0.0.1:9",
        "api_key": "k",
    }
    raw = {"units": [{"id": "000.00.31.H59", kind: [endpoint]}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, {})
    assert any(
        f"units[000.00.31.H59].{kind}[internal].name" in e and "reserved" in e
        for e in caught.value.errors
    ), caught.value.errors

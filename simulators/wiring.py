"""How the daemon reaches each profile's simulator: the settings keys that wire an adapter to a
running simulator (its address and its own demo credentials). The demo, `lienthong simulate`,
the fault tests and the benchmarks configure their sources and sinks with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _attr(sim: Any, *names: str) -> Any:
    for name in names:
        if hasattr(sim, name):
            return getattr(sim, name)
    raise AttributeError(f"{type(sim).__name__} has none of {names}")


# How the daemon reaches each profile's simulator: profile -> settings keys.
WIRING: dict[str, Callable[[Any], dict[str, Any]]] = {
    "tdoffice": lambda sim: {"base_url": sim.base_url, "api_key": sim.api_key},
    "folder": lambda sim: {"path": str(sim.base_url), "settle_s": 0.2},
    "moffice": lambda sim: {
        "base_url": sim.base_url,
        "username": _attr(sim, "username"),
        "password": _attr(sim, "password"),
    },
    "voffice": lambda sim: {
        "base_url": sim.base_url,
        "client_id": _attr(sim, "client_id"),
        "client_secret": _attr(sim, "client_secret"),
    },
    "idesk": lambda sim: {
        "base_url": sim.base_url,
        "username": _attr(sim, "username"),
        "password": _attr(sim, "password"),
    },
    "vxp": lambda sim: {
        "base_url": sim.base_url,
        "system_id": next(iter(sim.systems)),
        "secret": next(iter(sim.systems.values())),
    },
    "mailbox": lambda sim: {
        "host": sim.host,
        "port": sim.port,
        "username": _attr(sim, "username"),
        "password": _attr(sim, "password"),
        "tls": "none",
    },
}

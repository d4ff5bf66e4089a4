"""The rule that keeps the API private: beyond loopback, a token is required."""

from __future__ import annotations

import ipaddress

from bridge.config import Config, HttpSection
from bridge.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(config: Config) -> None:
    """Raise ConfigError when the daemon would listen beyond loopback without a token."""
    check_http(config.http, named=bool(config.operators))


def check_http(http: HttpSection, *, named: bool = False) -> None:
    """`check_listen` for the `[http]` section; `named`: `[[operators]]` hold tokens."""
    if not is_loopback(http.host) and http.token is None and not named:
        raise ConfigError(
            [
                "http.listen: nghe ngoài máy cục bộ cần http.token / listening beyond loopback needs http.token"
            ]
        )

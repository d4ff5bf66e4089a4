"""What `lienthong check-config` adds to loading: the rules `run` refuses on, warnings, and
`--connect`, which proves every source's and sink's credentials and endpoint work.

`refusals(config)` is the one list of start-up rules: `run` and `check-config` both apply it,
so a configuration check-config passes is one run accepts.
"""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bridge.blobs import BlobStore
from bridge.config import Config
from bridge.domain.enums import EndpointRole
from bridge.errors import BridgeError, ConfigError
from bridge.http.guard import check_listen
from bridge.interfaces import AdapterContext, Limits, Profiles
from bridge.settings import EndpointSettings
from bridge.signatures import TrustStore
from bridge.store import open_store
from bridge.tls import ssl_context

CONNECT_TIMEOUT_S = 20.0  # the longest one endpoint's check may take with --connect


def refusals(config: Config) -> list[str]:
    """Every reason `run` would refuse to start with this (valid) configuration."""
    errors: list[str] = []
    rules = (
        lambda: check_listen(config),
        lambda: open_store(config.bridge.database, config.bridge.data_dir),
        lambda: TrustStore.from_folder(config.bridge.trust_store, fetch_revocation=False),
    )
    for rule in rules:
        try:
            rule()
        except ConfigError as exc:
            errors.extend(exc.errors)
    errors.extend(_tls_refusals(config))
    return errors


def _tls_refusals(config: Config) -> list[str]:
    """TLS files an endpoint names must load (`run` cannot start that endpoint otherwise)."""
    errors = []
    for unit, kind, ep in _endpoints(config):
        try:
            ssl_context(ep)
        except (OSError, ssl.SSLError) as exc:
            errors.append(
                f"{_where(unit, kind, ep)}: không nạp được tệp TLS (ca_file, client_cert,"
                f" client_key) / cannot load TLS files: {exc}"
            )
    return errors


def warnings(config: Config) -> list[str]:
    """What is allowed but probably a mistake: a unit with no sink, a drop folder missing, a
    trust store folder missing (every signature would come out untrusted)."""
    found = []
    trust = config.bridge.trust_store
    if trust is not None and not trust.is_dir():
        found.append(
            f"bridge.trust_store: thư mục {trust} không tồn tại, mọi chữ ký sẽ là không tin cậy"
            f" / folder {trust} does not exist: every signature would be untrusted"
        )
    for unit in config.units:
        if not unit.sinks:
            found.append(
                f"units[{unit.id}]: đơn vị không có đích nào, văn bản đến sẽ không được chuyển đi"
                " / the unit has no sink: documents it receives go nowhere"
            )
        for source in unit.sources:
            path = getattr(source, "path", None)  # a source that reads a drop folder
            if isinstance(path, Path) and not path.is_dir():
                found.append(
                    f"units[{unit.id}].sources[{source.name}].path: thư mục {path} không tồn tại"
                    f" / drop folder {path} does not exist"
                )
    return found


@dataclass(frozen=True)
class Reached:
    """What `--connect` found for one endpoint (or the database): `error` is None when it
    worked."""

    where: str
    role: str
    name: str
    profile: str
    error: str | None


async def connect_all(
    config: Config, timeout_s: float = CONNECT_TIMEOUT_S, *, profiles: Profiles
) -> list[Reached]:
    """Log in to every source and sink at once with its adapter's `check()`, and to a
    PostgreSQL store; each bounded by the shorter of `timeout_s` and its own `timeout_s`.
    Changes nothing on the other side (a folder sink's outbox is created if missing)."""
    with tempfile.TemporaryDirectory(prefix="lienthong-check-") as scratch:
        blobs = BlobStore(Path(scratch))
        checks = [
            _connect(unit, kind, ep, blobs, min(timeout_s, ep.timeout_s), profiles)
            for unit, kind, ep in _endpoints(config)
        ]
        if config.bridge.database.startswith(("postgresql://", "postgres://")):
            checks.append(_connect_database(config.bridge.database, timeout_s))
        return list(await asyncio.gather(*checks))


async def _connect_database(url: str, timeout_s: float) -> Reached:
    """Log in to the PostgreSQL store (the SQLite one is a file `run` creates)."""
    import asyncpg  # loaded here: only a PostgreSQL store loads it

    error: str | None = None
    try:
        conn = await asyncpg.connect(url, timeout=timeout_s)
        await conn.close(timeout=timeout_s)
    except TimeoutError:
        error = f"không trả lời sau {timeout_s:g} giây / no answer within {timeout_s:g} s"
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Reached("bridge.database", "database", "database", "postgresql", error)


async def _connect(
    unit: str,
    kind: str,
    ep: EndpointSettings,
    blobs: BlobStore,
    timeout_s: float,
    profiles: Profiles,
) -> Reached:
    role = EndpointRole.SOURCE if kind == "sources" else EndpointRole.SINK
    spec = profiles[ep.profile]
    factory = spec.make_source if role is EndpointRole.SOURCE else spec.make_sink
    error: str | None = None
    try:
        assert factory is not None  # the configuration was validated against the profile
        limits = Limits(http_timeout_s=ep.timeout_s, max_page_bytes=ep.max_page_bytes)
        ctx = AdapterContext(units=(unit,), blobs=blobs, limits=limits, ssl=ssl_context(ep))
        async with asyncio.timeout(timeout_s):
            async with factory(ep, ctx) as adapter:
                await adapter.check()
    except TimeoutError:
        error = f"không trả lời sau {timeout_s:g} giây / no answer within {timeout_s:g} s"
    except BridgeError as exc:
        error = exc.reason
    except (OSError, ssl.SSLError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Reached(_where(unit, kind, ep), role, ep.name, ep.profile, error)


def _endpoints(config: Config) -> list[tuple[str, str, EndpointSettings]]:
    return [
        (unit.id, kind, ep)
        for unit in config.units
        for kind, eps in (("sources", unit.sources), ("sinks", unit.sinks))
        for ep in eps
    ]


def _where(unit: str, kind: str, ep: EndpointSettings) -> str:
    return f"units[{unit}].{kind}[{ep.name}]"

"""TLS for outgoing calls: verified by default, an extra CA bundle, client certificates."""

from __future__ import annotations

import functools
import os
import ssl

from bridge.settings import EndpointSettings


def ssl_context(settings: EndpointSettings) -> ssl.SSLContext | bool:
    """The SSL context aiohttp should use for this endpoint (True = system defaults).
    Endpoints with the same TLS settings get the same context, so they share connections."""
    if not settings.verify_tls:
        return False
    if settings.ca_file is None and settings.client_cert is None:
        return True
    files = (settings.ca_file, settings.client_cert, settings.client_key)
    return _context(*files, _changed(files))


def _changed(files: tuple[str | None, ...]) -> tuple[float, ...]:
    """When each file last changed: a renewed certificate makes a new context."""
    return tuple(os.stat(f).st_mtime if f and os.path.exists(f) else 0.0 for f in files)


@functools.lru_cache(maxsize=256)
def _context(
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    changed: tuple[float, ...],
) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    if client_cert:
        ctx.load_cert_chain(client_cert, client_key)
    return ctx

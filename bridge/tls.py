"""TLS for outgoing calls: verified by default, an extra CA bundle, client certificates."""

from __future__ import annotations

import ssl

from bridge.settings import EndpointSettings


def ssl_context(settings: EndpointSettings) -> ssl.SSLContext | bool:
    """The SSL context aiohttp should use for this endpoint (True = system defaults)."""
    if not settings.verify_tls:
        return False
    if settings.ca_file is None and settings.client_cert is None:
        return True
    ctx = ssl.create_default_context()
    if settings.ca_file:
        ctx.load_verify_locations(cafile=settings.ca_file)
    if settings.client_cert:
        ctx.load_cert_chain(settings.client_cert, settings.client_key)
    return ctx

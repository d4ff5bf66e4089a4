"""`check-config --connect` logs in to a PostgreSQL store too, and says when it cannot."""

from __future__ import annotations

import socket

from bridge.app import connect_all, parse_config


async def test_connect_reaches_the_real_postgresql(pg_url: str) -> None:
    """The session's PostgreSQL answers ok; a port nobody listens on is a failure with a reason."""
    with socket.socket() as probe:  # a free port, closed again
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    dead_url = f"postgresql://lienthong@127.0.0.1:{closed}/nowhere"
    for url, works in ((pg_url, True), (dead_url, False)):
        config = parse_config({"bridge": {"database": url}}, {})
        (reached,) = await connect_all(config, timeout_s=5)
        assert (reached.where, reached.role) == ("bridge.database", "database")
        assert (reached.error is None) is works, reached.error

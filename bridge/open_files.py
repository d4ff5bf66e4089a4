"""How many files a configuration needs open at once, and the limit the process has.

Open files are sockets, database files and blobs being written. Connections to one remote
system come from one shared pool (`adapters._pools`), so they grow with the number of remote
systems, not of units: at most PER_HOST_CONNECTIONS each. A file being downloaded is a
socket and a blob file at once; an IMAP mailbox keeps its own connection.
"""

from __future__ import annotations

import resource

import structlog

from bridge.config import Config
from bridge.settings import PER_HOST_CONNECTIONS, host_of

log = structlog.get_logger(__name__)

BASE_FILES = 128  # the process itself: database files and their journals, logs, the HTTP
# listener and its clients, the event loop, thread pools, the signature checker
PER_ENDPOINT_IN_FLIGHT = 4  # calls one endpoint has under way at once, at most, usually
DELIVERY_PROCESS_FILES = 128  # the delivery child's own, when it runs


def needed(config: Config) -> int:
    """An estimate of the files the configuration needs open at the busiest moment."""
    per_host: dict[str, int] = {}
    own = 0  # endpoints with a connection of their own (IMAP), or none (folders)
    for unit in config.units:
        for ep in (*unit.sources, *unit.sinks):
            base = getattr(ep, "base_url", None)
            if isinstance(base, str) and "://" in base:
                host = host_of(base)
                per_host[host] = per_host.get(host, 0) + PER_ENDPOINT_IN_FLIGHT
            else:
                own += 2
    sockets = sum(min(PER_HOST_CONNECTIONS, n) for n in per_host.values())
    files = BASE_FILES + 2 * sockets + own  # each socket may be filling a blob file
    if config.bridge.delivery_process:
        files += DELIVERY_PROCESS_FILES
    return files


def soft_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def warning(config: Config, limit: int | None = None) -> str | None:
    """A warning for check-config when the open-file limit is below what the configuration
    needs (with room to spare: twice the estimate); None when it is enough."""
    want = needed(config)
    limit = soft_limit() if limit is None else limit
    if limit == resource.RLIM_INFINITY or limit >= 2 * want:
        return None
    return (
        f"giới hạn tệp mở {limit} thấp so với cấu hình (cần khoảng {want}, nên đặt từ"
        f" {2 * want}: `ulimit -n {2 * want}` hoặc LimitNOFILE={2 * want} trong systemd)"
        f" / open-file limit {limit} is low for this configuration (about {want} needed;"
        f" set {2 * want} or more: `ulimit -n {2 * want}` or LimitNOFILE={2 * want} in systemd)"
    )


def raise_limit(config: Config) -> None:
    """At start, raise the soft open-file limit towards twice the estimate, as far as the
    hard limit allows (no privilege needed); log when even that is short."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * needed(config)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("open_file_limit_raised", before=soft, now=target)
    if target < want:
        log.warning("open_file_limit_low", limit=target, wanted=want)

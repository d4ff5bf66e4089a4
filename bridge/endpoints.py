"""The endpoints the runtime runs: which the configuration asks for, and what each one is.

`wanted` reads the configuration (sources sharing one node become one poller serving all
their units, as the profile's `shared_node` says); `Endpoint` is one running source or sink;
`helpers_for` starts what an adapter's capabilities call for (a status relay for a source
whose senders expect business status back, a status poller for a home system that can be
asked); `intake_for` is the push intake of an adapter that can be pushed to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from bridge.config import Config
from bridge.domain.enums import EndpointRole, ProcessRole
from bridge.health import Health
from bridge.interfaces import Limits, Profiles, PushReceiver, StatusPolling, StatusSender
from bridge.normalize.directory import Resolver
from bridge.services import PushIntake
from bridge.settings import EndpointSettings, SinkSettings, host_of
from bridge.status_messages import StatusPoller, StatusRelay
from bridge.store import Store
from bridge.supervisor import Supervisor
from bridge.waiting import Pacer
from schemas import RawRecord, StatusEvent

Wanted = dict[str, tuple[EndpointSettings, tuple[str, ...], EndpointRole]]


@dataclass
class Endpoint:
    """One running source or sink: its adapter, health, worker task and own stop switch."""

    settings: EndpointSettings
    units: tuple[str, ...]
    role: EndpointRole
    adapter: Any
    health: Health
    task: asyncio.Task[None] | None = None
    helpers: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    runner: Any = None

    def task_names(self) -> tuple[str, ...]:
        """The supervisor's names of every task this endpoint may run."""
        name = self.settings.name
        return (f"{self.role}:{name}", f"status-relay:{name}", f"status-poll:{name}")


def wanted(config: Config, profiles: Profiles, role: ProcessRole) -> Wanted:
    """Every endpoint the configuration asks for, by name, with the units it serves.

    Sources of one profile pointing at one shared node (two vxp sources with one base_url
    and system_id, say) are one endpoint, named after the first, serving all their units.
    The delivery process (`role` deliveries) runs the sinks only.
    """
    found, _ = _plan(config, profiles)
    if role is ProcessRole.DELIVERIES:
        return {name: w for name, w in found.items() if w[2] is EndpointRole.SINK}
    return found


def served_by(config: Config, profiles: Profiles) -> dict[str, str]:
    """Which endpoint polls for each configured source: itself, or the first source of the
    shared node it points at (whose endpoint serves every unit of that node)."""
    return _plan(config, profiles)[1]


def _plan(config: Config, profiles: Profiles) -> tuple[Wanted, dict[str, str]]:
    found: Wanted = {}
    served: dict[str, str] = {}
    nodes: dict[tuple[str, Any], str] = {}
    for unit in config.units:
        for s in unit.sources:
            node_of = profiles[s.profile].shared_node
            key = (s.profile, node_of(s)) if node_of is not None else None
            if key is not None and key in nodes:
                first = nodes[key]
                settings, units, kind = found[first]
                found[first] = (settings, (*units, unit.id), kind)
                served[s.name] = first
                continue
            if key is not None:
                nodes[key] = s.name
            found[s.name] = (s, (unit.id,), EndpointRole.SOURCE)
            served[s.name] = s.name
        for k in unit.sinks:
            found[k.name] = (k, (unit.id,), EndpointRole.SINK)
    return found, served


def profile_of_source(name: str, running: Mapping[str, Endpoint], config: Config) -> str | None:
    """The profile of source `name`: the running one's, else the configuration's (a record
    of a source just removed is still read by the profile it came from)."""
    ep = running.get(name)
    if ep is not None:
        return ep.settings.profile
    for unit in config.units:
        for s in unit.sources:
            if s.name == name:
                return s.profile
    return None


def sinks_of(config: Config, unit_id: str) -> list[str]:
    """The sinks of a unit, its home first."""
    for unit in config.units:
        if unit.id == unit_id:
            return [s.name for s in unit.sinks]
    return []


def strict_signatures(config: Config, unit_id: str) -> bool:
    """Whether the unit holds documents with broken signatures for an operator."""
    return any(u.quarantine_invalid_signatures for u in config.units if u.id == unit_id)


def limits_of(settings: EndpointSettings) -> Limits:
    return Limits(
        http_timeout_s=settings.timeout_s,
        max_page_bytes=settings.max_page_bytes,
        max_attachment_bytes=settings.max_attachment_bytes,
        max_inline_attachment_bytes=settings.max_inline_attachment_bytes,
        remote_rate_limit=settings.remote_rate_limit or None,
    )


def claim_ttl(config: Config) -> float:
    """How long a claimed delivery is this instance's: past the lease time (so a dead
    instance's work comes back soon) but never shorter than a slow attempt may take."""
    timeouts = [k.timeout_s for u in config.units for k in u.sinks] or [60.0]
    return max(config.bridge.lease_ttl, max(timeouts) + 30.0)


def status_pushed(ep: Endpoint) -> bool:
    """Whether a sink's home system pushes its status changes (a webhook with its secret
    configured): then nothing asks it."""
    return isinstance(ep.adapter, PushReceiver) and bool(
        getattr(ep.settings, "webhook_secret", None)
    )


def home_host(settings: EndpointSettings) -> str:
    """The home system a sink delivers to, as one key for every sink on it: the scheme and
    host of its base URL (its name when it has none)."""
    base = getattr(settings, "base_url", None)
    if not isinstance(base, str) or "://" not in base:
        return settings.name
    return host_of(base)


def helpers_for(
    ep: Endpoint,
    profiles: Profiles,
    store: Store,
    supervisor: Supervisor,
    resolver: Resolver | None = None,
    pacer_of: Callable[[SinkSettings], Pacer | None] = lambda settings: None,
) -> list[asyncio.Task[None]]:
    """The status relay of a source whose senders expect business status back (and which can
    send it), the status poller of a sink that can be asked and does not push its status
    (paced by `pacer_of` its home system); supervised, stopped with `ep`."""
    name, profile = ep.settings.name, ep.settings.profile
    tasks = []
    if (
        ep.role is EndpointRole.SOURCE
        and profiles[profile].status_messages is not None
        and isinstance(ep.adapter, StatusSender)
    ):
        relay = StatusRelay(ep.adapter, store, Health(f"{name}:status", profile), resolver=resolver)
        tasks.append(supervisor.start(f"status-relay:{name}", lambda: relay.run(ep.stop), ep.stop))
    if (
        ep.role is EndpointRole.SINK
        and isinstance(ep.adapter, StatusPolling)
        and not status_pushed(ep)
    ):
        assert isinstance(ep.settings, SinkSettings)
        poller = StatusPoller(
            ep.adapter, store, ep.settings.status_poll_interval, pacer=pacer_of(ep.settings)
        )
        tasks.append(supervisor.start(f"status-poll:{name}", lambda: poller.run(ep.stop), ep.stop))
    return tasks


def intake_for(
    ep: Endpoint | None,
    store: Store,
    records_stored: Callable[[], None],
    urgent: Callable[[Sequence[int]], None] | None = None,
) -> PushIntake | None:
    """The push intake of an endpoint whose adapter can be pushed to: a source's records are
    stored (and the processor told, `urgent` with their ids: a pushed record goes before the
    backlog), a sink's status events stored. None otherwise."""
    if ep is None or not isinstance(ep.adapter, PushReceiver):
        return None
    receiver: PushReceiver = ep.adapter
    role = ep.role

    async def intake(headers: Mapping[str, str], body: bytes) -> int:
        items: Sequence[Any] = await receiver.accept_push(headers, body)
        if role is EndpointRole.SOURCE:
            records: list[RawRecord] = list(items)
            new_ids = await store.save_records(records)
            if urgent is not None:  # stored by the pull a moment ago: still goes first
                urgent(
                    new_ids if len(new_ids) == len(records) else await store.undecided_ids(records)
                )
            if new_ids:
                records_stored()
        else:
            events: list[StatusEvent] = list(items)
            await store.save_status_events(events)
        return len(items)

    return intake

"""An operator's controls of the running endpoints: pause, resume and poll now for a source,
retry now for a sink; each one audited.

A pause is kept in the store (it outlives a restart, and every instance sharing the source
reads it before each pull); the source's runner is poked so it takes effect at once. Poll now
pokes the runner out of its wait; retry now makes the sink's parked deliveries due and wakes
its delivery worker.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.delivery import DeliveryWorker
from bridge.domain.enums import EndpointRole
from bridge.endpoints import Endpoint
from bridge.services import ControlResult
from bridge.store import Store


class EndpointControls:
    """The controls over the daemon's table of running endpoints (`Daemon.endpoints`)."""

    def __init__(self, endpoints: Mapping[str, Endpoint], store: Store) -> None:
        self.endpoints = endpoints
        self.store = store

    def _running(self, name: str, role: EndpointRole) -> Endpoint | None:
        ep = self.endpoints.get(name)
        return ep if ep is not None and ep.role is role else None

    async def pause_source(self, name: str, actor: str, *, paused: bool = True) -> ControlResult:
        changed = await self.store.set_paused(name, paused, actor)
        ep = self._running(name, EndpointRole.SOURCE)
        if ep is not None:
            ep.health.paused = paused  # a pull under way stops after its page
            ep.runner.poke.set()
        return ControlResult(name, EndpointRole.SOURCE, paused=paused, changed=changed)

    async def resume_source(self, name: str, actor: str) -> ControlResult:
        return await self.pause_source(name, actor, paused=False)

    async def poll_now(self, name: str, actor: str) -> ControlResult:
        paused = await self.store.is_paused(name)
        await self.store.note_action(actor, "poll_now", f"source:{name}", {"paused": paused})
        ep = self._running(name, EndpointRole.SOURCE)
        if ep is not None and not paused:
            ep.runner.poke.set()
        return ControlResult(name, EndpointRole.SOURCE, paused=paused, changed=not paused)

    async def retry_sink(self, name: str, actor: str) -> ControlResult:
        released = await self.store.release_parked_deliveries(name)
        await self.store.note_action(actor, "retry_now", f"sink:{name}", {"released": released})
        ep = self._running(name, EndpointRole.SINK)
        if ep is not None:
            if isinstance(ep.runner, DeliveryWorker):
                ep.runner.retry_now()
            else:  # its deliveries run in the delivery process: wake it there
                ep.runner.wake.set()
        return ControlResult(name, EndpointRole.SINK, released=released)

"""The alert monitor: one supervised task that evaluates the rules every `check_every`
seconds, keeps each alert's state in the store and tells every channel what it is owed.

A channel that fails is logged and owed the same notice at the next evaluation; it never
stops the task. With several instances on one database, the one holding the `alerts` lease
evaluates (a road run by another instance is left as it stands: that instance's own health
is the one that knows it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import structlog

from bridge.alerts import rules
from bridge.alerts.channels import Channel, ChannelError, channels_of
from bridge.alerts.messages import message
from bridge.alerts.settings import AlertsSettings
from bridge.alerts.state import Notice, Observation, Seen, observe, owed, told
from bridge.alerts.workdays import overdue_before
from bridge.domain.alerts import AlertKind, AlertRecord
from bridge.domain.enums import HealthState
from bridge.health import Health
from bridge.leases import Lease
from bridge.status_messages import ARRIVED
from bridge.store import Store
from bridge.waiting import wait_any

log = structlog.get_logger(__name__)
IDLE_S = 60.0  # how often a daemon without `[alerts]` looks whether it has one (after a reload)


class Road(Protocol):
    """A running source or sink (`bridge.endpoints.Endpoint`), as far as alerts read it."""

    @property
    def units(self) -> tuple[str, ...]: ...
    @property
    def role(self) -> str: ...
    @property
    def health(self) -> Health: ...


class AlertMonitor:
    def __init__(
        self,
        store: Store,
        settings: Callable[[], AlertsSettings | None],
        roads: Callable[[], Mapping[str, Road]],
        unit_names: Callable[[], Mapping[str, str]],
        started_at: dt.datetime,
    ) -> None:
        self.store = store
        self.settings = settings
        self.roads = roads
        self.unit_names = unit_names
        self.started_at = started_at
        self._down: dict[str, dt.datetime] = {}  # road → when first seen not ok
        self._evaluated = False

    async def run(self, stop: asyncio.Event, lease: Lease | None = None) -> None:
        while not stop.is_set():
            settings = self.settings()
            if settings is not None and (lease is None or await lease.hold()):
                await self.evaluate(settings)
            await wait_any(stop, None, settings.check_every if settings else IDLE_S)

    async def evaluate(self, settings: AlertsSettings, now: dt.datetime | None = None) -> None:
        """One evaluation: observe, keep the state, tell every channel what it is owed."""
        now = now or dt.datetime.now(dt.UTC)
        kept = {a.key: a for a in await self.store.alerts()}
        current = dict(kept)
        for obs in await self._observe(settings, kept, now):
            after = observe(kept.get(obs.key), obs, now.isoformat())
            if after is not None:
                current[obs.key] = after
        await self.store.save_alerts([a for k, a in current.items() if kept.get(k) != a])
        channels = channels_of(settings.email, settings.webhook)
        for alert in current.values():
            for channel in channels:
                notice = owed(alert, channel.name, now.timestamp(), settings.remind_every)
                if notice is not None and await _tell(channel, alert, notice, now):
                    alert = told(alert, channel.name, notice, now.timestamp())
                    await self.store.save_alerts([alert])
        self._evaluated = True

    async def _observe(
        self, settings: AlertsSettings, kept: Mapping[str, AlertRecord], now: dt.datetime
    ) -> list[Observation]:
        found = self._roads(settings, now)
        counts = await self.store.open_counts()
        for kind, count, at_least in (
            (AlertKind.DEAD_LETTERS, counts["dead_letters"], settings.dead_letters_growth),
            (AlertKind.QUARANTINE, counts["quarantined"], settings.quarantine_growth),
        ):
            found.append(rules.growth(kind, count, kept.get(kind.value), at_least, now))
        found.extend(await self._overdue(settings, now))
        found.extend(await self._outgoing_overdue(settings, now))
        seen = {o.key for o in found}
        for a in kept.values():  # a road or source gone from the configuration: its alert ends
            if a.firing and a.key not in seen:
                found.append(Observation(a.key, a.kind, Seen.CLEAR))
        return found

    def _roads(self, settings: AlertsSettings, now: dt.datetime) -> list[Observation]:
        names = self.unit_names()
        found = []
        for name, road in self.roads().items():
            h = road.health
            if h.state in (HealthState.OK, HealthState.DISABLED) or h.standby:
                self._down.pop(name, None)
            else:
                self._down.setdefault(name, now if self._evaluated else self.started_at)
            units = tuple((u, names.get(u, "")) for u in road.units)
            seen = rules.RoadSeen(
                name, str(road.role), h.profile, units, h.state, h.standby, h.last_error
            )
            found.append(rules.road(seen, self._down.get(name), now, settings.road_down_after))
        return found

    async def _outgoing_overdue(
        self, settings: AlertsSettings, now: dt.datetime
    ) -> list[Observation]:
        before = overdue_before(now, settings.holidays).astimezone(dt.UTC)
        names = dict(self.unit_names())
        silent = await _silent_recipients(self.store, before)
        return [
            rules.outgoing_overdue(unit, rows, names, settings.holidays)
            for unit, rows in silent.items()
        ]

    async def _overdue(self, settings: AlertsSettings, now: dt.datetime) -> list[Observation]:
        before = overdue_before(now, settings.holidays).astimezone(dt.UTC)
        rows = await self.store.unsent_status(ARRIVED[0], before.isoformat(timespec="milliseconds"))
        by_source: dict[str, list[tuple[str, int, str]]] = {}
        for source, unit, count, oldest in rows:
            by_source.setdefault(source, []).append((unit, count, oldest))
        names = dict(self.unit_names())
        return [
            rules.overdue(source, found, names, settings.holidays)
            for source, found in by_source.items()
        ]


async def _silent_recipients(
    store: Store, before: dt.datetime
) -> dict[str, list[tuple[str, str, str]]]:
    """Axis recipients sent to before `before` without a 01, by sending unit."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for doc, r in await store.waiting_for_01(before.isoformat(timespec="milliseconds")):
        d = doc.data.get("document", {})
        label = f"{d.get('number') or '?'}/{d.get('notation') or '?'}"
        found.setdefault(doc.unit, []).append((label, r.code, r.sent_at or ""))
    return found


async def _tell(channel: Channel, alert: AlertRecord, notice: Notice, now: dt.datetime) -> bool:
    said = message(alert, notice, now)
    try:
        await channel.send(said)
    except ChannelError as exc:
        log.warning(
            "alert_not_sent", alert=alert.key, notice=notice, channel=channel.name, reason=str(exc)
        )
        return False
    log.info("alert_sent", alert=alert.key, notice=notice, channel=channel.name)
    return True


def firing(alerts: Iterable[AlertRecord]) -> list[dict[str, object]]:
    """The alerts firing now, as /status lists them."""
    return [
        {"key": a.key, "kind": a.kind.value, "since": a.since, "detail": dict(a.detail)}
        for a in alerts
        if a.firing
    ]

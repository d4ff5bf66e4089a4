"""Alerts: their durable state (what each channel was told), and the counts they watch —
dead letters, records held in quarantine, status messages owed and not yet sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from bridge import jsonutil
from bridge.domain.alerts import AlertKind, AlertRecord, Told
from bridge.domain.enums import DeliveryState
from bridge.domain.enums import StatusMessageState as Msg
from bridge.store.sql.base import SqlBase, dumps, now_iso


class Alerts(SqlBase):
    """The `alerts` table, and what the alert rules read."""

    async def alerts(self) -> list[AlertRecord]:
        rows = await self._read().fetch(
            "SELECT key, kind, firing, since, ended_at, detail::text, told::text FROM alerts"
            " ORDER BY key",
            (),
        )
        return [
            AlertRecord(
                key=r[0],
                kind=AlertKind(r[1]),
                firing=bool(r[2]),
                since=r[3],
                ended_at=r[4],
                detail=jsonutil.loads(r[5]),
                told={k: Told(**v) for k, v in jsonutil.loads(r[6]).items()},
            )
            for r in rows
        ]

    async def save_alerts(self, records: Sequence[AlertRecord]) -> None:
        if not records:
            return
        async with self._tx() as conn:
            for a in records:
                told = {channel: asdict(t) for channel, t in a.told.items()}
                detail = dumps(dict(a.detail))
                await conn.execute(
                    "INSERT INTO alerts (key, kind, firing, since, ended_at, detail, told,"
                    " updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (key) DO UPDATE"
                    " SET kind = excluded.kind, firing = excluded.firing, since = excluded.since,"
                    " ended_at = excluded.ended_at, detail = excluded.detail,"
                    " told = excluded.told, updated_at = excluded.updated_at",
                    (
                        a.key,
                        a.kind.value,
                        a.firing,
                        a.since,
                        a.ended_at,
                        detail,
                        dumps(told),
                        now_iso(),
                    ),
                )

    async def open_counts(self) -> dict[str, int]:
        dead = await self._read().fetchval(
            f"SELECT count(*) FROM outbox WHERE state = '{DeliveryState.DEAD}'", ()
        )
        held = await self._read().fetchval(
            "SELECT count(*) FROM quarantine WHERE released_at IS NULL", ()
        )
        return {"dead_letters": int(dead or 0), "quarantined": int(held or 0)}

    async def unsent_status(self, code: str, before: str) -> list[tuple[str, str, int, str]]:
        rows = await self._read().fetch(
            "SELECT source, from_organ, count(*), min(created_at) FROM status_out"
            f" WHERE code = $1 AND state <> '{Msg.SENT}' AND created_at < $2"
            " GROUP BY source, from_organ ORDER BY source, from_organ",
            (code, before),
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

"""An operator's controls of the running endpoints: a source paused (kept across restarts),
and the audit entry every control leaves, in the transaction that made it."""

from __future__ import annotations

from typing import Any

from bridge.store.sql.base import SqlBase, now_iso


class Controls(SqlBase):
    """Pausing and resuming a source; noting a control that changes nothing stored."""

    async def set_paused(self, name: str, paused: bool, actor: str) -> bool:
        """Pause or resume `name`, audited; True when this changed its state."""
        async with self._tx() as conn:
            before = await conn.fetchval(
                "SELECT paused FROM endpoint_controls WHERE name = $1", (name,)
            )
            await conn.execute(
                "INSERT INTO endpoint_controls (name, paused, actor, updated_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET"
                " paused = excluded.paused, actor = excluded.actor,"
                " updated_at = excluded.updated_at",
                (name, paused, actor, now_iso()),
            )
            changed = bool(before) != paused
            action = "pause" if paused else "resume"
            await self._audit(conn, actor, action, f"source:{name}", {"changed": changed})
            return changed

    async def is_paused(self, name: str) -> bool:
        paused = await self._read().fetchval(
            "SELECT paused FROM endpoint_controls WHERE name = $1", (name,)
        )
        return bool(paused)

    async def paused_endpoints(self) -> set[str]:
        rows = await self._read().fetch(
            "SELECT name FROM endpoint_controls WHERE paused = $1", (True,)
        )
        return {r[0] for r in rows}

    async def note_action(
        self, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        """Audit a control whose effect is in the running daemon only (poll now, retry now)."""
        async with self._tx() as conn:
            await self._audit(conn, actor, action, target, detail)

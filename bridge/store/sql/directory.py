"""The organ directory as synced from the axis: each entry's current state, every state it had
(appended, never overwritten), and the sync's version, time and last error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bridge.normalize.organ_history import DirectoryEntry
from bridge.store.driver.shim import Conn, Row
from bridge.store.sql.base import SqlBase, now_iso

_COLS = (
    "entry_id, code, name, mail, pid, old_codes, center_code, is_agency, deleted, modified, version"
)
_SYNC_ID = 1


def _values(entry: DirectoryEntry) -> tuple[Any, ...]:
    modified = entry.modified.isoformat() if entry.modified is not None else None
    return (
        entry.entry_id,
        entry.code,
        entry.name,
        entry.mail,
        entry.pid,
        ",".join(entry.old_codes),
        entry.center_code,
        entry.is_agency,
        entry.deleted,
        modified,
        entry.version,
    )


def _entry(r: Row) -> DirectoryEntry:
    return DirectoryEntry(
        entry_id=r[0],
        code=r[1],
        name=r[2],
        mail=r[3],
        pid=r[4],
        old_codes=tuple(c for c in r[5].split(",") if c),
        center_code=r[6],
        is_agency=bool(r[7]),
        deleted=bool(r[8]),
        modified=dt.datetime.fromisoformat(r[9]) if r[9] else None,
        version=int(r[10]),
    )


class Directory(SqlBase):
    """Saving a sync, noting a failed one, reading the history and the sync's state."""

    async def directory_save(self, entries: Sequence[DirectoryEntry], version: int) -> int:
        """One transaction: each entry whose state changed is appended to the history and
        becomes the current state; then the sync's version and time (its error cleared).
        Entries absent from a sync stay as they were. Returns how many entries changed."""
        at = now_iso()
        changed = 0
        async with self._tx() as conn:
            current = await self._current(conn, {e.entry_id for e in entries})
            for entry in entries:
                before = current.get(entry.entry_id)
                if before is not None and before.same_state(entry):
                    continue
                current[entry.entry_id] = entry
                changed += 1
                values = _values(entry)
                await conn.execute(
                    f"INSERT INTO directory_history ({_COLS}, observed_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                    (*values, at),
                )
                await conn.execute(
                    f"INSERT INTO directory_entries ({_COLS}, updated_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
                    " ON CONFLICT (entry_id) DO UPDATE SET code = excluded.code,"
                    " name = excluded.name, mail = excluded.mail, pid = excluded.pid,"
                    " old_codes = excluded.old_codes, center_code = excluded.center_code,"
                    " is_agency = excluded.is_agency, deleted = excluded.deleted,"
                    " modified = excluded.modified, version = excluded.version,"
                    " updated_at = excluded.updated_at",
                    (*values, at),
                )
            await conn.execute(
                "INSERT INTO directory_sync (id, version, synced_at, last_error, failed_at)"
                " VALUES ($1, $2, $3, NULL, NULL) ON CONFLICT (id) DO UPDATE SET"
                " version = excluded.version, synced_at = excluded.synced_at,"
                " last_error = NULL, failed_at = NULL",
                (_SYNC_ID, version, at),
            )
        return changed

    async def _current(self, conn: Conn, ids: set[str]) -> dict[str, DirectoryEntry]:
        if not ids:
            return {}
        rows = await conn.fetch(f"SELECT {_COLS} FROM directory_entries", ())
        return {r[0]: _entry(r) for r in rows if r[0] in ids}

    async def directory_failed(self, error: str) -> None:
        """Note a failed sync; the last good directory and its version stay."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO directory_sync (id, version, synced_at, last_error, failed_at)"
                " VALUES ($1, 0, NULL, $2, $3) ON CONFLICT (id) DO UPDATE SET"
                " last_error = excluded.last_error, failed_at = excluded.failed_at",
                (_SYNC_ID, error[:500], now_iso()),
            )

    async def directory_history(self) -> list[DirectoryEntry]:
        """Every state every entry had, by entry then oldest first."""
        rows = await self._scan().fetch(
            f"SELECT {_COLS} FROM directory_history ORDER BY entry_id, version, id", ()
        )
        return [_entry(r) for r in rows]

    async def directory_entries(self) -> list[DirectoryEntry]:
        """Each entry's current state."""
        rows = await self._scan().fetch(
            f"SELECT {_COLS} FROM directory_entries ORDER BY entry_id", ()
        )
        return [_entry(r) for r in rows]

    async def directory_state(self) -> dict[str, Any]:
        """`organs` (entries not deleted), `version`, `synced_at`, `last_error`, `failed_at`."""
        read = self._read()
        organs = await read.fetchval(
            "SELECT COUNT(*) FROM directory_entries WHERE deleted = $1", (False,)
        )
        row = await read.fetchrow(
            "SELECT version, synced_at, last_error, failed_at FROM directory_sync WHERE id = $1",
            (_SYNC_ID,),
        )
        return {
            "organs": int(organs or 0),
            "version": int(row[0]) if row is not None and row[1] is not None else None,
            "synced_at": row[1] if row is not None else None,
            "last_error": row[2] if row is not None else None,
            "failed_at": row[3] if row is not None else None,
        }

"""The organ directory a simulated axis node serves (vxp.md "The organ directory"), which a
test changes between syncs: an organ added or renamed, deleted (its successor listing its code
in `oldCode`), a merger announced ahead (an `oldCode` naming a live entry), and the version
going backwards (the node's directory restored from an older copy).

Entries are kept as the bridge reads them (`DirectoryEntry`) and written out in the axis's own
field names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.normalize.organ_history import DirectoryEntry

_MODIFIED = "%Y-%m-%d %H:%M:%S"
_CREATED = dt.datetime(2024, 1, 1)


def listed(entry: DirectoryEntry) -> dict[str, Any]:
    """An entry as `getAgenciesList` lists it."""
    return {
        "id": entry.entry_id,
        "code": entry.code,
        "name": entry.name,
        "mail": entry.mail,
        "pid": entry.pid,
        "oldCode": ",".join(entry.old_codes),
    }


def synchronized(entry: DirectoryEntry) -> dict[str, Any]:
    """An entry as `getSynchronizeUnit` gives it."""
    modified = entry.modified or _CREATED
    return {
        **listed(entry),
        "version": entry.version,
        "centerCode": entry.center_code,
        "deleted": entry.deleted,
        "modifyDate": modified.strftime(_MODIFIED),
        "isAgency": entry.is_agency,
    }


class SimDirectory:
    """The directory: entries by id, each change one version newer than the last."""

    def __init__(self) -> None:
        self.organs: dict[str, DirectoryEntry] = {}
        self.version = 0
        self.calls: list[tuple[str, int | None]] = []  # (operation, version asked)

    def _changed(self, entry: DirectoryEntry, **change: Any) -> DirectoryEntry:
        self.version += 1
        entry = dataclasses.replace(entry, **change, version=self.version)
        self.organs[entry.entry_id] = entry
        return entry

    def put(
        self,
        id: str,
        code: str,
        name: str,
        *,
        mail: str = "",
        pid: str = "",
        old_codes: Sequence[str] = (),
        center_code: str = "",
        is_agency: bool = True,
        modified: dt.datetime | None = None,
    ) -> DirectoryEntry:
        """Add or change an entry (a rename is `put` with the same id and a new name)."""
        entry = DirectoryEntry(id, code, name, mail, pid, tuple(old_codes), center_code, is_agency)
        return self._changed(entry, modified=modified or _CREATED)

    def rename(self, id: str, name: str, modified: dt.datetime) -> DirectoryEntry:
        return self._changed(self.organs[id], name=name, modified=modified)

    def delete(self, id: str, modified: dt.datetime) -> DirectoryEntry:
        """Delete an entry (it stays, `deleted`); its successor lists its code in `oldCode`."""
        return self._changed(self.organs[id], deleted=True, center_code="", modified=modified)

    def restore_older(self) -> None:
        """The node's directory restored from an older copy: versions start again from 1."""
        ordered = sorted(self.organs.values(), key=lambda e: e.version)
        for number, entry in enumerate(ordered, start=1):
            self.organs[entry.entry_id] = dataclasses.replace(entry, version=number)
        self.version = len(self.organs)

    def agencies(self) -> dict[str, Any]:
        self.calls.append(("getAgenciesList", None))
        return {"data": [listed(e) for e in self.organs.values() if not e.deleted]}

    def synchronize(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        """The entries changed after `version`, oldest change first; None for a bad one."""
        asked = params.get("version", "0").strip() or "0"
        if not asked.isdigit():
            return None
        self.calls.append(("getSynchronizeUnit", int(asked)))
        changed = sorted(
            (e for e in self.organs.values() if e.version > int(asked)), key=lambda e: e.version
        )
        return {"data": [synchronized(e) for e in changed], "version": self.version}

"""The organ directory a simulated axis node serves (vxp.md "The organ directory"), which a
test changes between syncs: an organ added or renamed, deleted (its successor listing its code
in `oldCode`), a merger announced ahead (an `oldCode` naming a live entry), and the version
going backwards (the node's directory restored from an older copy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_MODIFIED = "%Y-%m-%d %H:%M:%S"


@dataclass
class SimOrgan:
    """One entry of the directory as the node keeps it."""

    id: str
    code: str
    name: str
    mail: str = ""
    pid: str = ""
    old_codes: tuple[str, ...] = ()
    center_code: str = ""
    is_agency: bool = True
    deleted: bool = False
    modified: dt.datetime = field(default_factory=lambda: dt.datetime(2024, 1, 1))
    version: int = 0

    def listed(self) -> dict[str, Any]:
        """As `getAgenciesList` lists it."""
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "mail": self.mail,
            "pid": self.pid,
            "oldCode": ",".join(self.old_codes),
        }

    def synchronized(self) -> dict[str, Any]:
        """As `getSynchronizeUnit` gives it."""
        return {
            **self.listed(),
            "version": self.version,
            "centerCode": self.center_code,
            "deleted": self.deleted,
            "modifyDate": self.modified.strftime(_MODIFIED),
            "isAgency": self.is_agency,
        }


class SimDirectory:
    """The directory: entries by id, each change one version newer than the last."""

    def __init__(self) -> None:
        self.organs: dict[str, SimOrgan] = {}
        self.version = 0
        self.calls: list[tuple[str, int | None]] = []  # (operation, version asked)

    def _changed(self, organ: SimOrgan) -> SimOrgan:
        self.version += 1
        organ.version = self.version
        self.organs[organ.id] = organ
        return organ

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
    ) -> SimOrgan:
        """Add or change an entry (a rename is `put` with the same id and a new name)."""
        organ = SimOrgan(
            id,
            code,
            name,
            mail,
            pid,
            tuple(old_codes),
            center_code,
            is_agency,
            modified=modified or dt.datetime(2024, 1, 1),
        )
        return self._changed(organ)

    def rename(self, id: str, name: str, modified: dt.datetime) -> SimOrgan:
        organ = self.organs[id]
        organ.name, organ.modified = name, modified
        return self._changed(organ)

    def delete(self, id: str, modified: dt.datetime) -> SimOrgan:
        """Delete an entry (it stays, `deleted`); its successor lists its code in `oldCode`."""
        organ = self.organs[id]
        organ.deleted, organ.center_code, organ.modified = True, "", modified
        return self._changed(organ)

    def restore_older(self) -> None:
        """The node's directory restored from an older copy: versions start again from 1."""
        for number, organ in enumerate(sorted(self.organs.values(), key=lambda o: o.version)):
            organ.version = number + 1
        self.version = len(self.organs)

    def agencies(self) -> dict[str, Any]:
        self.calls.append(("getAgenciesList", None))
        return {"data": [o.listed() for o in self.organs.values() if not o.deleted]}

    def synchronize(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        """The entries changed after `version`, oldest change first; None for a bad one."""
        asked = params.get("version", "0").strip() or "0"
        if not asked.isdigit():
            return None
        self.calls.append(("getSynchronizeUnit", int(asked)))
        changed = sorted(
            (o for o in self.organs.values() if o.version > int(asked)), key=lambda o: o.version
        )
        return {"data": [o.synchronized() for o in changed], "version": self.version}

"""The organ directory an axis node serves (vxp.md "The organ directory"): `getAgenciesList`
(the organs not deleted) and `getSynchronizeUnit` (the entries changed after a version, deleted
ones too, with their node, modification date and version), read into `DirectoryEntry`s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from adapters._session import AsyncResource
from adapters.vxp.client import VxpClient
from adapters.vxp.settings import VxpSettings
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext, DirectoryEntry
from bridge.normalize import normalize_code, parse_local_datetime

_MODIFIED = "%Y-%m-%d %H:%M:%S"
_TRUE = ("true", "1", "yes")


class VxpDirectory(AsyncResource):
    """The directory of one axis node, through the node's signed client."""

    def __init__(self, settings: VxpSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self._client = VxpClient(settings, ctx)

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def _release(self) -> None:
        await self._client.__aexit__(None, None, None)

    async def agencies(self) -> list[DirectoryEntry]:
        answer = await self._client.call("getAgenciesList", {})
        return [entry_of(item, i) for i, item in enumerate(_data(answer, "getAgenciesList"))]

    async def synchronize(self, version: int) -> tuple[list[DirectoryEntry], int]:
        answer = await self._client.call("getSynchronizeUnit", {"version": str(version)})
        entries = [entry_of(item, i) for i, item in enumerate(_data(answer, "getSynchronizeUnit"))]
        newest = _int(answer.get("version"), "getSynchronizeUnit.version")
        return entries, newest


def _data(answer: Mapping[str, Any], what: str) -> list[Any]:
    data = answer.get("data")
    if data is None:
        return []
    if not isinstance(data, list):
        raise PermanentError(f"{what}.data: không phải danh sách / is not a list")
    return data


def _int(value: Any, where: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value).strip())
    except ValueError:
        raise PermanentError(f"{where}: không phải số / not a number: {value!r}") from None


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _flag(item: Mapping[str, Any], key: str, default: bool) -> bool:
    value = item.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def entry_of(item: Any, index: int) -> DirectoryEntry:
    """One directory entry of an answer. Raises PermanentError naming the entry and why."""
    where = f"data[{index}]"
    if not isinstance(item, Mapping):
        raise PermanentError(f"danh bạ {where}: không phải đối tượng / not an object")
    entry_id, code = _text(item, "id"), normalize_code(_text(item, "code"))
    if not entry_id or code is None:
        raise PermanentError(f"danh bạ {where}: thiếu id hoặc code / id or code missing")
    modified = None
    if _text(item, "modifyDate"):
        try:
            modified = parse_local_datetime(_text(item, "modifyDate"), _MODIFIED)
        except ValueError:
            raise PermanentError(
                f"danh bạ {where} ({code}).modifyDate: ngày không hợp lệ / bad date"
                f" {_text(item, 'modifyDate')!r}"
            ) from None
    olds = (normalize_code(c) for c in _text(item, "oldCode").replace(";", ",").split(","))
    return DirectoryEntry(
        entry_id=entry_id,
        code=code,
        name=_text(item, "name") or code,
        mail=_text(item, "mail"),
        pid=_text(item, "pid"),
        old_codes=tuple(dict.fromkeys(c for c in olds if c is not None and c != code)),
        center_code=_text(item, "centerCode"),
        is_agency=_flag(item, "isAgency", True),
        deleted=_flag(item, "deleted", False),
        modified=modified,
        version=_int(item.get("version"), f"danh bạ {where}.version"),
    )

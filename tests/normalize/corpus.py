"""Raw field values of the labelled corpus records, by profile, for normalization tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree

from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT


@dataclass(frozen=True)
class RawFields:
    """What a record says, before normalization, next to what truth.jsonl labels."""

    truth: dict[str, Any]
    symbol: str | None
    number: str | None
    notation: str | None
    issuer_name: str | None


def truth_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()]


def _jsonl_line(name: str, index: int) -> dict[str, Any] | None:
    line = (CORPUS / name).read_text(encoding="utf-8").splitlines()[index - 1]
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _idesk_documents() -> list[Any]:
    root = ElementTree.fromstring((CORPUS / "idesk.xml").read_bytes())
    return [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Document"]


def _text(element: Any, name: str) -> str | None:
    for child in element:
        if child.tag.rsplit("}", 1)[-1] == name:
            return child.text  # type: ignore[no-any-return]
    return None


def raw_fields(row: dict[str, Any]) -> RawFields | None:
    """The raw symbol/number/notation/issuer of a truth row's record; None when not read."""
    profile, name, index = row["profile"], row["file"], row["index"]
    if profile == "moffice":
        item = _jsonl_line(name, index)
        if item is None:
            return None
        return RawFields(row, item.get("so_ky_hieu"), None, None, item.get("co_quan_ban_hanh"))
    if profile == "tdoffice":
        item = _jsonl_line(name, index)
        if item is None:
            return None
        issuer = item.get("issuer") or {}
        return RawFields(
            row, None, item.get("codeNumber"), item.get("codeNotation"), issuer.get("organName")
        )
    if profile == "voffice":
        item = _jsonl_line(name, index)
        if item is None:
            return None
        reg = item.get("registration") or {}
        number = reg.get("number")
        return RawFields(
            row,
            reg.get("display"),
            None if number is None else str(number),
            reg.get("symbol"),
            (item.get("issuer") or {}).get("name"),
        )
    if profile == "idesk" and name == "idesk.xml":
        document = _idesk_documents()[index - 1]
        return RawFields(
            row, _text(document, "SoHieu"), None, None, _text(document, "CoQuanBanHanh")
        )
    return None


def corpus_fields() -> list[RawFields]:
    """Every readable record of the four listing profiles whose truth is a document."""
    fields = []
    for row in truth_rows():
        if row["kind"] == "bad":
            continue
        raw = raw_fields(row)
        if raw is not None:
            fields.append(raw)
    return fields

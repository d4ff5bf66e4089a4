"""One document's timeline: what happened to it, in time order, from the rows the store keeps.

Each entry is a dict with `at` (ISO time, or None when the store keeps no time for it: a
delivery still being retried), `kind`, and the fields that kind carries:

- `record`: a raw record that became or joined the document (source, unit, external_id,
  outcome), at its receipt; followed by its `decision` (rule, outcome, corrected fields).
- `delivery_queued`: an outbox row made (sink, unit, op, revision), at its creation;
  `delivery_done`: its end (state delivered, dead or cancelled; attempts, last_error,
  remote_id), at `done_at`; `delivery_retrying`: a row still pending after failed attempts.
  A correction (PATCH) is a delivery whose op is `correct`, with its note.
- `status_in`: a status the home system reported; `status_out`: a status sent (or owed) to
  a sender.
- `action`: an operator's action naming the document (actor, action, detail).

Entries at the same time keep the order above (a record before its decision before the
delivery it caused). A status from the home system carries the home's clock: it is placed no
earlier than the delivery it is about (its `at` stays as reported).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

Entry = dict[str, Any]
Rows = Mapping[str, Iterable[Mapping[str, Any]]]
FINISHED = ("delivered", "dead", "cancelled")
_RANK = {
    "record": 0,
    "decision": 1,
    "action": 2,
    "delivery_queued": 3,
    "delivery_done": 4,
    "status_in": 5,
    "status_out": 6,
    "delivery_retrying": 7,
}
_LAST = dt.datetime.max.replace(tzinfo=dt.UTC)


def timeline(rows: Rows) -> list[Entry]:
    """Every entry of `rows` (the store's `timeline_rows`), in time order."""
    entries = [
        *_records(rows.get("records", ())),
        *_deliveries(rows.get("deliveries", ())),
        *_statuses(rows.get("home", ()), rows.get("sent", ())),
        *_actions(rows.get("audit", ())),
    ]
    floor = _first_delivered(entries)

    def key(item: tuple[int, Entry]) -> tuple[dt.datetime, int, int]:
        seq, e = item
        when = _when(e["at"])
        if e["kind"] == "status_in" and e.get("sink") in floor:
            when = max(when, floor[e["sink"]])
        return when, _RANK[e["kind"]], seq

    return [e for _, e in sorted(enumerate(entries), key=key)]


def _first_delivered(entries: list[Entry]) -> dict[str, dt.datetime]:
    """When each sink first held the document. The home system's statuses come with its own
    clock (often to the second): one never goes before the delivery it is about."""
    floor: dict[str, dt.datetime] = {}
    for e in entries:
        if e["kind"] == "delivery_done" and e.get("state") == "delivered" and e["at"]:
            when = _when(e["at"])
            floor[e["sink"]] = min(floor.get(e["sink"], when), when)
    return floor


def without(entries: list[Entry], hidden: Collection[str]) -> list[Entry]:
    """The entries an operator who does not see the sources and sinks `hidden` may read."""
    if not hidden:
        return entries
    return [e for e in entries if e.get("source") not in hidden and e.get("sink") not in hidden]


def _when(at: str | None) -> dt.datetime:
    if not at:
        return _LAST
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        return _LAST
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _records(records: Iterable[Mapping[str, Any]]) -> list[Entry]:
    out: list[Entry] = []
    for r in records:
        at = r.get("received_at")
        out.append(
            {
                "at": at,
                "kind": "record",
                "record_id": r.get("id"),
                "source": r.get("source"),
                "unit": r.get("unit"),
                "external_id": r.get("external_id"),
                "outcome": r.get("outcome"),
            }
        )
        decision = r.get("decision")
        if isinstance(decision, dict):
            out.append(
                {
                    "at": at,
                    "kind": "decision",
                    "record_id": r.get("id"),
                    "source": r.get("source"),
                    "outcome": r.get("outcome"),
                    "rule": decision.get("rule"),
                    "candidate": decision.get("candidate"),
                    "corrected": decision.get("corrected") or [],
                }
            )
    return out


def _deliveries(deliveries: Iterable[Mapping[str, Any]]) -> list[Entry]:
    out: list[Entry] = []
    for d in deliveries:
        base = {k: d.get(k) for k in ("sink", "unit", "op", "revision")} | {
            "delivery_id": d.get("id")
        }
        out.append(
            {"at": d.get("created_at"), "kind": "delivery_queued", **base, "note": d.get("note")}
        )
        result = {k: d.get(k) for k in ("state", "attempts", "last_error", "remote_id")}
        if d.get("state") in FINISHED:
            out.append({"at": d.get("done_at"), "kind": "delivery_done", **base, **result})
        elif d.get("attempts"):
            out.append({"at": None, "kind": "delivery_retrying", **base, **result})
    return out


def _statuses(home: Iterable[Mapping[str, Any]], sent: Iterable[Mapping[str, Any]]) -> list[Entry]:
    into = [
        {"at": h.get("updated_at"), "kind": "status_in", "sink": h.get("sink"),
         "status": h.get("status"), "note": h.get("note")}
        for h in home
    ]  # fmt: skip
    back = [
        {"at": s.get("sent_at") or s.get("created_at"), "kind": "status_out",
         "source": s.get("source"), "code": s.get("code"), "description": s.get("description"),
         "state": s.get("state"), "last_error": s.get("last_error")}
        for s in sent
    ]  # fmt: skip
    return [*into, *back]


def _actions(audit: Iterable[Mapping[str, Any]]) -> list[Entry]:
    return [
        {"at": a.get("at"), "kind": "action", "actor": a.get("actor"), "action": a.get("action"),
         "target": a.get("target"), "detail": a.get("detail")}
        for a in audit
    ]  # fmt: skip

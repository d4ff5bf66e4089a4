"""/status for hundreds of units: a summary first, filters, pages, one unit on demand.

`GET /status` with none of these parameters answers the whole snapshot as it always has (a
district's few units). With any of them it answers the same keys for the units asked for:

- `unit=ID` one unit's card (the per-unit detail);
- `state=ok|unknown|backoff|failing|disabled` units in that state (a unit's state is the
  worst of its sources' and sinks': failing, backoff, unknown, ok; disabled when all are);
- `area=CODE` units of one district or area: the unit's `area` key when the configuration
  has one, else the parent organ of its code (`000.00.33.H49` → `000.00.00.H49`);
- `limit=N` (1-500) and `cursor=C` pages through the units in code order; `page.next_cursor`
  is the cursor of the next page, null on the last.

`summary` counts every visible unit by state and by area, whatever the filters, so a page for
300 units starts with how many are failing where. `totals` add up the units the filters
chose (not only the page's), `tasks` and `cluster.leases` keep those of the page's endpoints
and the daemon's own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.config import UnitConfig
from bridge.domain.enums import HealthState
from bridge.domain.figures import total
from bridge.normalize.directory import parent_code
from bridge.services import RuntimeView
from bridge.snapshot import Counters, frame, unit_card
from bridge.store import Store

PARAMS = ("unit", "state", "area", "limit", "cursor")
MAX_LIMIT = 500
# Worst first: a unit takes the state of its worst endpoint.
_WORST = (HealthState.FAILING, HealthState.BACKOFF, HealthState.UNKNOWN, HealthState.OK)


class QueryError(ValueError):
    """A parameter of /status that cannot be read; its message names it (Vietnamese first)."""


@dataclass(frozen=True)
class StatusQuery:
    unit: str | None = None
    state: str | None = None
    area: str | None = None
    limit: int | None = None
    cursor: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> StatusQuery | None:
        """The query asked for, None when none of the paging parameters is given (the whole
        snapshot). Raises QueryError naming a parameter that cannot be read."""
        if not any(query.get(p) for p in PARAMS):
            return None
        state = query.get("state") or None
        if state is not None and state not in {s.value for s in HealthState}:
            known = ", ".join(s.value for s in HealthState)
            raise QueryError(f"state: không có trạng thái {state!r} / unknown state ({known})")
        limit = None
        if query.get("limit"):
            try:
                limit = int(query["limit"])
            except ValueError:
                raise QueryError("limit: phải là số / must be an integer") from None
            if not 1 <= limit <= MAX_LIMIT:
                raise QueryError(f"limit: từ 1 đến {MAX_LIMIT} / must be 1 to {MAX_LIMIT}")
        return cls(
            unit=query.get("unit") or None,
            state=state,
            area=query.get("area") or None,
            limit=limit,
            cursor=query.get("cursor") or None,
        )


def area_of(unit: UnitConfig) -> str:
    """The district or area a unit belongs to: its `area` key if the configuration gives one,
    else its code's parent organ (the unit's own code for a top-level one)."""
    declared = getattr(unit, "area", None)
    if isinstance(declared, str) and declared:
        return declared
    return parent_code(unit.id) or unit.id


def unit_state(card: Mapping[str, Any]) -> str:
    """The worst state of a unit card's sources and sinks; disabled when all are."""
    states = {str(ep["state"]) for ep in (*card["sources"], *card["sinks"])}
    for state in _WORST:
        if state in states:
            return state.value
    return HealthState.DISABLED.value


def _summary(cards: list[dict[str, Any]], areas: Mapping[str, str]) -> dict[str, Any]:
    by_state: dict[str, int] = {s.value: 0 for s in HealthState}
    by_area: dict[str, dict[str, int]] = {}
    for card in cards:
        state = unit_state(card)
        by_state[state] += 1
        per = by_area.setdefault(areas[card["id"]], {})
        per[state] = per.get(state, 0) + 1
    return {
        "units": len(cards),
        "by_state": by_state,
        "areas": [
            {"area": a, "units": sum(n.values()), "by_state": n} for a, n in sorted(by_area.items())
        ],
    }


async def status_page(
    store: Store, view: RuntimeView, q: StatusQuery, visible: Collection[str] | None = None
) -> dict[str, Any]:
    """The /status answer for query `q`, over the units in `visible` (None: all)."""
    c = await Counters.read(store, view)
    units = [u for u in view.units() if visible is None or u.id in visible]
    areas = {u.id: area_of(u) for u in units}
    cards = [unit_card(view, u, c) for u in units]
    summary = _summary(cards, areas)
    chosen = [
        card
        for card in sorted(cards, key=lambda card: str(card["id"]))
        if (q.unit is None or card["id"] == q.unit)
        and (q.area is None or areas[card["id"]] == q.area)
        and (q.state is None or unit_state(card) == q.state)
    ]
    after = [card for card in chosen if q.cursor is None or str(card["id"]) > q.cursor]
    page = after[: q.limit] if q.limit is not None else after
    more = q.limit is not None and len(after) > q.limit
    base = await frame(store, view, c)
    names = {ep["name"] for card in cards for ep in (*card["sources"], *card["sinks"])}
    shown = {ep["name"] for card in page for ep in (*card["sources"], *card["sinks"])}
    for card in page:
        card["state"] = unit_state(card)
        card["area"] = areas[card["id"]]
    cluster = dict(base["cluster"])
    cluster["leases"] = [
        row for row in cluster.get("leases", []) if _task_shown(row["resource"], names, shown)
    ]
    return {
        **base,
        "tasks": [t for t in base["tasks"] if _task_shown(str(t["name"]), names, shown)],
        "cluster": cluster,
        "totals": total(c.figures.get(card["id"]) or total([]) for card in chosen),
        "summary": summary,
        "units": page,
        "page": {
            "matched": len(chosen),
            "limit": q.limit,
            "next_cursor": str(page[-1]["id"]) if more and page else None,
        },
    }


def _task_shown(task: str, endpoints: set[str], shown: set[str]) -> bool:
    """The daemon's own tasks (or leases), and those of an endpoint on the page."""
    endpoint = task.split(":", 1)[1] if ":" in task else None
    return endpoint is None or endpoint not in endpoints or endpoint in shown

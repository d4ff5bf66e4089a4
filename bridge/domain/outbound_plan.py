"""What taking one outbox item changes (pure): a first version is refused or routed recipient by
recipient; a later version goes to each recipient that has the document by the road it took,
and a revocation or take-back cancels the sends not yet made. The store applies the `Intake`
in one transaction (`take_item`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bridge.domain.outbound import (
    FINAL_STATES,
    HOLDS,
    PAPER_TASK,
    REVOKED,
    Route,
    Target,
    choose_road,
    document_key,
    message_kind,
    refusal,
    targets,
)
from bridge.domain.outgoing import Intake, Move, NewRecipient, OutDoc, OutRecipient
from bridge.normalize.directory import Resolution, Resolver
from schemas.outgoing import DispatchState, OutgoingItem, OutgoingState, Road

S = DispatchState


@dataclass(frozen=True)
class Routing:
    """What routing a unit's outbox needs: its roads, whether the main file must be signed,
    the units of this bridge (the internal road) and the directory."""

    roads: Sequence[Road]
    require_signature: bool
    internal_units: Collection[str]
    resolver: Resolver

    def route(self, target: Target, skip: Collection[Road] = ()) -> Route:
        return choose_road(target, self.roads, self.internal_units, skip=skip)

    def target_of(self, r: OutRecipient, at: object = None) -> Target:
        """A stored recipient as a routing target again (resolved as of the document's date)."""
        code = r.code if r.code and "@" not in r.code else None
        res = (
            self.resolver.resolve_at(code, at)  # type: ignore[arg-type]
            if code
            else Resolution(code=None)
        )
        return Target(r.code, r.listed, r.name, r.email, res)


def new_recipient(target: Target, route: Route) -> NewRecipient:
    if route.road is Road.PAPER:
        return NewRecipient(
            target.key,
            target.listed,
            target.name,
            target.email,
            "paper",
            None,
            route.why,
            S.UNDELIVERABLE,
            PAPER_TASK,
        )
    return NewRecipient(
        target.key,
        target.listed,
        target.name,
        target.email,
        route.road.value,
        route.to,
        route.why,
        S.QUEUED,
    )


def plan(
    item_id: int,
    outbox: str,
    unit: str,
    item: OutgoingItem,
    existing: OutDoc | None,
    recipients: Sequence[OutRecipient],
    routing: Routing,
) -> Intake:
    """The change one outbox item makes (see the module's docstring)."""
    first = existing is None
    kind = message_kind(item, first)
    base = Intake(
        item_id=item_id,
        unit=unit,
        outbox=outbox,
        home_id=item.document_id,
        document_key=existing.document_key if existing else document_key(item.document),
        version=item.version,
        state=item.state.value,
        kind=kind,
        refused=None,
        data=item.model_dump(mode="json"),
    )
    if existing is not None and item.version <= existing.version:
        return _replace(base, skip=True)  # an older or repeated version: already taken
    found = targets(item, routing.resolver)
    known = {r.code for r in recipients}
    fresh = [t for t in found if t.key not in known]
    if first or (existing is not None and existing.refused):
        reason = refusal(item, require_signature=routing.require_signature)
        if item.state is not OutgoingState.ACTIVE:
            reason = reason or REVOKED
        if reason is not None:
            refused = tuple(
                NewRecipient(t.key, t.listed, t.name, t.email, None, None, None, S.REFUSED, reason)
                for t in fresh
            )
            return _replace(base, refused=reason, new_recipients=refused)
        if existing is not None:  # refused before, sendable now: every recipient starts
            paper: list[int] = []
            restart = _restart(recipients, routing, item, paper)
            return _replace(
                base, new_recipients=_routed(fresh, routing), moves=restart, paper=tuple(paper)
            )
        return _replace(base, new_recipients=_routed(fresh, routing))
    moves: list[Move] = []
    later: list[int] = []
    for r in recipients:
        moves.extend(_later_version(r, item, kind, later))
    new = () if item.state is not OutgoingState.ACTIVE else _routed(fresh, routing)
    return _replace(base, new_recipients=new, moves=tuple(moves), paper=tuple(later))


def _later_version(r: OutRecipient, item: OutgoingItem, kind: str, paper: list[int]) -> list[Move]:
    state = S(r.state)
    if state is S.QUEUED and kind in ("revocation", "take-back"):
        return [Move(r.id, S.REFUSED, detail=REVOKED, version=item.version)]
    if state is S.QUEUED:
        return [Move(r.id, S.QUEUED, version=item.version, detail=kind)]
    if r.road == Road.PAPER.value and state is S.UNDELIVERABLE:
        paper.append(r.id)
        return [Move(r.id, S.UNDELIVERABLE, version=item.version, detail=f"{PAPER_TASK}: {kind}")]
    if state in HOLDS:
        return [Move(r.id, S.QUEUED, version=item.version, detail=kind)]
    return []  # refused, failed for good: it never had the document


def _restart(
    recipients: Sequence[OutRecipient], routing: Routing, item: OutgoingItem, paper: list[int]
) -> tuple[Move, ...]:
    moves = []
    for r in recipients:
        if r.state != S.REFUSED or r.road is not None:
            continue
        route = routing.route(routing.target_of(r, item.document.issued_on))
        state = S.UNDELIVERABLE if route.road is Road.PAPER else S.QUEUED
        if route.road is Road.PAPER:
            paper.append(r.id)
        moves.append(
            Move(
                r.id, state, road=route.road.value, to=route.to, why=route.why, version=item.version
            )
        )
    return tuple(moves)


def _routed(fresh: Sequence[Target], routing: Routing) -> tuple[NewRecipient, ...]:
    return tuple(new_recipient(t, routing.route(t)) for t in fresh)


def _replace(base: Intake, **changes: object) -> Intake:
    import dataclasses

    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def ended(state: str) -> bool:
    return S(state) in FINAL_STATES

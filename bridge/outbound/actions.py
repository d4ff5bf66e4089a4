"""An operator's controls of one recipient of an outgoing document (contract.md): retry tries
again now (the current road, or the road that failed, looked on first by the axis worker);
cancel stops the current road (`failed`, "Người vận hành hủy") and leaves a paper dispatch.
Both audited under the operator's name."""

from __future__ import annotations

from bridge.domain.outbound import CANCELLED, FINAL_STATES, PAPER_TASK
from bridge.domain.outgoing import Move, OutRecipient
from bridge.normalize.directory import normalize_code
from bridge.store import Store
from schemas.outgoing import DispatchState


class RecipientActionError(Exception):
    """The action does not apply: `status` 404 (no such recipient) or 409 (its state)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def find(store: Store, doc_id: int, code: str) -> OutRecipient:
    wanted = normalize_code(code) or code
    for r in await store.recipients_of(doc_id):
        if wanted in (r.code, r.to, *r.listed):
            return r
    raise RecipientActionError(404, "không có người nhận này / no such recipient")


async def retry(store: Store, doc_id: int, code: str, actor: str) -> dict[str, object]:
    r = await find(store, doc_id, code)
    state = DispatchState(r.state)
    if state is DispatchState.QUEUED:
        await store.retry_now(r.id)
    elif state in (DispatchState.FAILED, DispatchState.UNDELIVERABLE) and r.failed_roads:
        road = r.failed_roads[-1]
        to = r.email if road == "mail" else r.code
        await store.move(
            Move(
                r.id,
                "queued",
                road=road,
                to=to,
                why="người vận hành thử lại / operator retry",
                next_at=0.0,
            )
        )
    else:
        raise RecipientActionError(409, f"không thử lại được ở trạng thái {r.state} / cannot retry")
    await store.note_action(
        actor, "outgoing_retry", f"outgoing:{doc_id}/{r.code}", {"state": r.state, "road": r.road}
    )
    return {"recipient": r.code, "road": r.road, "state": "queued"}


async def cancel(store: Store, doc_id: int, code: str, actor: str) -> dict[str, object]:
    r = await find(store, doc_id, code)
    if DispatchState(r.state) in FINAL_STATES or r.road in (None, "paper"):
        raise RecipientActionError(409, f"không hủy được ở trạng thái {r.state} / cannot cancel")
    await store.move(
        Move(r.id, "failed", detail=CANCELLED, failed_road=r.road, error=CANCELLED),
        Move(r.id, "undeliverable", road="paper", to=None, why=CANCELLED, detail=PAPER_TASK),
        paper=[(r.id, r.version, "new")],
    )
    await store.note_action(
        actor, "outgoing_cancel", f"outgoing:{doc_id}/{r.code}", {"state": r.state, "road": r.road}
    )
    return {"recipient": r.code, "road": "paper", "state": "undeliverable"}

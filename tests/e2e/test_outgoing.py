"""Sending end to end: three units on one bridge, a unit's outbox read from its tdoffice, every
recipient by the first road that reaches it (internal, axis, mail, paper), a re-coded
recipient, a locked one that falls back to mail, a dead mailbox that falls back to paper, a
secret and an unnumbered document never sent; then an update and a revocation. Each
(document, recipient) gets each version once, by the road it is owed, and the dispatch log
ends with every state and relayed code."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from schemas import Confidentiality
from simulators.smtp import SmtpSim
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until
from tests.e2e.outgoing_world import (
    AXIS_OK,
    DEAD_MAIL,
    INTERNAL_A,
    INTERNAL_B,
    LOCKED,
    NEW_CODE,
    NOWHERE,
    OLD_CODE,
    SENDER,
    TableResolver,
    config_dict,
)


def _doc(i: int, **changes: Any) -> tuple[Any, dict[str, bytes]]:
    doc, files = make_doc(i)
    doc = doc.model_copy(
        update={
            "issuer": doc.issuer.model_copy(update={"code": SENDER}),
            "issued_on": dt.date(2026, 3, 2),
            **changes,
        }
    )
    return doc, files


def _to(*codes: str, email: str | None = None) -> list[dict[str, str | None]]:
    return [{"organId": c, "organName": None, "email": email} for c in codes]


async def _get(daemon: Daemon, path: str) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{daemon.http.port}{path}") as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.json()


def _final(log: list[dict[str, Any]]) -> dict[str, tuple[str | None, str]]:
    """The last (road, state) of each recipient in a dispatch log."""
    return {r["recipient"]: (r["road"], r["state"]) for r in log}


async def test_every_road_once_then_update_and_revocation(tmp_path: Path) -> None:
    async with (
        TdofficeSim(api_key="o1") as office,
        TdofficeSim(api_key="ha") as home_a,
        TdofficeSim(api_key="hb") as home_b,
        VxpSim() as node,
        SmtpSim() as smtp,
    ):
        out = office.outbox
        sending = node.sending
        sending.refuse[LOCKED] = "23"
        sending.replies.update({AXIS_OK: ("01", "03", "06"), NEW_CODE: ("02",)})
        sending.update_replies[AXIS_OK] = "15"
        smtp.dead.add("bdt@dead.tv.gov.vn")
        main = out.issue(
            *_doc(1),
            _to(INTERNAL_A, AXIS_OK, OLD_CODE, NEW_CODE, LOCKED, DEAD_MAIL, NOWHERE),
            unit=SENDER,
        )
        other = out.issue(*_doc(2), _to(INTERNAL_B, AXIS_OK), unit=SENDER)
        taken_back = out.issue(*_doc(5), _to(AXIS_OK, LOCKED), unit=SENDER)
        secret = out.issue(*_doc(3, confidentiality=Confidentiality.MAT), _to(AXIS_OK), unit=SENDER)
        unnumbered = out.issue(*_doc(4, notation=None), _to(AXIS_OK, INTERNAL_A), unit=SENDER)
        no_number = out.issue(*_doc(6, number=None), _to(AXIS_OK, INTERNAL_B), unit=SENDER)
        raw = config_dict(tmp_path, office, {INTERNAL_A: home_a, INTERNAL_B: home_b}, node, smtp)
        config = parse_config(raw, {})
        daemon = build_daemon(config, resolver=TableResolver())
        async with daemon:

            def state_of(doc: str) -> dict[str, tuple[str | None, str]]:
                return _final(out.log_of(doc))

            await wait_until(
                lambda: (
                    state_of(main).get(NOWHERE) == ("paper", "undeliverable")
                    and state_of(main).get(LOCKED) == ("mail", "sent")
                    and state_of(main).get(DEAD_MAIL) == ("paper", "undeliverable")
                    and state_of(main).get(OLD_CODE) == ("axis", "refused")
                    and state_of(other).get(AXIS_OK) == ("axis", "done")
                ),
                timeout_s=20,
                what="first sends reported",
            )
            await wait_until(
                lambda: len(home_a.received) == 1 and len(home_b.received) == 1,
                what="internal deliveries at the receiving homes",
            )
            # the axis recipients answer by themselves (01, 03, 06; 02); the home works on it
            (home_doc,) = home_a.received
            home_a.set_status(home_doc, "done")
            await wait_until(
                lambda: state_of(main).get(INTERNAL_A) == ("internal", "done"),
                what="the internal recipient's home status back as done",
            )
            await wait_until(
                lambda: state_of(main).get(AXIS_OK) == ("axis", "done"), what="06 relayed"
            )
            # an update of the main document, a revocation of the other
            out.update(main, subject="V/v triển khai nhiệm vụ (bản sửa)")
            out.revoke(other, "Ban hành nhầm")
            await wait_until(
                lambda: (
                    state_of(taken_back).get(AXIS_OK) == ("axis", "done")
                    and state_of(taken_back).get(LOCKED) == ("mail", "sent")
                ),
                what="the document sent by mistake sent",
            )
            out.recall(taken_back, "Gửi nhầm")  # lấy lại: status 13 on the axis, a mail
            await wait_until(
                lambda: (
                    sum(1 for e in sending.sent_log if e.business == 2) == 1
                    and sum(1 for e in sending.sent_log if e.business == 1) == 1
                    and any(
                        str(m.message["Subject"]).startswith("Cập nhật: ") for m in smtp.received
                    )
                    and any(
                        r["version"] == 2 and r["state"] == "sent" and r["road"] == "internal"
                        for r in out.log_of(main)
                    )
                    and home_b.received[next(iter(home_b.received))].get("state") == "revoked"
                ),
                timeout_s=20,
                what="the update and the revocation by each road",
            )
            await wait_until(
                lambda: (
                    state_of(other).get(AXIS_OK) == ("axis", "sent")
                    and state_of(main).get(AXIS_OK) == ("axis", "sent")
                    and [r["statusCode"] for r in out.log_of(main)].count("15") == 1
                    and [r["statusCode"] for r in out.log_of(other)].count("15") == 1
                    and [r["statusCode"] for r in out.log_of(taken_back)].count("15") == 1
                    and state_of(taken_back).get(LOCKED) == ("mail", "sent")
                    and sum(1 for r in out.log_of(taken_back) if r["version"] == 2) >= 4
                ),
                what="the update and the revocation reported sent, and answered 15",
            )
            detail = await _get(daemon, f"/outgoing/{1}")
            status = await _get(daemon, "/status")
            paper = await _get(daemon, "/outgoing/paper")
            await wait_until(
                lambda: (
                    not [
                        r
                        for d in (main, other, secret, unnumbered, no_number)
                        for r in out.dispatch.get(d, [])
                        if r.get("answer", 201) >= 400
                    ]
                ),
                what="no report refused",
            )
        # at the axis: each (DocumentId, kind, recipient) once, the locked one never stored
        per = Counter((e.sender_doc_id, e.business, e.to_code) for e in sending.sent_log)
        assert max(per.values()) == 1
        assert {to for (_, btype, to) in per if btype == 0} == {AXIS_OK, NEW_CODE}
        assert {to for (_, btype, to) in per if btype == 2} == {AXIS_OK}  # NEW_CODE refused 02
        assert LOCKED not in {to for (_, _, to) in per}
        # by mail: the locked organ, once per version, each with its own Message-ID
        ids = Counter((to, m.message_id) for m in smtp.received for to in m.recipients)
        assert max(ids.values()) == 1 and {to for to, _ in ids} == {"syt@tv.gov.vn"}
        assert len(ids) == 4  # the main document twice, the one taken back twice
        # the receiving units: one document each, updated and revoked in place
        assert len(home_a.received) == 1 and len(home_b.received) == 1
        # never sent: every recipient refused with the contract's reason, road null
        assert {(r["road"], r["state"], r["detail"]) for r in out.log_of(secret)} == {
            (None, "refused", "Văn bản mật: không gửi qua mạng")
        }
        for missing in (unnumbered, no_number):  # no notation; no number at all
            assert {(r["road"], r["state"], r["detail"]) for r in out.log_of(missing)} == {
                (None, "refused", "Thiếu số, ký hiệu hoặc ngày ban hành")
            }
        final = _final(out.log_of(main))
        assert final[AXIS_OK] == ("axis", "sent")  # v2 sent after v1 done
        assert final[NEW_CODE] == ("axis", "refused")
        assert final[OLD_CODE] == final[NEW_CODE]  # reported under both listed codes
        assert final[LOCKED] == ("mail", "sent")
        assert final[DEAD_MAIL] == ("paper", "undeliverable")
        assert final[NOWHERE] == ("paper", "undeliverable")
        codes = [r["statusCode"] for r in out.log_of(main) if r["recipient"] == AXIS_OK]
        assert [c for c in codes if c] == ["01", "03", "06", "15"]
        locked = [(r["road"], r["state"]) for r in out.log_of(main) if r["recipient"] == LOCKED]
        assert locked[:3] == [("axis", "queued"), ("axis", "failed"), ("mail", "queued")]
        assert _final(out.log_of(other))[AXIS_OK] == ("axis", "sent")
        # taken back: status 13 to the axis recipient (answered 15), "Thu hồi:" by mail, and no
        # second document message to either
        back = [
            r for r in out.log_of(taken_back) if r["recipient"] == AXIS_OK and r["version"] == 2
        ]
        assert [(r["state"], r["statusCode"]) for r in back] == [
            ("queued", None),
            ("sent", None),
            ("sent", "15"),
        ]
        assert back[1]["detail"].startswith("13: Gửi nhầm")
        subjects = [str(m.message["Subject"]) for m in smtp.received]
        assert sum(1 for x in subjects if x.startswith("Thu hồi: ")) == 1  # the one taken back
        # what operators read
        by_code = {r["code"]: r for r in detail["recipients"]}
        assert by_code[NEW_CODE]["listed"] == [OLD_CODE, NEW_CODE]
        assert by_code[LOCKED]["failed_roads"] == ["axis"] and by_code[LOCKED]["why"]
        assert any(a["error"] for a in by_code[LOCKED]["attempts_log"])
        outbound = status["outbound"]
        assert outbound["documents"] == 6 and outbound["refused"] == 3
        assert sum(outbound["by_state"].values()) == outbound["recipients"]
        assert sum(outbound["by_road"].values()) <= outbound["recipients"]
        sender = next(u for u in status["units"] if u["id"] == SENDER)
        assert sender["outboxes"][0]["name"] == "tc-out" and sender["outboxes"][0]["taken"] == 6
        receiving = next(u for u in status["units"] if u["id"] == INTERNAL_A)
        assert {"name": "internal", "profile": "internal"}.items() <= receiving["sources"][
            0
        ].items()
        assert {(t["code"], t["version"]) for t in paper["items"]} >= {
            (DEAD_MAIL, 1),
            (NOWHERE, 1),
            (NOWHERE, 2),
        }

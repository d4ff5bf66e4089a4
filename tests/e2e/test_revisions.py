"""Later revisions and revocations reach the home system as PATCH and revoke, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.app import build_daemon, parse_config
from schemas import Action, DocumentRef
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until


async def test_tdoffice_new_version_patches_and_revocation_revokes(tmp_path: Path) -> None:
    """A higher tdoffice version becomes revision 2 (PATCH version 2); `revoked` revokes at home."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        doc_id = source.add_document(*make_doc(1), unit=UNIT)
        async with build_daemon(
            parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        ) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="created at home")
            remote = next(iter(home.received))
            source.update_document(
                doc_id, subject="V/v triển khai nhiệm vụ số 1 năm 2026 (sửa đổi)"
            )
            await wait_until(lambda: home.revisions.get(remote), what="PATCH at home")
            source.revoke(doc_id)
            await wait_until(lambda: remote in home.revocations, what="revoked at home")
            await daemon.processor.process_pending()
            totals = (await daemon.store.counts())["outcomes"]
        patch = home.revisions[remote][0]
        assert patch["version"] == 2 and "sửa đổi" in patch["subject"]
        assert totals.get("revision") == 2 and totals.get("document") == 1
        assert len(home.received) == 1


def _axis_config(tmp_path: Path, axis: VxpSim, home: TdofficeSim) -> Any:
    system_id, secret = next(iter(axis.systems.items()))
    return parse_config(
        {
            "bridge": {"data_dir": str(tmp_path / "data")},
            "http": {"listen": "127.0.0.1:0"},
            "units": [
                {
                    "id": UNIT,
                    "name": "UBND",
                    "sources": [
                        {
                            "name": "vd-vxp",
                            "profile": "vxp",
                            "base_url": axis.base_url,
                            "system_id": system_id,
                            "secret": secret,
                            "poll_interval": 0.2,
                        }
                    ],
                    "sinks": [
                        {
                            "name": "vd-home",
                            "profile": "tdoffice",
                            "base_url": home.base_url,
                            "api_key": home.api_key,
                        }
                    ],
                }
            ],
        },
        {},
    )


def _ref(doc: Any) -> DocumentRef:
    return DocumentRef(
        issuer=doc.issuer, number=doc.number, notation=doc.notation, issued_on=doc.issued_on
    )


async def test_edxml_update_patches_and_revocation_revokes(tmp_path: Path) -> None:
    """An edXML update (type 2) reaches home as a PATCH; a revocation (type 1) as a revoke."""
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        doc, files = make_doc(2)
        axis.add_document(doc, files, unit=UNIT)
        async with build_daemon(_axis_config(tmp_path, axis, home)):
            await wait_until(lambda: len(home.received) == 1, what="created at home")
            remote = next(iter(home.received))
            update = doc.model_copy(
                update={
                    "action": Action.UPDATE,
                    "target": _ref(doc),
                    "revision": 2,
                    "subject": doc.subject + " (cập nhật)",
                }
            )
            axis.add_document(update, files, unit=UNIT)
            await wait_until(lambda: home.revisions.get(remote), what="PATCH")
            revoke = doc.model_copy(
                update={"action": Action.REVOKE, "target": _ref(doc), "reason": "Ban hành nhầm"}
            )
            axis.add_document(revoke, files, unit=UNIT)
            await wait_until(lambda: remote in home.revocations, what="revoke")
        assert "cập nhật" in home.revisions[remote][0]["subject"]
        assert len(home.received) == 1


async def test_revocation_before_delivery_cancels_it(tmp_path: Path) -> None:
    """A document revoked while its home is down is never created there."""
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        home.faults.down = True
        doc, files = make_doc(3)
        axis.add_document(doc, files, unit=UNIT)
        async with build_daemon(_axis_config(tmp_path, axis, home)) as daemon:
            await wait_until(lambda: daemon.store.counts(), what="store")

            async def stored() -> bool:
                return bool((await daemon.store.counts())["documents"] == 1)

            await wait_until(stored, what="document stored")
            revoke = doc.model_copy(update={"action": Action.REVOKE, "target": _ref(doc)})
            axis.add_document(revoke, files, unit=UNIT)

            async def revoked() -> bool:
                return bool((await daemon.store.counts())["outcomes"].get("revision") == 1)

            await wait_until(revoked, what="revocation applied")
            home.faults.down = False
            deliveries = await daemon.store.deliveries_of(1)
        assert [d.state for d in deliveries] == ["cancelled"]
        assert home.received == {}


async def test_update_before_its_document_waits_for_it(tmp_path: Path) -> None:
    """An update arriving before the document it changes waits, then applies as revision 2."""
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        doc, files = make_doc(4)
        update = doc.model_copy(
            update={
                "action": Action.UPDATE,
                "target": _ref(doc),
                "revision": 2,
                "subject": doc.subject + " (bản 2)",
            }
        )
        axis.add_document(update, files, unit=UNIT)
        async with build_daemon(_axis_config(tmp_path, axis, home)) as daemon:

            async def waiting() -> bool:
                return bool((await daemon.store.counts())["outcomes"].get("waiting") == 1)

            await wait_until(waiting, what="update waiting")
            axis.add_document(doc, files, unit=UNIT)
            await wait_until(lambda: len(home.received) == 1, what="document created")

            async def applied() -> bool:
                return bool((await daemon.store.counts())["outcomes"].get("revision") == 1)

            await wait_until(applied, what="update applied")
        assert len(home.received) == 1

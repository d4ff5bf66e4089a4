"""Three units on one bridge for the sending tests: the sender's tdoffice (outbox, dispatch log,
home), two receiving units with their homes, one axis node, and a directory given as a table.

The simulators count what they took the way duplicates are counted: the axis by DocumentId
per recipient (`VxpSim.sending`), the mailbox by Message-ID per recipient (`SmtpSim`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.normalize.directory import Resolution

SENDER = "000.00.31.H59"
INTERNAL_A = "000.00.32.H59"
INTERNAL_B = "000.00.34.H59"
AXIS_OK = "000.00.40.H59"
OLD_CODE = "000.00.12.H59"  # re-coded: 000.00.17.H59 from 2025-07-01
NEW_CODE = "000.00.17.H59"
LOCKED = "000.00.23.H59"  # the axis refuses it with 23: falls back to mail
DEAD_MAIL = "000.00.55.H59"  # mail only, and its mailbox refuses (550): falls back to paper
NOWHERE = "000.00.99.H59"  # unknown, no address: paper
CUT = dt.date(2025, 7, 1)


@dataclass
class TableResolver:
    """The organ directory as a table (code → name, mail, node, deleted), one successor."""

    organs: dict[str, tuple[str, str | None, bool, bool]] = field(
        default_factory=lambda: {
            SENDER: ("UBND huyện Tiểu Cần", None, True, False),
            INTERNAL_A: ("UBND xã A", None, True, False),
            INTERNAL_B: ("UBND xã B", None, True, False),
            AXIS_OK: ("Sở Tài chính", "stc@tv.gov.vn", True, False),
            NEW_CODE: ("Sở Nội vụ", None, True, False),
            OLD_CODE: ("Sở Nội vụ (cũ)", None, False, True),
            LOCKED: ("Sở Y tế", "syt@tv.gov.vn", True, False),
            DEAD_MAIL: ("Ban Dân tộc", "bdt@dead.tv.gov.vn", False, False),
        }
    )
    successors: dict[str, tuple[str, dt.date]] = field(
        default_factory=lambda: {OLD_CODE: (NEW_CODE, CUT)}
    )

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution:
        code = (code_or_name or "").strip().upper() or None
        why = "bảng / table"
        if code in self.successors and (at is None or at >= self.successors[code][1]):
            code, why = self.successors[code][0], "mã cũ / old code"
        if code is None or code not in self.organs:
            return Resolution(code=code, known=False, reason="không có / unknown")
        name, mail, node, deleted = self.organs[code]
        return Resolution(code, name, mail, node, deleted, True, why)


def config_dict(
    tmp: Path, office: Any, homes: dict[str, Any], node: Any, smtp: Any = None
) -> dict[str, Any]:
    """The sender (outbox + home on `office`, node `node`, mailbox `smtp`) and the receiving
    units of `homes`."""
    system_id, secret = next(iter(node.systems.items()))
    units: list[dict[str, Any]] = [
        {
            "id": SENDER,
            "name": "UBND huyện Tiểu Cần",
            "sources": [
                {
                    "name": "tc-vxp",
                    "profile": "vxp",
                    "base_url": node.base_url,
                    "system_id": system_id,
                    "secret": secret,
                    "poll_interval": 0.3,
                }
            ],
            "sinks": [
                {
                    "name": "tc-home",
                    "profile": "tdoffice",
                    "base_url": office.base_url,
                    "api_key": office.api_key,
                }
            ],
            "outboxes": [
                {
                    "name": "tc-out",
                    "profile": "tdoffice",
                    "base_url": office.base_url,
                    "api_key": office.api_key,
                    "poll_interval": 0.2,
                    "roads": ["internal", "axis", "mail", "paper"]
                    if smtp
                    else ["internal", "axis", "paper"],
                    **(
                        {
                            "smtp": {
                                "host": smtp.host,
                                "port": smtp.port,
                                "tls": "none",
                                "from": "ubndtieucan@tv.gov.vn",
                            }
                        }
                        if smtp
                        else {}
                    ),
                }
            ],
        }
    ]
    for unit, home in homes.items():
        units.append(
            {
                "id": unit,
                "name": f"xã {unit}",
                "sinks": [
                    {
                        "name": f"home-{unit[7:9]}",
                        "profile": "tdoffice",
                        "base_url": home.base_url,
                        "api_key": home.api_key,
                        "status_poll_interval": 0.3,
                    }
                ],
            }
        )
    return {
        "bridge": {"data_dir": str(tmp / "data"), "shutdown_grace": 5},
        "http": {"listen": "127.0.0.1:0"},
        "units": units,
    }

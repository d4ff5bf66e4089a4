"""The adapter registry: one `Profile` per kind of system, listed explicitly below.

A new system is its module plus one line in `registry()`; nothing registers by import side
effect. `Profile` and the protocols an adapter satisfies live in `bridge.interfaces`; only the
composition root (`bridge.app`) asks for the registry.
"""

from __future__ import annotations

from functools import cache

from adapters import folder, idesk, mailbox, moffice, tdoffice, voffice, vxp
from bridge.interfaces import Profile


@cache
def registry() -> dict[str, Profile]:
    """Every profile the bridge speaks, by name."""
    profiles: list[Profile] = [
        tdoffice.PROFILE,
        folder.PROFILE,
        moffice.PROFILE,
        idesk.PROFILE,
        voffice.PROFILE,
        vxp.PROFILE,
        mailbox.PROFILE,
    ]
    return {p.name: p for p in profiles}

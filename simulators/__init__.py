"""Faithful simulators of every kind of system the bridge speaks, for demos, tests and benchmarks.

Shipped apart from the daemon as the `lienthong[sim]` extra: `bridge/` and `adapters/` never
import this package. `lienthong demo` and `lienthong simulate` load it when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from simulators import folder, idesk, mailbox, moffice, tdoffice_demo, voffice, vxp


@cache
def factories() -> dict[str, Callable[..., Any]]:
    """Profile name -> `make_simulator(seed)`: a fresh simulator holding a few demo documents.

    The folder dropper also takes the folder it writes into as a second argument.
    """
    return {
        "tdoffice": tdoffice_demo.make_simulator,
        "folder": folder.make_simulator,
        "moffice": moffice.make_simulator,
        "idesk": idesk.make_simulator,
        "voffice": voffice.make_simulator,
        "vxp": vxp.make_simulator,
        "mailbox": mailbox.make_simulator,
    }

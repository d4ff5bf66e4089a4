"""`python -m tests.faults.outgoing_daemon run --config FILE`: the daemon as `lienthong run`
starts it, routing outgoing documents by the test directory (`tests.e2e.outgoing_world`), so
the fault suite can kill it with SIGKILL like any daemon process."""

from __future__ import annotations

import sys
from pathlib import Path

from bridge.app import build_daemon, load_config, run_loop
from bridge.logging import configure
from tests.e2e.outgoing_world import TableResolver


def main(argv: list[str]) -> int:
    path = Path(argv[argv.index("--config") + 1])
    config = load_config(path)
    configure(config.bridge.log_level, cache=True)
    return run_loop(build_daemon(config, path, resolver=TableResolver()).run())


if __name__ == "__main__":
    sys.exit(main(sys.argv))

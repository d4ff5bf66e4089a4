"""`lienthong example` and how configuration errors are shown: what an installation is started
with. Messages for operators: Vietnamese first, English beside."""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files


def print_config_errors(path: str, errors: list[str]) -> None:
    print(f"Cấu hình không hợp lệ / invalid configuration: {path}", file=sys.stderr)
    for err in errors:
        print(f"  - {err}", file=sys.stderr)


EXAMPLES = {
    "config": "config.example.toml",
    "unit": "lienthong.service",
    "env": "lienthong.env.example",
}


def cmd_example(args: argparse.Namespace) -> int:
    """Print a file shipped inside the package, to start an installation from."""
    text = files("bridge").joinpath("examples", EXAMPLES[args.what]).read_text(encoding="utf-8")
    sys.stdout.write(text)
    return 0

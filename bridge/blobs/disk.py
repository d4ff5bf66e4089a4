"""The disk work of the file blob store below the blobs themselves: temporary part files, and
syncfs(2), which makes a whole group of written files durable at once on Linux."""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_PART_SEQUENCE = itertools.count()  # temporary file names: process id and a sequence number


def part_name() -> str:
    """A temporary file name no other writer of this process or another one uses."""
    return f"{os.getpid()}-{next(_PART_SEQUENCE)}.part"


def _create(tmp: Path) -> BinaryIO:
    return tmp.open("wb")


async def open_part(tmp: Path) -> BinaryIO:
    """Create a temporary part file off the event loop (creating a file can wait on the disk
    journal behind other files' fsyncs). If the caller is cancelled meanwhile, the file is
    closed and removed once the open completes, so no part is left behind."""
    opening: asyncio.Future[BinaryIO] = asyncio.get_running_loop().run_in_executor(
        None, _create, tmp
    )
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:

        def discard(done: asyncio.Future[BinaryIO]) -> None:
            if not done.cancelled() and done.exception() is None:
                done.result().close()
                tmp.unlink(missing_ok=True)

        opening.add_done_callback(discard)
        raise


def _syncfs_function() -> Callable[[int], int] | None:
    """libc's syncfs(2) where there is one (Linux): flush one filesystem, not the machine."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _syncfs_function()
HAS_SYNCFS = _SYNCFS is not None  # without it, every file gets an fsync of its own


def syncfs(folder: Path) -> None:
    """Make every file written on `folder`'s filesystem durable (data and metadata)."""
    assert _SYNCFS is not None
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs: {os.strerror(errno)}")
    finally:
        os.close(fd)

"""A V-Office bundle as it downloads: in memory while small, else in a nameless temporary file."""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO

from adapters.voffice import bundle


def _bundle_file() -> IO[bytes]:
    """A temporary file without a name: nothing to clean up, even after a crash."""
    return tempfile.TemporaryFile(prefix="voffice-", suffix=".zip")


class Spool:
    """A bundle as it downloads: in memory up to bundle.SMALL_BUNDLE_BYTES, then moved to a
    temporary file without a name (opened and closed off the event loop)."""

    def __init__(self) -> None:
        self._memory: bytearray | None = bytearray()
        self._file: IO[bytes] | None = None

    async def write(self, chunk: bytes) -> None:
        if self._memory is not None:
            if len(self._memory) + len(chunk) <= bundle.SMALL_BUNDLE_BYTES:
                self._memory += chunk
                return
            self._file = await asyncio.to_thread(_bundle_file)
            self._file.write(self._memory)
            self._memory = None
        assert self._file is not None
        self._file.write(chunk)

    def contents(self) -> bytes | IO[bytes]:
        """The bytes of a small bundle, or the file holding a larger one."""
        if self._memory is not None:
            return bytes(self._memory)
        assert self._file is not None
        return self._file

    async def reset(self) -> None:
        """Empty the spool for a download that starts over."""
        await self.close()
        self._memory = bytearray()

    async def close(self) -> None:
        self._memory = None
        if self._file is not None:
            file, self._file = self._file, None
            await asyncio.to_thread(file.close)

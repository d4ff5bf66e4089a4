"""What an inbox scan sees: regular files, whether each has settled, and the metadata files.

A writer may still be copying a file; `SettleTracker` says a file is ready only once its size
and mtime have stayed unchanged for `settle_s`, judged by the file's own mtime or, when the
share's clock disagrees with ours, by how long we have watched it unchanged.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.normalize.filenames import nfc

METADATA_SUFFIXES = (".json", ".xml")
DONE_DIR = ".done"
REJECTED_DIR = ".rejected"


@dataclass(frozen=True)
class Entry:
    """One regular file of the inbox as listed (`name` exactly as on disk)."""

    name: str
    size: int
    mtime_ns: int

    @property
    def is_metadata(self) -> bool:
        return self.name.lower().endswith(METADATA_SUFFIXES) and len(self.name) > 5

    @property
    def age_s(self) -> float:
        return time.time() - self.mtime_ns / 1e9


def list_inbox(path: Path) -> dict[str, Entry]:
    """Regular files directly in `path`, by NFC name. Hidden files and symlinks are left alone.

    When two on-disk names have one NFC form, the first listed wins. Raises OSError.
    """
    entries: dict[str, Entry] = {}
    with os.scandir(path) as listing:
        for item in listing:
            if item.name.startswith(".") or not item.is_file(follow_symlinks=False):
                continue
            try:
                stat = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            entries.setdefault(nfc(item.name), Entry(item.name, stat.st_size, stat.st_mtime_ns))
    return entries


class SettleTracker:
    """Remembers each file's last seen size and mtime to tell finished files from growing ones."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        self._seen: dict[str, tuple[int, int, float]] = {}

    def observe(self, entries: dict[str, Entry]) -> None:
        """Record one scan; forget files that are gone."""
        now = time.monotonic()
        seen: dict[str, tuple[int, int, float]] = {}
        for entry in entries.values():
            previous = self._seen.get(entry.name)
            stat = (entry.size, entry.mtime_ns)
            if previous is not None and previous[:2] == stat:
                seen[entry.name] = previous
            else:
                seen[entry.name] = (*stat, now)
        self._seen = seen

    def is_settled(self, entry: Entry) -> bool:
        """True when neither size nor mtime changed in the last `settle_s` seconds."""
        seen = self._seen.get(entry.name)
        if seen is None or seen[:2] != (entry.size, entry.mtime_ns):
            return False
        if entry.age_s >= self.settle_s:
            return True
        mtime_in_future = entry.age_s < 0
        return mtime_in_future and time.monotonic() - seen[2] >= self.settle_s

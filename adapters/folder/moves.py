"""The acknowledgement of a drop folder: moving a document's files out of the inbox.

Stored documents go to `.done/`; unreadable ones to `.rejected/` beside `NAME.error.txt`.
The metadata file moves first, so a crash part-way leaves only orphan attachments behind,
never a metadata file whose files are gone. Every move is idempotent: a file already gone is
taken as moved.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import PermanentError


@dataclass(frozen=True)
class Claim:
    """The on-disk names (exactly as listed) one record stands for."""

    metadata: str
    files: tuple[str, ...] = ()

    def encode(self) -> str:
        # json (not orjson) escapes the lone surrogates of names that are not UTF-8.
        return json.dumps({"metadata": self.metadata, "files": list(self.files)})

    @classmethod
    def decode(cls, ack: str | None) -> Claim:
        try:
            data = json.loads(ack or "")
            return cls(str(data["metadata"]), tuple(str(f) for f in data["files"]))
        except (ValueError, KeyError, TypeError):
            raise PermanentError(
                f"mã xác nhận không hợp lệ / unreadable acknowledgement {ack!r:.80}"
            ) from None


def move_done(inbox: Path, claim: Claim) -> None:
    """Move the metadata file, then its files, into `inbox/.done/`. Idempotent."""
    target = inbox / ".done"
    target.mkdir(exist_ok=True)
    for name in (claim.metadata, *claim.files):
        _move(inbox / name, target)
    _fsync_dirs(inbox, target)


def move_rejected(inbox: Path, claim: Claim, reason: str) -> None:
    """Write `NAME.error.txt` with `reason`, then move the files into `inbox/.rejected/`."""
    target = inbox / ".rejected"
    target.mkdir(exist_ok=True)
    source = inbox / claim.metadata
    if _is_present(source):
        destination = _free_destination(source.name, target)
        stem = destination.name.rpartition(".")[0] or destination.name
        _write_text(target / f"{stem}.error.txt", reason + "\n")
        _rename(source, destination)
    for name in claim.files:
        _move(inbox / name, target)
    _fsync_dirs(inbox, target)


def _move(source: Path, target_dir: Path) -> None:
    """Rename `source` into `target_dir` under a free name; nothing when it is already gone."""
    if _is_present(source):
        _rename(source, _free_destination(source.name, target_dir))


def _is_present(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _free_destination(name: str, target_dir: Path) -> Path:
    """`target_dir/name`, or `name (2)`, `name (3)`… when an earlier document used the name."""
    destination = target_dir / name
    counter = 1
    while destination.exists():
        counter += 1
        stem, dot, ext = name.rpartition(".")
        destination = target_dir / (
            f"{stem} ({counter}).{ext}" if dot and stem else f"{name} ({counter})"
        )
    return destination


def _rename(source: Path, destination: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # moved meanwhile by a racing acknowledgement
        os.rename(source, destination)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _fsync_dirs(*paths: Path) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

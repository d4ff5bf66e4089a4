"""Configuration of a drop-folder source (an inbox it reads) and sink (an outbox it writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bridge.settings import SinkSettings, SourceSettings


class FolderSourceSettings(SourceSettings):
    """`path` is the inbox; `.done/` and `.rejected/` are made inside it.

    `settle_s` is how long a file's size and mtime must stay unchanged before it is read;
    `missing_file_grace_s` is how long a metadata file may name an attachment that is not
    there yet before the document is rejected.
    """

    profile: Literal["folder"]
    path: Path
    settle_s: float = Field(default=2.0, ge=0)
    missing_file_grace_s: float = Field(default=600.0, ge=0)
    max_metadata_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    page_size: int = Field(default=50, ge=1, le=1000)


class FolderSinkSettings(SinkSettings):
    """`path` is the outbox: `{document_id}.json` plus `{document_id}/` with the files."""

    profile: Literal["folder"]
    path: Path
    fsync: bool = True

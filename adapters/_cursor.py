"""The "durable mark + ids seen at exactly it" part of listing cursors.

Sources whose listing is queried from a timestamp, inclusive, keep the last durable
timestamp and the ids already taken at it, so that a re-read from the mark drops them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable


def admit_at(
    mark: str,
    seen: set[str],
    value: str,
    external_id: str,
    instant: Callable[[str], dt.datetime],
) -> tuple[str, set[str]] | None:
    """The (mark, seen) after taking a record stamped `value`, or None if already held.

    `instant` reads a stamp (raises ValueError for garbage). A later stamp becomes the new
    mark with only this id seen; at the mark the id joins `seen` (updated in place).
    """
    when, current = instant(value), instant(mark)
    if when < current or (when == current and external_id in seen):
        return None
    if when > current:
        return value, {external_id}
    seen.add(external_id)
    return mark, seen

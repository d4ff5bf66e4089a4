"""Which functions an adapter hands to a worker thread (`asyncio.to_thread`), by name."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest


def count_thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each `asyncio.to_thread` call's function name (it still runs in its thread)."""
    hops: list[str] = []
    real = asyncio.to_thread

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    return hops

"""What an adapter holds for the span of its `async with` block, and its release."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp

from adapters._pools import close_session


class AsyncResource:
    """An adapter used as an async context manager; leaving the block calls `_release`."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._release()

    async def _release(self) -> None:
        """Let go of what the adapter holds; it holds nothing by default."""


class SessionOwner(AsyncResource):
    """Opens its HTTP session on `async with` entry and closes it on exit.

    Subclasses say how the session is made in `_open_session` (through
    `adapters._http.client_session`) and reach it through `session`.
    """

    _session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._session = self._open_session()
        return self

    async def _release(self) -> None:
        if self._session is not None:
            await close_session(self._session)
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open session. Raises RuntimeError outside the `async with` block."""
        if self._session is None:
            raise RuntimeError(f"{type(self).__name__} used outside its context manager")
        return self._session

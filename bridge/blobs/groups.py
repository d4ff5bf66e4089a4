"""Small blobs written in groups on one thread of their own, and the scope (`deferred_flush`)
in which a put returns before its group is flushed."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from bridge.supervisor import log_failure

WriteGroup = Callable[[Sequence[tuple[list[bytes], str]]], list[OSError | None]]


class _Flushes(list[asyncio.Future[None]]):
    """The flushes a `deferred_flush` scope collects; closed when the scope ends, so a put
    made later from a task that inherited the scope waits for its own flush again."""

    open = True


_DEFERRED: contextvars.ContextVar[_Flushes | None] = contextvars.ContextVar(
    "blob_flush_deferred", default=None
)


@contextlib.contextmanager
def deferred_flush() -> Iterator[list[asyncio.Future[None]]]:
    """Inside, a small blob's `put_stream` returns once its bytes are handed to the group
    writer, before they are flushed; the list collects the flushes still under way. The
    caller must await every one (and see it succeed) before anything relies on those blobs,
    storing their record above all. It lets a download slot go to the next file while this
    one's group is being flushed. Blob stores other than files ignore it (always durable)."""
    flushes = _Flushes()
    token = _DEFERRED.set(flushes)
    try:
        yield flushes
    finally:
        flushes.open = False
        _DEFERRED.reset(token)


def deferring() -> list[asyncio.Future[None]] | None:
    """The flush list of the open `deferred_flush` scope the caller runs in; None outside one
    (or once that scope has ended): the put then awaits its own flush."""
    deferred = _DEFERRED.get()
    return None if deferred is None or not deferred.open else deferred


class GroupWriter:
    """Hands small blobs to `write_group` on one thread of its own, in groups: what arrives
    while a group is being written forms the next one. The future `submit` returns is done
    once the blob is durable under its key."""

    def __init__(
        self, write_group: WriteGroup, on_durable: Callable[[str, list[bytes]], None]
    ) -> None:
        self._write_group = write_group
        self._on_durable = on_durable
        self._pending: list[tuple[list[bytes], str, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-writer")

    def submit(self, data: list[bytes], sha256: str) -> asyncio.Future[None]:
        """Queue a blob for the next group; the future is done once it is durable (and
        `on_durable` has been told)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((data, sha256, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="blob-group-writer")
            self._task.add_done_callback(log_failure)
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending, []
            items = [(data, sha256) for data, sha256, _ in group]
            written = loop.run_in_executor(self._executor, self._write_group, items)
            try:
                errors: list[OSError | None] = await asyncio.shield(written)
            except asyncio.CancelledError:
                # The loop is shutting down: the group under way is still finished and each
                # writer told, so none is left waiting on a future nobody will complete.
                self._report(group, await _outcome(written, len(group)))
                raise
            except Exception as exc:  # a bug: every blob of the group fails alike
                errors = [OSError(str(exc))] * len(group)
            self._report(group, errors)

    def _report(
        self,
        group: Sequence[tuple[list[bytes], str, asyncio.Future[None]]],
        errors: Sequence[OSError | None],
    ) -> None:
        """Tell each writer of `group` its blob's outcome; a failure to record one durable
        blob fails that blob's writer alone."""
        for (data, sha256, future), error in zip(group, errors, strict=True):
            outcome: BaseException | None = error
            if error is None:
                try:
                    self._on_durable(sha256, data)
                except Exception as exc:
                    outcome = exc
            if future.done():
                continue  # its writer was cancelled meanwhile
            if outcome is None:
                future.set_result(None)
            else:
                future.set_exception(outcome)


async def _outcome(
    written: asyncio.Future[list[OSError | None]], size: int
) -> list[OSError | None]:
    """The result of a group's write, or the same error for each of its `size` blobs."""
    try:
        return await written
    except Exception as exc:
        return [OSError(str(exc))] * size

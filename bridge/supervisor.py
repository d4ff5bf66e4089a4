"""Supervision of the daemon's long-running tasks: a task that raises is logged, marked
failing (so `/readyz` answers 503 and the page turns red), and started again with backoff.

A task that fails more than `max_restarts` times within `window_s` cannot be kept running:
the supervisor gives up, records the exit code 1 and stops the daemon, so that the service
manager (systemd `Restart=on-failure`) starts it afresh. A task that returns while nobody
asked it to stop counts as a failure too: every supervised loop runs until its stop event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from bridge.domain.enums import HealthState
from bridge.waiting import wait_any

log = structlog.get_logger(__name__)

RESTART_BASE_S = 0.5  # waits before a restart: 0.5 s, 1 s, 2 s, 4 s ... capped at RESTART_MAX_S
RESTART_MAX_S = 30.0
MAX_RESTARTS = 5  # failures allowed within WINDOW_S; one more and the daemon exits
WINDOW_S = 300.0
SETTLED_S = 5.0  # a restarted task running this long without failing is healthy again


@dataclass
class TaskState:
    """What the operator sees of one supervised task."""

    name: str
    failing: bool = False
    restarts: int = 0
    total_failures: int = 0
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    failures: deque[float] = field(default_factory=deque)  # monotonic times within the window

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": HealthState.FAILING if self.failing else HealthState.OK,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


def log_failure(task: asyncio.Task[Any]) -> None:
    """Done-callback for a helper task whose callers learn its errors some other way (futures
    it completes): whatever still escapes it is logged, not left unread."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error(
            "task_failed", task=task.get_name(), error=f"{type(exc).__name__}: {exc}", exc_info=exc
        )


class Supervisor:
    """Starts and watches tasks; `stop_daemon` is called once when it gives up."""

    def __init__(
        self,
        stop_daemon: Callable[[], None],
        *,
        max_restarts: int = MAX_RESTARTS,
        window_s: float = WINDOW_S,
        base_s: float = RESTART_BASE_S,
        max_s: float = RESTART_MAX_S,
        settled_s: float = SETTLED_S,
    ) -> None:
        self._stop_daemon = stop_daemon
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.base_s = base_s
        self.max_s = max_s
        self.settled_s = settled_s
        self.tasks: dict[str, TaskState] = {}
        self.exit_code = 0
        self.gave_up: str | None = None  # the task that could not be kept running
        self._once: set[asyncio.Task[object]] = set()

    @property
    def healthy(self) -> bool:
        return self.gave_up is None and not any(t.failing for t in self.tasks.values())

    def failing(self) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.failing]

    def snapshot(self) -> list[dict[str, object]]:
        return [t.as_dict() for t in sorted(self.tasks.values(), key=lambda t: t.name)]

    def start(
        self, name: str, run: Callable[[], Awaitable[None]], stop: asyncio.Event
    ) -> asyncio.Task[None]:
        """Run `run()` as task `name` until `stop` is set, restarting it when it fails.

        The returned task ends when `stop` is set (or the supervisor gave up); it never raises
        but CancelledError.
        """
        self.tasks[name] = TaskState(name)
        return asyncio.create_task(self._keep(name, run, stop), name=name)

    def watch(self, name: str, task: asyncio.Task[None]) -> None:
        """Watch a task that cannot be restarted from here: its failure stops the daemon."""
        self.tasks[name] = TaskState(name)

        def done(t: asyncio.Task[None]) -> None:
            if t.cancelled() or (exc := t.exception()) is None:
                return
            self._record(name, exc)
            self._give_up(name)

        task.add_done_callback(done)

    def once(self, name: str, run: Callable[[], Awaitable[object]]) -> asyncio.Task[object]:
        """Run `run()` once (a reload, say); a failure is logged and shown failing until a
        later run of the same name succeeds. Not restarted, never stops the daemon."""

        async def wrapped() -> object:
            try:
                result = await run()
            except Exception as exc:
                self._record(name, exc)
                return None
            self.tasks.pop(name, None)
            return result

        task = asyncio.create_task(wrapped(), name=name)
        self._once.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._once.discard)
        return task

    def forget(self, name: str) -> None:
        """The task was stopped on purpose (an endpoint removed by a reload)."""
        self.tasks.pop(name, None)

    async def _keep(
        self, name: str, run: Callable[[], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        state = self.tasks[name]
        while not stop.is_set():
            try:
                await run()
            except Exception as exc:
                self._record(name, exc)
            else:
                if stop.is_set():
                    return
                self._record(name, RuntimeError("vòng lặp tự dừng / the loop returned"))
            if self._too_many(state):
                self._give_up(name)
                return
            wait_s = min(self.max_s, self.base_s * 2 ** (len(state.failures) - 1))
            log.warning("task_restarting", task=name, restart_in_s=round(wait_s, 1))
            await wait_any(stop, None, wait_s)
            if stop.is_set():
                return
            state.restarts += 1
            self._settle_later(state)

    def _record(self, name: str, exc: BaseException) -> None:
        state = self.tasks.setdefault(name, TaskState(name))
        state.failing = True
        state.last_error = f"{type(exc).__name__}: {exc}"[:500]
        state.last_error_at = dt.datetime.now(dt.UTC)
        state.failures.append(time.monotonic())
        state.total_failures += 1
        log.error(
            "task_failed",
            task=name,
            reason="tác vụ nền bị lỗi / background task failed",
            error=state.last_error,
            exc_info=exc,
        )

    def _too_many(self, state: TaskState) -> bool:
        horizon = time.monotonic() - self.window_s
        while state.failures and state.failures[0] < horizon:
            state.failures.popleft()
        return len(state.failures) > self.max_restarts

    def _settle_later(self, state: TaskState) -> None:
        """Healthy again once the restarted task has run `settled_s` without a new failure."""
        seen = state.total_failures

        def settle() -> None:
            if state.total_failures == seen:
                state.failing = False

        asyncio.get_running_loop().call_later(self.settled_s, settle)

    def _give_up(self, name: str) -> None:
        if self.gave_up is not None:
            return
        self.gave_up = name
        self.exit_code = 1
        log.critical(
            "supervisor_gave_up",
            task=name,
            reason=(
                "tác vụ nền lỗi liên tục, dịch vụ dừng để được khởi động lại / "
                "a background task keeps failing; the daemon exits to be restarted"
            ),
            max_restarts=self.max_restarts,
            window_s=self.window_s,
        )
        self._stop_daemon()

"""The supervisor's rules: restarts with backoff, failing shown until settled, gives up (exit 1)
past its restart budget; watched and one-shot tasks never fail unread."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.supervisor import Supervisor


def _supervisor(stop: asyncio.Event, max_restarts: int) -> Supervisor:
    return Supervisor(stop.set, max_restarts=max_restarts, base_s=0.001, max_s=0.01, settled_s=0.3)


async def _run(failures: int, max_restarts: int) -> tuple[Supervisor, int, bool, bool]:
    """A task failing `failures` times, then running until stopped."""
    stop = asyncio.Event()
    sup = _supervisor(stop, max_restarts)
    calls = 0
    running = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= failures:
            raise RuntimeError(f"hỏng lần {calls}")
        running.set()
        await stop.wait()

    task = sup.start("flaky", flaky, stop)
    done, _ = await asyncio.wait(
        {asyncio.ensure_future(running.wait()), task},
        timeout=5,
        return_when=asyncio.FIRST_COMPLETED,
    )
    assert done, "the supervisor neither ran the task nor gave up"
    failing_while_fresh = not sup.healthy
    await asyncio.sleep(0.4)  # past settled_s
    healthy_later = sup.healthy
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    return sup, calls, failing_while_fresh, healthy_later


@settings(max_examples=12, deadline=None)
@given(failures=st.integers(min_value=0, max_value=7), max_restarts=st.integers(1, 5))
def test_restarts_until_the_budget_then_gives_up(failures: int, max_restarts: int) -> None:
    sup, calls, failing_while_fresh, healthy_later = asyncio.run(_run(failures, max_restarts))
    state = sup.tasks["flaky"]
    if failures > max_restarts:
        assert sup.gave_up == "flaky" and sup.exit_code == 1
        assert calls == max_restarts + 1 and not healthy_later
    else:
        assert sup.gave_up is None and sup.exit_code == 0
        assert calls == failures + 1 and state.restarts == failures
        assert failing_while_fresh == (failures > 0)  # shown failing right after a restart
        assert healthy_later, "healthy once the restarted task has run settled_s"
        if failures:
            assert state.last_error == f"RuntimeError: hỏng lần {failures}"


async def test_a_loop_that_returns_unasked_counts_as_a_failure() -> None:
    stop = asyncio.Event()
    sup = _supervisor(stop, max_restarts=2)

    async def quits() -> None:
        return None

    await asyncio.wait_for(sup.start("quits", quits, stop), timeout=5)
    assert sup.gave_up == "quits" and stop.is_set()
    assert "the loop returned" in (sup.tasks["quits"].last_error or "")


async def test_a_watched_task_that_fails_stops_the_daemon() -> None:
    stop = asyncio.Event()
    sup = _supervisor(stop, max_restarts=5)

    async def broken() -> None:
        raise OSError("socket closed")

    task = asyncio.create_task(broken())
    sup.watch("delivery-process", task)
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0)
    assert stop.is_set() and sup.exit_code == 1 and sup.gave_up == "delivery-process"


async def test_a_one_shot_failure_shows_until_a_later_success() -> None:
    sup = _supervisor(asyncio.Event(), max_restarts=5)

    async def bad() -> bool:
        raise ValueError("half applied")

    async def good() -> bool:
        return True

    assert await sup.once("reload", bad) is None
    assert not sup.healthy and sup.tasks["reload"].last_error == "ValueError: half applied"
    assert await sup.once("reload", good) is True
    assert sup.healthy and sup.exit_code == 0

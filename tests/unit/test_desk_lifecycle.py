"""The desk process's lifecycle pieces: owners parsed once, periodic jobs by the clock, and
background tasks that are all stopped."""

from __future__ import annotations

import asyncio

import pytest

from teranga.agent_desk.background import Background, Every, run_periodically
from teranga.handoff.ownership import BOT, QUEUED, Owner


def test_an_owner_is_read_once_and_asked_what_it_means():
    assert Owner.parse(None).is_bot and Owner.parse(b"") == BOT
    queued = Owner.parse(b"queued")
    assert queued.is_queued and queued == QUEUED and queued.agent_id is None
    agent = Owner.parse("agent:awa")
    assert agent.is_agent and agent.agent_id == "awa" and not agent.is_bot
    assert agent == Owner.agent("awa") == "agent:awa"
    assert Owner.parse("agent:agent:x").agent_id == "agent:x"  # the prefix only once


def test_each_periodic_job_runs_when_its_own_interval_has_elapsed():
    """On a clock of the test's own: one simulated second, jobs every 1/8 s and every 1/2 s
    (exact in binary), one of them failing every time."""
    runs = {"fast": 0, "slow": 0, "failing": 0}
    now = [0.0]

    class SecondOver(Exception):
        pass

    async def sleep(seconds: float) -> None:
        if now[0] + seconds > 1.0:
            raise SecondOver
        now[0] += seconds

    def counting(name: str, fail: bool = False):
        async def job() -> None:
            runs[name] += 1
            if fail:
                raise RuntimeError("a job that fails runs again at its next time")
        return job

    jobs = [Every(0.125, "fast", counting("fast")), Every(0.5, "slow", counting("slow")),
            Every(0.125, "failing", counting("failing", fail=True))]
    with pytest.raises(SecondOver):
        asyncio.run(run_periodically(jobs, clock=lambda: now[0], sleep=sleep))
    assert runs == {"fast": 8, "slow": 2, "failing": 8}


def test_background_tasks_are_cancelled_and_awaited_on_stop():
    async def scenario() -> list[asyncio.Task]:
        background = Background()
        forever = [background.start(asyncio.sleep(3600), f"sleeper-{i}") for i in range(3)]
        done = background.start(asyncio.sleep(0), "short")
        await asyncio.sleep(0.01)
        assert done.done() and background.tasks == set(forever)  # a finished task is let go
        await background.stop()
        return forever

    assert all(task.cancelled() for task in asyncio.run(scenario()))


def test_a_task_that_took_the_cancellation_for_an_error_is_cancelled_again():
    """A CI run's second desk never stopped: one of its loops, which retry after any error,
    carried on after the cancellation. Stop cancels again until every task has ended."""
    async def retries_after_any_error() -> None:
        swallowed = False
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # once, as a library turning it into an error does
                if swallowed:
                    raise
                swallowed = True

    async def scenario() -> asyncio.Task:
        background = Background()
        stubborn = background.start(retries_after_any_error(), "stubborn")
        await asyncio.sleep(0.01)
        await asyncio.wait_for(background.stop(), 10)
        return stubborn

    stubborn = asyncio.run(scenario())
    assert stubborn.done()

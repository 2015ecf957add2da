"""The desk process's background work, with an explicit lifecycle: `start` launches every
task and keeps it; `stop` cancels them all and waits until each has ended.

The tasks: escalations in, routing, the live view's news, a reconciliation with Rasa at
start-up, and the periodic jobs, each run when its own interval has elapsed by the event
loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass

from teranga.agent_desk.auth import Sessions
from teranga.agent_desk.desk import Desk
from teranga.agent_desk.intake import Ingest, Recover, TakeOverAbandoned
from teranga.agent_desk.live import Connections, News
from teranga.agent_desk.maintenance import (
    Reconcile,
    RequeueOrphans,
    RequeueUnanswered,
    WarnUnanswered,
)
from teranga.agent_desk.routing import Dispatcher
from teranga.insights.feed import BATCH, Feed
from teranga.insights.warnings import early_warnings

logger = logging.getLogger(__name__)

DEADLINES_SECONDS = 1.0  # answer warnings and deadlines, orphans, routing
HEARTBEAT_SECONDS = 5.0  # presence of the open desks, sessions that ended
CLAIM_ABANDONED_SECONDS = 30.0  # take over what a dead desk process left
RECONCILE_SECONDS = 300.0  # check that Rasa's pauses agree with ownership
INSIGHTS_SECONDS = 2.0  # the analytics store follows the assistant's events
WARNINGS_SECONDS = 10.0  # early warnings reach the supervisors' overview this soon
STOP_SECONDS = 5.0  # a stopping desk waits this long for its tasks


@dataclass(frozen=True)
class Every:
    seconds: float
    name: str
    job: Callable[[], Awaitable[object]]


async def run_periodically(jobs: list[Every], clock: Callable[[], float] | None = None,
                           sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
    """Each job once its interval has elapsed since it last ran, by `clock` (the event
    loop's monotonic one); a job that fails is logged and runs again at its next time."""
    clock = clock or asyncio.get_running_loop().time
    due = {job: clock() + job.seconds for job in jobs}
    while True:
        for job in jobs:
            if clock() >= due[job]:
                due[job] = clock() + job.seconds
                try:
                    await job.job()
                except Exception:
                    logger.exception("Desk maintenance failed (%s); retrying", job.name)
        await sleep(max(0.0, min(due.values()) - clock()))


class Background:
    """Tasks started here are kept until they end, and cancelled and awaited on `stop`."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    def start(self, coroutine: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Desk task %s stopped", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Cancel every task, and again every half second one that carried on (a loop that
        retries after any error may have taken the cancellation for one); wait at most
        STOP_SECONDS, then leave what still runs and say so."""
        started = time.monotonic()
        tasks = pending = set(self.tasks)
        while pending and time.monotonic() - started < STOP_SECONDS:
            for task in pending:
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=0.5)
        if pending:
            logger.error("Desk task(s) still running after %.0f s, left behind: %s",
                         STOP_SECONDS, ", ".join(sorted(t.get_name() for t in pending)))
        logger.info("Desk background stopped: %d task(s) in %.2f s", len(tasks),
                    time.monotonic() - started)


async def start_desk(desk: Desk, sessions: Sessions, connections: Connections,
                     dispatcher: Dispatcher, background: Background) -> None:
    """Recover what was left unfinished, then start every task of the desk process."""
    recovered = await Recover(desk.store, desk.consumer).run()
    logger.info("Desk %s started; %d unfinished escalation(s) recovered",
                desk.consumer, recovered)
    store, rasa = desk.store, desk.rasa
    reconcile = Reconcile(store, rasa)
    requeue_unanswered, requeue_orphans = RequeueUnanswered(store, rasa), RequeueOrphans(store,
                                                                                         rasa)

    warn_unanswered = WarnUnanswered(store)

    async def deadlines() -> None:
        await warn_unanswered.run()
        await requeue_unanswered.run()
        await requeue_orphans.run()
        dispatcher.request()  # agents come and go, waits grow

    async def presence() -> None:
        await connections.drop_expired(store, sessions)
        await connections.heartbeat(store)

    jobs = [Every(DEADLINES_SECONDS, "deadlines", deadlines),
            Every(HEARTBEAT_SECONDS, "presence", presence),
            Every(CLAIM_ABANDONED_SECONDS, "abandoned", TakeOverAbandoned(store,
                                                                         desk.consumer).run),
            Every(RECONCILE_SECONDS, "reconcile", reconcile.run)]
    background.start(reconcile_at_start(reconcile), "reconcile-at-start")
    background.start(dispatcher.run(), "routing")
    background.start(take_escalations(Ingest(store, desk.consumer), dispatcher), "intake")
    background.start(run_periodically(jobs), "maintenance")
    background.start(News(store, connections).run(), "news")
    if desk.feed is not None:  # its own task: a first read of a long history must not
        # hold up the deadlines
        background.start(run_periodically([Every(INSIGHTS_SECONDS, "insights",
                                                 functools.partial(follow_events, desk.feed))]),
                         "insights")
        # apart: a long backlog for the feed must not leave the warnings stale
        background.start(run_periodically([Every(WARNINGS_SECONDS, "early warnings",
                                                 functools.partial(watch, desk))]),
                         "early warnings")


async def follow_events(feed: Feed) -> None:
    """Everything the events stream holds beyond the feed's place, batch after batch, off
    the event loop (the store's driver blocks)."""
    while await asyncio.to_thread(feed.ingest) >= BATCH:
        pass


async def watch(desk: Desk) -> None:
    """The early warnings of now, for the overview (off the event loop, as the feed)."""
    desk.early_warnings = await asyncio.to_thread(early_warnings, desk.insights)


async def reconcile_at_start(reconcile: Reconcile) -> None:
    """Once at start-up, as soon as the Rasa server answers."""
    while True:
        try:
            fixed = await reconcile.run()
            logger.info("Ownership and Rasa's pauses agree (%d fixed)", fixed)
            return
        except Exception as error:  # Rasa not up yet, most likely
            logger.info("Reconciling pauses with Rasa failed, retrying: %r", error)
            await asyncio.sleep(2)


async def take_escalations(ingest: Ingest, dispatcher: Dispatcher) -> None:
    while True:
        try:
            if await ingest.run(block_ms=1000):
                dispatcher.request()
        except Exception:
            logger.exception("Taking escalations in failed; retrying")
            await asyncio.sleep(1)

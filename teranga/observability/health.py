"""What "ready" and "live" mean for a Teranga server.

Live: its event loop answers (the route runs at all). Ready: each of its checks passes
within `CHECK_SECONDS`: the Rasa server's model is loaded and Redis answers; the action
server's Redis answers and its knowledge base is loaded; the desk's Redis answers. A load
balancer or Kubernetes sends traffic only to a ready server, and restarts one that is not
live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

CHECK_SECONDS = 2.0

Check = Callable[[], Awaitable[bool]]  # True: this part is ready


def redis_answers(client_of: Callable[[], Any]) -> Check:
    """A check that the client `client_of()` gives (redis.asyncio) answers a PING; asked
    when checked, for servers that make their client on first use."""
    async def ping() -> bool:
        return bool(await client_of().ping())
    return ping


def is_true(condition: Callable[[], bool]) -> Check:
    async def check() -> bool:
        return bool(condition())
    return check


async def _outcome(check: Check) -> str:
    try:
        return "ok" if await asyncio.wait_for(check(), CHECK_SECONDS) else "not ready"
    except asyncio.TimeoutError:
        return f"no answer in {CHECK_SECONDS:.0f} s"
    except Exception as error:  # noqa: BLE001 - what failed is the answer
        return f"{type(error).__name__}: {error}"[:200]


async def readiness(checks: Mapping[str, Check]) -> tuple[int, dict]:
    """(200, {"status": "ok", "checks": ...}) or (503, {"status": "unavailable", "failing":
    ...}), every check run at once."""
    names = list(checks)
    outcomes = dict(zip(names, await asyncio.gather(*(_outcome(checks[n]) for n in names)),
                        strict=True))
    failing = {name: outcome for name, outcome in outcomes.items() if outcome != "ok"}
    if failing:
        return 503, {"status": "unavailable", "failing": failing, "checks": outcomes}
    return 200, {"status": "ok", "checks": outcomes}

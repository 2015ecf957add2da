"""Customers' answers to the one satisfaction question asked after an agent hands back."""

from __future__ import annotations

import redis.asyncio as aioredis

from teranga.redis_keys import SATISFACTION

KEY = SATISFACTION


async def record(client: aioredis.Redis, agent_id: str, satisfied: bool) -> None:
    await client.hincrby(KEY, f"{agent_id}:{'yes' if satisfied else 'no'}", 1)


async def by_agent(client: aioredis.Redis) -> dict[str, dict[str, int]]:
    """{"awa": {"yes": 4, "no": 1}, ...}"""
    answers: dict[str, dict[str, int]] = {}
    for field, count in (await client.hgetall(KEY)).items():
        agent_id, _, answer = field.decode().rpartition(":")
        answers.setdefault(agent_id, {"yes": 0, "no": 0})[answer] = int(count)
    return answers

"""The audit record: every desk action on a conversation, and the CLI's exports and erasures,
with who and when. Never what the customer said: ids, the actor, the action, the time, and
the kind of detail (a wrap-up code, the agent a conversation went to).

One capped Redis stream (MAX_ENTRIES, the oldest dropped first: docs/privacy.md). The
functions take an asyncio Redis client, or a blocking one (the CLI): whatever the client
returns is awaited only when it must be.
"""

from __future__ import annotations

import inspect
import time

from teranga import redis_keys

MAX_ENTRIES = 100_000
MAX_LATEST = 200
MAX_FIELD_CHARS = 200  # ids and details are ours, but a conversation id came from outside
ACTIONS = frozenset({"read", "claim", "reply", "reveal", "transfer", "take_over", "return",
                     "close", "note", "export", "erase"})
_BATCH = 1000  # entries read per round trip when looking for one conversation's


async def record(client, actor: str, action: str, conversation_id: str,
                 detail: str | None = None, *, prefix: str = redis_keys.PREFIX) -> None:
    """Append one entry. ValueError for an action this log does not know (a typo must not
    pass unnoticed as a new kind of action)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    fields = {"actor": _field(actor), "action": action,
              "conversation_id": _field(conversation_id), "at": f"{time.time():.3f}"}
    if detail:
        fields["detail"] = _field(detail)
    await _result(client.xadd(redis_keys.audit_log(prefix), fields, maxlen=MAX_ENTRIES,
                              approximate=True))


async def latest(client, count: int = 100, conversation_id: str | None = None, *,
                 prefix: str = redis_keys.PREFIX) -> list[dict]:
    """The newest entries first, at most `count` (and MAX_LATEST); of one conversation when
    named (the whole capped stream is read, in batches, until `count` are found)."""
    count = max(0, min(int(count), MAX_LATEST))
    found: list[dict] = []
    before = "+"
    while len(found) < count:
        batch = await _result(client.xrevrange(redis_keys.audit_log(prefix), max=before,
                                               min="-", count=_BATCH))
        for entry_id, fields in batch:
            entry = _entry(entry_id, fields)
            if conversation_id is None or entry["conversation_id"] == conversation_id:
                found.append(entry)
        if len(batch) < _BATCH:
            break
        before = f"({_text(batch[-1][0])}"  # exclusive: the next older entries
    return found[:count]


async def forget(client, conversation_ids, *, prefix: str = redis_keys.PREFIX) -> int:
    """Remove the entries of these conversations (erasing a customer); how many."""
    wanted, key = set(conversation_ids), redis_keys.audit_log(prefix)
    doomed = [entry_id for entry_id, fields in await _result(client.xrange(key))
              if _text(fields.get(b"conversation_id", fields.get("conversation_id", "")))
              in wanted]
    return await _result(client.xdel(key, *doomed)) if doomed else 0


def _entry(entry_id, fields: dict) -> dict:
    values = {_text(name): _text(value) for name, value in fields.items()}
    try:
        at = float(values.get("at", ""))
    except ValueError:
        at = None
    return {"id": _text(entry_id), "actor": values.get("actor", ""),
            "action": values.get("action", ""),
            "conversation_id": values.get("conversation_id", ""),
            "detail": values.get("detail"), "at": at}


def _field(value) -> str:
    return str(value if value is not None else "")[:MAX_FIELD_CHARS]


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


async def _result(value):
    return await value if inspect.isawaitable(value) else value

"""Escalations in: from the queue's stream into the desk's records. An entry stays pending
in the consumer group until its conversation is handed back or closed, so what a desk
process read and did not finish is taken up again: by itself after a restart, by another
one if it died."""

from __future__ import annotations

from teranga.handoff.records import ConversationRecord
from teranga.handoff.store import HandoffStore

# Entries another desk process read and left this long are taken over.
ABANDONED_AFTER_MS = 60_000


async def _take(store: HandoffStore, entries) -> int:
    for entry_id, escalation in entries:
        await store.records.add_entry(entry_id, escalation)
    return len(entries)


class Ingest:
    """New escalations into records; open desks hear that they are queued."""

    def __init__(self, store: HandoffStore, consumer: str) -> None:
        self.store = store
        self.consumer = consumer

    async def run(self, block_ms: int | None = None) -> list[ConversationRecord]:
        """What came in within `block_ms`."""
        store, taken = self.store, []
        for entry_id, escalation in await store.queue.read_new(self.consumer, block_ms=block_ms):
            record = await store.records.add_entry(entry_id, escalation)
            owner = await store.ownership.owner(escalation.conversation_id)
            if owner.is_bot:  # handed back meanwhile: nothing left to do for this entry
                await store.queue.ack(entry_id)
                continue
            taken.append(record)
            await store.notify("queued", record.conversation_id, record.language, owner)
        return taken


class TakeOverAbandoned:
    """What another desk process read and left idle (it died before writing records)."""

    def __init__(self, store: HandoffStore, consumer: str) -> None:
        self.store = store
        self.consumer = consumer

    async def run(self) -> int:
        return await _take(self.store, await self.store.queue.claim_abandoned(
            self.consumer, ABANDONED_AFTER_MS))


class Recover:
    """At start-up: what this process (or a dead one) read but had not finished."""

    def __init__(self, store: HandoffStore, consumer: str) -> None:
        self.store = store
        self.consumer = consumer

    async def run(self) -> int:
        await self.store.queue.ensure_group()
        mine = await _take(self.store, await self.store.queue.read_pending(self.consumer))
        return mine + await TakeOverAbandoned(self.store, self.consumer).run()

"""The analytics store fed from what the assistant and the desk already write.

Every tracker event of every conversation goes through Rasa's event broker onto the desk's
events stream (addons/event_broker.py): a customer's message, the bot's and the agents'
replies, an agent taking over and handing back. The feed reads that stream from where it
stopped (a checkpoint in the store), and for each conversation it names reads the tracker
again, the record, and writes the facts of its sessions over the old ones. So a replay, a
crash between the write and the checkpoint, or two feeds at once cost work, never a wrong
count; and a feed that fell so far behind that the capped stream lost its place reads every
tracker again (`backfill`), as `teranga insights backfill` does on demand.
"""

from __future__ import annotations

import json
import logging
import threading

import redis

from teranga import redis_keys
from teranga.dialogue.event_log import EventLog
from teranga.insights.facts import conversation_facts
from teranga.insights.store import InsightsStore

logger = logging.getLogger(__name__)

CHECKPOINT = "events-stream"
BATCH = 5000  # stream entries per read: a conversation named in several is folded once
REFRESH_BATCH = 200  # conversations folded and written per transaction in a backfill


class Feed:
    def __init__(self, client: redis.Redis, store: InsightsStore,
                 stream: str = redis_keys.EVENTS, key_prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.store = store
        self.stream = stream
        self.log = EventLog(client, key_prefix)
        # set by a stopping process: the feed leaves off between two conversations, its
        # checkpoint where it was (what it read is read again next time)
        self.stopping = threading.Event()

    def refresh(self, conversation_ids: list[str]) -> int:
        """Fold these conversations' trackers into the store again, in one transaction; the
        sessions written. The trackers are read in one round trip."""
        with self.client.pipeline(transaction=False) as pipe:
            for conversation_id in conversation_ids:
                pipe.lrange(self.log.keys(conversation_id)[0], 0, -1)
            stored = pipe.execute()
        facts = {}
        for conversation_id, raw in zip(conversation_ids, stored, strict=True):
            events = [json.loads(event) for event in raw] if raw else self._read(conversation_id)
            facts[conversation_id] = conversation_facts(conversation_id, events)
        return self.store.save_many(facts)

    def _read(self, conversation_id: str) -> list[dict]:
        """A conversation not in this layout yet (still in Rasa's own keys) or gone."""
        stored = self.log.read(conversation_id, whole=True)
        return stored[0] if stored else []

    def backfill(self) -> int:
        """Every stored conversation folded again; the stream's place set to its end as it
        was before the first one was read. How many conversations."""
        end = self._stream_end()
        conversation_ids = self.log.conversation_ids()
        for start in range(0, len(conversation_ids), REFRESH_BATCH):
            if self.stopping.is_set():
                return start
            self.refresh(conversation_ids[start:start + REFRESH_BATCH])
        self.store.set_checkpoint(CHECKPOINT, end)
        return len(conversation_ids)

    def ingest(self, batch: int = BATCH) -> int:
        """One read of the stream from the checkpoint: the conversations it names folded
        again, then the checkpoint moved. How many stream entries were read."""
        last = self.store.checkpoint(CHECKPOINT)
        if last is None or self._lost_place(last):
            logger.info("The insights feed reads every conversation again (%s)",
                        "first run" if last is None else "the stream was trimmed past it")
            self.backfill()
            return 0
        entries = self.client.xrange(self.stream, min=f"({last}", count=batch)
        if not entries:
            return 0
        if self.stopping.is_set():
            return 0
        self.refresh([c for c in dict.fromkeys(_conversation_id(f) for _, f in entries) if c])
        self.store.set_checkpoint(CHECKPOINT, _text(entries[-1][0]))
        return len(entries)

    def _stream_end(self) -> str:
        return _text(self._info().get("last-generated-id") or "0-0")

    def _lost_place(self, last: str) -> bool:
        """Whether the capped stream dropped entries the feed had not read: some were
        dropped, and the oldest left is newer than the feed's place (then the ones between
        may be gone; reading every tracker again is the safe answer)."""
        info = self._info()
        first = info.get("first-entry")
        trimmed = int(info.get("entries-added") or 0) > int(info.get("length") or 0)
        return bool(first) and trimmed and _entry_id(_text(first[0])) > _entry_id(last)

    def _info(self) -> dict:
        try:
            return self.client.xinfo_stream(self.stream)
        except redis.ResponseError:  # no stream yet
            return {}


def _conversation_id(fields: dict) -> str | None:
    try:
        data = json.loads(_text(fields.get(b"data", fields.get("data", b"{}"))))
    except ValueError:
        return None
    conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
    return str(conversation_id) if conversation_id else None


def _entry_id(value: str) -> tuple[int, int]:
    milliseconds, _, sequence = value.partition("-")
    return int(milliseconds), int(sequence or 0)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

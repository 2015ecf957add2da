"""Internal notes between agents on a conversation ("customer already sent the SMS, waiting
for the agency"): kept in Redis beside the conversation's record, shown to whoever may see
the conversation, and never sent to the customer.

The notes of a conversation live as long as its record: no expiry while it is open,
CLOSED_RECORD_SECONDS once it is closed or returned to the bot (a note written later, or a
new escalation's, keeps them until the next close).
"""

from __future__ import annotations

import json
import secrets
import time

import redis

from teranga import redis_keys
from teranga.agent_desk.desk import DeskError
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import Owner
from teranga.handoff.records import CLOSED_RECORD_SECONDS, ConversationRecord
from teranga.handoff.store import HandoffStore
from teranga.text import clean_message, replace_surrogates

MAX_NOTE_CHARS = 1000
MAX_NOTES = 100


def note_text(text: object) -> str:
    """The note as stored: trimmed, without control characters; or why it is refused."""
    if not isinstance(text, str):
        raise DeskError(400, "'text' must be a string")
    text = clean_message(replace_surrogates(text[:4 * MAX_NOTE_CHARS]))
    if not text:
        raise DeskError(400, "the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise DeskError(400, f"a note has at most {MAX_NOTE_CHARS} characters")
    return text


async def add_note(store: HandoffStore, record: ConversationRecord, owner: Owner,
                   agent: Agent, text: object) -> dict:
    """Store the note (at most MAX_NOTES per conversation) and tell the desks that may see
    the conversation."""
    note = {"id": secrets.token_hex(8), "agent": agent.id, "name": agent.name,
            "text": note_text(text), "at": time.time()}
    key = redis_keys.conversation_notes(record.conversation_id)
    async with store.client.pipeline() as pipe:
        while True:
            try:
                await pipe.watch(key)
                if await pipe.llen(key) >= MAX_NOTES:
                    raise DeskError(409, f"this conversation has {MAX_NOTES} notes already")
                pipe.multi()
                pipe.rpush(key, json.dumps(note, ensure_ascii=False))
                if record.closed_at:
                    pipe.expire(key, CLOSED_RECORD_SECONDS)
                else:
                    pipe.persist(key)
                await pipe.execute()
                break
            except redis.WatchError:
                continue
    await store.notify("note", record.conversation_id, record.language, str(owner), **note)
    return note


async def notes_of(store: HandoffStore, conversation_id: str) -> list[dict]:
    """The conversation's notes, oldest first."""
    notes = []
    for text in await store.client.lrange(redis_keys.conversation_notes(conversation_id),
                                          0, MAX_NOTES - 1):
        try:
            note = json.loads(text)
        except ValueError:
            continue
        if isinstance(note, dict):
            notes.append(note)
    return notes


async def notes_closed(store: HandoffStore, conversation_id: str) -> None:
    """The conversation was closed or returned: its notes go when its record does."""
    await store.client.expire(redis_keys.conversation_notes(conversation_id),
                              CLOSED_RECORD_SECONDS)

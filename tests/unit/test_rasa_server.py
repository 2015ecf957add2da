"""The fixes applied to Rasa: the speed fixes must not change what Rasa does; errors of the
tracker store must reach the caller."""

import asyncio

import jsonschema
import pytest
import redis
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from addons import rasa_server

EVENTS = [
    [{"event": "pause"}],
    [{"event": "bot", "text": "hi", "metadata": {"agent": "awa"}}],
    [{"event": "slot", "name": "handoff_agent", "value": "awa"}, {"event": "resume"}],
    [{"nonsense": 1}],
    [{"event": 3}],
    {"event": "pause"},
]


def outcome(validate, instance, schema):
    try:
        validate(instance, schema)
    except jsonschema.ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("events", EVENTS)
def test_validation_accepts_and_refuses_what_jsonschema_does(events):
    for _ in range(2):  # the second time, from the kept validator
        assert outcome(rasa_server._validate, events, EVENTS_SCHEMA) == \
            outcome(rasa_server._original_validate, events, EVENTS_SCHEMA)


def test_an_invalid_schema_is_still_refused():
    with pytest.raises(jsonschema.SchemaError):
        rasa_server._validate({}, {"type": "no-such-type"})


def test_event_classes_are_the_ones_rasa_finds():
    for cls in all_subclasses(Event):
        assert rasa_server._resolve_by_type(cls.type_name) is \
            rasa_server._original_resolve_by_type(cls.type_name)
    assert rasa_server._resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        rasa_server._resolve_by_type("no-such-event")


class BrokenStore(InMemoryTrackerStore):
    """A tracker store whose Redis is away."""

    async def retrieve(self, sender_id):
        raise redis.ConnectionError("Connection refused")

    async def save(self, tracker):
        raise redis.ConnectionError("Connection refused")


def test_a_tracker_store_error_is_raised_not_replaced_by_an_empty_conversation():
    store = rasa_server._create_tracker_store(BrokenStore(Domain.empty()), Domain.empty())
    tracker = DialogueStateTracker.from_events("+221770000009", [])
    with pytest.raises(redis.ConnectionError):
        asyncio.run(store.get_or_create_tracker("+221770000009"))
    with pytest.raises(redis.ConnectionError):
        asyncio.run(store.save(tracker))

"""The two speed fixes applied to Rasa must not change what Rasa does."""

import jsonschema
import pytest
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from teranga.dialogue import rasa_server

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

"""Rasa's own command line, with two fixes to Rasa 3.6.21's speed applied first.

    python -m teranga.dialogue.rasa_server run --model ... (the same arguments as `rasa`)

Measured with py-spy on the Rasa server:
- `jsonschema.validate` checks the *schema itself* before checking the data, on every call.
  Rasa calls it on every custom action's result (two thirds of the time of a message that
  runs a custom action, such as a hand-over or a knowledge-base answer) and on every event
  appended through the HTTP API (60% of the time of an agent's message). The schema is now
  checked once per distinct schema; the data is checked every time, with the same errors.
- Reading a tracker back from Redis finds each event's class by walking all of Event's
  subclasses (`Event.resolve_by_type`, 20% of an agent's message); classes are now looked up
  by name, with Rasa's own lookup behind for anything unknown.
Both replace internals of the pinned Rasa 3.6.21 and `jsonschema`; `patch()` checks that
what it replaces is there.
"""

from __future__ import annotations

import json
import sys

import jsonschema
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

_original_validate = jsonschema.validate
_original_resolve_by_type = Event.resolve_by_type
_validators: dict[str, object] = {}
_event_classes: dict[str, type] = {}


def _validate(instance, schema, cls=None, *args, **kwargs):
    """`jsonschema.validate`, with the checked validator kept for the next call."""
    if cls is not None or args or kwargs:
        return _original_validate(instance, schema, cls, *args, **kwargs)
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = _validators[key] = validator_class(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _resolve_by_type(type_name, default=None):
    found = _event_classes.get(type_name)
    if found is None:  # first use, or an event class imported since: look again
        for cls in reversed(all_subclasses(Event)):  # the first of a name wins, as in Rasa
            _event_classes[cls.type_name] = cls
        found = _event_classes.get(type_name)
    return found or _original_resolve_by_type(type_name, default)


def patch() -> None:
    if not callable(getattr(jsonschema, "validate", None)) or \
            not hasattr(Event, "resolve_by_type"):
        raise RuntimeError("jsonschema or Rasa is not what teranga.dialogue.rasa_server "
                           "expects (Rasa 3.6.21): remove the patch or update it")
    jsonschema.validate = _validate
    Event.resolve_by_type = staticmethod(_resolve_by_type)


def main() -> None:
    from rasa.__main__ import main as rasa_main

    patch()
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()

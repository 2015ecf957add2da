"""Every Prometheus metric Teranga exports, defined here and only here: the Grafana dashboard
reads these names. Each process exports what it does (`/metrics`, endpoints.py): the Rasa
processes the messages, replies and deliveries, the action servers the actions and the
hand-overs they make, the desk processes the agents' queue. Labels take values from the
project's own lists (channels, languages, reasons, action names), never a conversation id
or text, so that a series' number stays bounded.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Iterable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from teranga import conversation_ids
from teranga.languages import languages_file, read_languages

OTHER = "other"  # any value outside a label's known list

CHANNELS = (conversation_ids.SMS, conversation_ids.WHATSAPP, conversation_ids.TELEGRAM,
            conversation_ids.WEBCHAT, conversation_ids.REST)
DELIVERY_OUTCOMES = ("sent", "retry", "dead_letter")

# A bot's reply takes tens of milliseconds to a few seconds (a knowledge-base answer, a
# hand-over), up to the 15 s action timeout; a turn retried after a crash or during a Redis
# restart takes up to a minute or two.
REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 15.0, 30.0, 60.0, 120.0)
# Picked up within milliseconds when a process is free; seconds under load; about 6 s when a
# dead consumer's entries are taken over, up to 120 s waiting for a lost predecessor.
INTAKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                  120.0, 300.0)
# People: from seconds (an agent free) to a night (queued while the centre is closed).
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
                14400.0, 43200.0)
# An action answers in milliseconds (a slot, a response) to seconds (the knowledge base's
# retrieval, Redis for a hand-over); Rasa gives up at 15 s (TERANGA_ACTION_TIMEOUT_SECONDS).
ACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)

MESSAGES_RECEIVED = Counter(
    "teranga_messages_received", "Customers' messages a Rasa process stored a turn for, "
    "once per message", ["channel", "language"])
REPLY_SECONDS = Histogram(
    "teranga_reply_seconds", "From a message's acceptance by its channel to its replies "
    "queued for delivery (REST: answered)", ["channel"], buckets=REPLY_BUCKETS)
INTAKE_LAG_SECONDS = Histogram(
    "teranga_intake_lag_seconds", "From a message's acceptance to its first pick-up by a "
    "Rasa process", ["channel"], buckets=INTAKE_BUCKETS)
DELIVERIES = Counter(
    "teranga_deliveries", "Messages handed to a provider or client: sent, a failed try "
    "retried, or given up (dead letter)", ["channel", "outcome"])
HANDOFFS = Counter(
    "teranga_handoffs", "Conversations put in the agents' queue, once per reason",
    ["reason"])
ACTION_SECONDS = Histogram(
    "teranga_action_seconds", "A custom action's run time on the action server", ["action"],
    buckets=ACTION_BUCKETS)

# The desk's: registered by the desk processes only (`export_desk_metrics`), so that the
# others do not report an empty queue.
HANDOFF_QUEUE_DEPTH = Gauge(
    "teranga_handoff_queue_depth", "Conversations waiting for an agent (read from Redis "
    "when scraped)", registry=None)
HANDOFF_WAIT_SECONDS = Histogram(
    "teranga_handoff_wait_seconds", "From a conversation's entry in the agents' queue to an "
    "agent taking it", buckets=WAIT_BUCKETS, registry=None)


def bounded(value: str | None, known: Collection[str]) -> str:
    """A label's value: `value` if the project knows it, else "other"."""
    return value if value in known else OTHER


@functools.cache
def _languages() -> frozenset[str]:
    return frozenset(read_languages(languages_file()))


def message_received(channel: str | None, language: str | None) -> None:
    MESSAGES_RECEIVED.labels(bounded(channel, CHANNELS), bounded(language, _languages())).inc()


def since(accepted_at: float) -> float:
    """Seconds from `accepted_at` (epoch seconds, maybe another host's clock) to now."""
    return max(0.0, time.time() - accepted_at)


def replied(channel: str, accepted_at: float) -> None:
    REPLY_SECONDS.labels(bounded(channel, CHANNELS)).observe(since(accepted_at))


def picked_up(channel: str, accepted_at: float) -> None:
    INTAKE_LAG_SECONDS.labels(bounded(channel, CHANNELS)).observe(since(accepted_at))


def delivery(channel: str | None, outcome: str) -> None:
    DELIVERIES.labels(bounded(channel, CHANNELS), bounded(outcome, DELIVERY_OUTCOMES)).inc()


def handed_over(reasons: Iterable[str], known: Collection[str]) -> None:
    for reason in dict.fromkeys(reasons):
        HANDOFFS.labels(bounded(reason, known)).inc()


def action_ran(action: str, seconds: float) -> None:
    """`action`: one the action server has (it did not answer 404 Not Found), so a name of
    the domain's bounded list."""
    ACTION_SECONDS.labels(action).observe(seconds)


def taken_by_agent(queued_at: float) -> None:
    HANDOFF_WAIT_SECONDS.observe(since(queued_at))


def export_desk_metrics() -> None:
    """Register the desk's metrics in this process (a second call changes nothing)."""
    for metric in (HANDOFF_QUEUE_DEPTH, HANDOFF_WAIT_SECONDS):
        try:
            REGISTRY.register(metric)
        except ValueError:  # registered already
            pass

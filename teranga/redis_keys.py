"""Every Redis key Teranga writes, in one place, so that no two parts of the code can pick the
same name (they did once: a REST conversation named `consumers` failed the desk with
WRONGTYPE). Each key is `<prefix>:<kind>...`, with `prefix` "teranga" in production; tests
pass their own prefix to work side by side. docs/architecture.md lists them with their use.

The conversation lock is Rasa's own key (`<key_prefix>:lock:<id>`, endpoints.yml).
"""

from __future__ import annotations

PREFIX = "teranga"

# --- the dialogue (teranga/dialogue/event_log.py) --------------------------------------------


def tracker_events(sender_id: str, prefix: str = PREFIX) -> str:
    """List: the conversation's events as JSON, oldest first."""
    return f"{prefix}:tracker-events:{sender_id}"


def tracker_session(sender_id: str, prefix: str = PREFIX) -> str:
    """Integer: the list index where the current session begins."""
    return f"{prefix}:tracker-session:{sender_id}"


def rasa_tracker(key_prefix: str | None) -> str:
    """The prefix of Rasa 3.6's RedisTrackerStore keys for an endpoint's `key_prefix`
    (`RedisTrackerStore._set_key_prefix`): "teranga" gives "teranga:tracker:"; none, or
    one that is not alphanumeric, gives "tracker:"."""
    return f"{key_prefix}:tracker:" if key_prefix and key_prefix.isalnum() else "tracker:"


# --- the channels (teranga/channels) ------------------------------------------------------


def queue(name: str, prefix: str = PREFIX) -> str:
    """Stream: an ordered queue (`intake`, `delivery`); its other keys extend this name."""
    return f"{prefix}:{name}"


def seen(channel: str, message_id: str, prefix: str = PREFIX) -> str:
    """A provider's message id already accepted (a redelivery is not stored twice)."""
    return f"{prefix}:seen:{channel}:{message_id}"


def delivery_status(conversation_id: str) -> str:
    """Hash: a sent message's provider status, by message."""
    return f"{PREFIX}:delivery-status:{conversation_id}"


def delivery_parts(conversation_id: str) -> str:
    """Hash: how many parts of a split message were sent, by message."""
    return f"{PREFIX}:delivery-parts:{conversation_id}"


def delivery_id(provider_id: str) -> str:
    """A provider's message id -> the conversation and message it belongs to."""
    return f"{PREFIX}:delivery-id:{provider_id}"


DEAD_LETTERS = f"{PREFIX}:dead-letters"  # list: messages no channel could deliver


def last_inbound(channel: str, sender: str) -> str:
    """When the customer last wrote (WhatsApp's 24-hour window)."""
    return f"{PREFIX}:last-inbound:{channel}:{sender}"


def flood(conversation_id: str, window: int) -> str:
    """Counter: a conversation's messages in one 10-second window."""
    return f"{PREFIX}:flood:{conversation_id}:{window}"


def options(channel: str, recipient: str) -> str:
    """The numbered choices last offered on SMS, WhatsApp or Telegram."""
    return f"{PREFIX}:options:{channel}:{recipient}"


OUTBOX = f"{PREFIX}:outbox:"  # + recipient: stream of a REST customer's later messages
WEBCHAT_TRANSCRIPT = f"{PREFIX}:webchat:transcript:"  # + session: the web chat's transcript


def webchat_session(session_id: str) -> str:
    """A web-chat session id this server issued."""
    return f"{PREFIX}:webchat:session:{session_id}"


# --- hand-over and the desk (teranga/handoff, teranga/agent_desk) --------------------------

ESCALATIONS = f"{PREFIX}:escalations"  # stream: conversations handed to people
EVENTS = f"{PREFIX}:events"  # stream: tracker events the desk shows
DESK_NOTICES = f"{PREFIX}:desk:notices"  # stream: the desk's own news
SATISFACTION = f"{PREFIX}:desk:satisfaction"  # hash: answers per agent
AWAITING_ANSWER = f"{PREFIX}:desk:awaiting-answer"  # zset: conversation -> answer deadline
LEAVING = f"{PREFIX}:desk:leaving"  # zset: conversation -> when its hand-back began


def owner(conversation_id: str, prefix: str = PREFIX) -> str:
    """Who owns the conversation: absent (the bot), "queued" or "agent:<id>"."""
    return f"{prefix}:owner:{conversation_id}"


def agent_conversations(agent_id: str, prefix: str = PREFIX) -> str:
    """Set: the conversations an agent holds (their load)."""
    return f"{prefix}:agent-conversations:{agent_id}"


def queued(prefix: str = PREFIX) -> str:
    """Zset: the conversations waiting for an agent, by time queued."""
    return f"{prefix}:queued"


def conversation_record(conversation_id: str, prefix: str = PREFIX) -> str:
    """JSON: what the desk knows of an escalated conversation."""
    return f"{prefix}:desk:conversation:{conversation_id}"


def presence(which: str, prefix: str = PREFIX) -> str:
    """Zset: agents `online` (a desk open) or `available` (taking conversations)."""
    return f"{prefix}:presence:{which}"


def agent_status(agent_id: str) -> str:
    """"available" or "away", as the agent last said."""
    return f"{PREFIX}:desk:status:{agent_id}"


def desk_session(digest: str, prefix: str = f"{PREFIX}:desk") -> str:
    """An agent's desk session, by the token's digest."""
    return f"{prefix}:session:{digest}"


def login_failures(prefix: str = f"{PREFIX}:desk") -> str:
    """The base of the failed-login counters (by id, by address, by both)."""
    return f"{prefix}:login-failures"


ANSWER_WARNINGS = f"{PREFIX}:desk:answer-warnings"  # zset: conversation -> when to warn


def last_message(conversation_id: str, prefix: str = PREFIX) -> str:
    """JSON: the newest message of an escalated conversation, as the desk's list shows it."""
    return f"{prefix}:desk:last-message:{conversation_id}"


def conversation_notes(conversation_id: str, prefix: str = PREFIX) -> str:
    """List: agents' internal notes on a conversation, as JSON, oldest first."""
    return f"{prefix}:desk:notes:{conversation_id}"


def customer_history(customer_key: str, prefix: str = PREFIX) -> str:
    """List: a customer's finished episodes with the desk, as JSON, newest first (one key
    for their SMS and WhatsApp conversations: teranga/agent_desk/history.py)."""
    return f"{prefix}:desk:history:{customer_key}"


def rasa_lock(conversation_id: str, key_prefix: str = PREFIX) -> str:
    """Rasa's conversation lock (endpoints.yml's `key_prefix` + Rasa's `lock:`), named here
    only so that erasing a customer can find it."""
    return f"{key_prefix}:lock:{conversation_id}"


def lock_holder(conversation_id: str, ticket: int, prefix: str = PREFIX) -> str:
    """String, short-lived: the holder of ticket `ticket` of the conversation's lock is alive
    (teranga/channels/lock_leases.py)."""
    return f"{prefix}:lock-holder:{conversation_id}:{ticket}"


def secret_named(conversation_id: str, prefix: str = PREFIX) -> str:
    """String, short-lived: the conversation's latest message named a PIN, a code or a
    password (teranga/channels/secret_context.py)."""
    return f"{prefix}:privacy:secret-named:{conversation_id}"


def privacy_notice_given(conversation_id: str, prefix: str = PREFIX) -> str:
    """String: present once the conversation was given the privacy notice (its time)."""
    return f"{prefix}:privacy:notice-given:{conversation_id}"


# --- the audit (teranga/privacy/audit.py) ----------------------------------------------------

def audit_log(prefix: str = PREFIX) -> str:
    """Stream, capped: who did what to which conversation, and when (never what was said)."""
    return f"{prefix}:audit"

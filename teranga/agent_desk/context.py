"""What an agent reads first when a conversation opens, so that nobody types it again: what
the customer wants, what the bot tried, why it handed over, and the facts the customer gave
(amounts, transaction ids, phone numbers, dates, other numbers).

Computed offline from the escalation record and Rasa's tracker (its events carry the
intents). Customers' messages are hostile (any Unicode, any size): each is read through a
window of MAX_SCAN_CHARS, and every list is bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from teranga.agent_desk.summaries import is_external
from teranga.handoff.records import ConversationRecord
from teranga.handoff.repeated_fallbacks import FALLBACK_INTENT
from teranga.handoff.triggers import (
    ACTION_ERROR,
    ASKED_FOR_PERSON,
    CALLBACK_REQUESTED,
    DOCUMENT,
    NEGATIVE_SENTIMENT,
    NOT_UNDERSTOOD,
    REPEATED_FALLBACK,
    VOICE_NOTE,
    Thresholds,
)
from teranga.text import cut_at_word, encodable

# How much of each message is searched for facts: a long message of 600 characters is
# read whole; "ﷺ" x 10000 costs the same as 2000 characters.
MAX_SCAN_CHARS = 2000
MAX_EVENTS = 1000  # the newest tracker events read
MAX_CUSTOMER_MESSAGES = 30  # the newest customer messages searched for facts
MAX_FACTS = 25
# The most read for facts in one request: 6 messages of 2000 characters cost about 25 ms.
MAX_SCAN_TOTAL = 12_000
MAX_TRIED = 8
MAX_QUOTE_CHARS = 200
CONFIDENT = Thresholds().low_confidence  # below it, the bot did not understand

# The customer's request at a glance, by intent (domain/core.yml; data/nlu has examples).
INTENT_WANTS = {
    "check_balance": "Check their balance",
    "buy_data_bundle": "Buy a data bundle",
    "recharge_airtime": "Recharge airtime",
    "send_money": "Send money",
    "withdraw_cash": "Withdraw cash",
    "transfer_failed": "A money transfer that failed",
    "reset_pin": "Reset their PIN",
    "lost_or_stolen_sim": "Block a lost or stolen SIM",
    "sim_swap": "Swap or replace their SIM",
    "network_problem": "A network or connection problem",
    "unexpected_charge": "An unexpected charge on their account",
    "agency_hours_location": "An agency's opening hours or address",
    "complain": "Make a complaint",
    "request_human": "Talk to a person",
    "bot_challenge": "Know whether they are talking to a bot",
}
# Intents that say nothing of the request itself: never "what the customer wants".
NOT_A_REQUEST = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "empty_message",
                           "handed_back", "media_received", FALLBACK_INTENT})

REASON_WORDS = {
    ASKED_FOR_PERSON: "The customer asked for a person",
    NEGATIVE_SENTIMENT: "The customer is upset",
    NOT_UNDERSTOOD: "The bot did not understand and the knowledge base had no answer",
    REPEATED_FALLBACK: "The bot failed to understand several times in a row",
    ACTION_ERROR: "One of the bot's actions failed",
    CALLBACK_REQUESTED: "The customer asked to be called back",
    VOICE_NOTE: "The customer sent a voice note",
    DOCUMENT: "The customer sent a document",
}

# What the bot's responses mean as attempts (the response names of domain/responses).
TRIED_RESPONSES = {
    "utter_ask_rephrase": "Asked the customer to rephrase",
    "utter_media_received": "Asked for a few words about an attachment it cannot read",
    "utter_media_to_agent": "Passed an attachment (voice note or document) to a person",
    "utter_request_human": "Told the customer how to reach a person",
    "utter_handoff_coming": "Told the customer an agent is coming",
    "utter_handoff_no_agent": "Told the customer the agents are away",
    "utter_handoff_no_agent_here": "Told the customer the agents are away",
    "utter_handoff_no_speaker": "Told the customer no agent speaks their language",
    "utter_handoff_no_speaker_here": "Told the customer no agent speaks their language",
    "utter_handoff_busy": "Told the customer their place in the queue",
    "utter_queue_position": "Told the waiting customer their place in the queue",
    "utter_queue_position_closed": "Told the waiting customer the centre is closed",
    "utter_queue_position_away": "Told the waiting customer the agents are away",
    "utter_queue_position_no_speaker": "Told the waiting customer no agent speaks their "
                                       "language",
    "utter_queue_unchanged": "Told the waiting customer they are still in the queue",
    "utter_handoff_closed": "Told the customer the centre is closed",
    "utter_handoff_closed_here": "Told the customer the centre is closed",
    "utter_callback_noted": "Noted a callback request",
    "utter_technical_problem": "Reported a technical problem to the customer",
    "utter_empty_message": "Received an empty message",
}
KB_RESPONSES = ("utter_kb_answer", "utter_kb_answer_other_language")
# The article's title as the knowledge-base responses quote it: "…" or « … ».
_QUOTED_TITLE = re.compile(r"[\"“«]\s?([^\"”»\n]{1,120}?)\s?[\"”»]")


@dataclass(frozen=True)
class Said:
    """One line of the conversation, as the summary reads it."""

    by: str  # "customer" or "bot"
    text: str
    intent: str | None = None
    confidence: float = 0.0


# --- facts ------------------------------------------------------------------------------

_NUMBER = r"[0-9]{1,3}(?:[ .,'][0-9]{3})+(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]{1,2})?"
_CURRENCY_AFTER = (r"f\s?cfa|fcfa|cfa|xof|francs?|frs?|f|d[eë]r[eë]m|kshs?|ksh|kes|"
                   r"shillings?|shilingi|shs?|bob|naira|ngn|usd|dollars?|euros?|eur|€|\$|₦")
_CURRENCY_BEFORE = r"₦|\$|€|kshs?\.?|kes|shs?\.?|ngn|n(?=[0-9])|usd|eur|shilingi|naira|fcfa|cfa|xof"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?:{_CURRENCY_BEFORE})\s?(?:{_NUMBER})(?:k(?![^\W\d_]))?"
    rf"|(?:{_NUMBER})(?:\s?k)?\s?(?:(?:{_CURRENCY_AFTER})(?![^\W\d_])|/=))", re.IGNORECASE)

_SEP = r"[ .-]?"
_PHONES = [
    # Senegal: 77 123 45 67, +221 77 123 45 67 (mobiles 70 75 76 77 78, fixed lines 33)
    rf"(?:(?:\+|00)?221{_SEP})?(?:7[05678]|3[03]){_SEP}[0-9]{{3}}{_SEP}[0-9]{{2}}{_SEP}[0-9]{{2}}",
    # Kenya: 0712 345 678, +254 712 345 678 (and the 01xx numbers)
    rf"(?:(?:\+|00)?254{_SEP}|0)[17][0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}",
    # Nigeria: 0803 123 4567, +234 803 123 4567
    rf"(?:(?:\+|00)?234{_SEP}|0)[789][01][0-9]{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}",
    # any other international number
    r"(?:\+|00)[1-9][0-9]{0,2}(?:[ .-]?[0-9]{2,4}){2,5}",
]
_PHONE = re.compile(rf"(?<![\w+])(?:{'|'.join(_PHONES)})(?![\w])")

# Letters and digits, 8 characters or more, maybe with . - _ inside: MP240315.1234.A12345,
# QK12AB34CD, TX-123456. Candidates only: `_is_transaction_id` checks the mix.
_CODE = re.compile(r"(?<![\w.\-])[A-Za-z0-9](?:[A-Za-z0-9]|[._\-](?=[A-Za-z0-9])){7,39}"
                   r"(?![\w])")
# A word glued to a number ("mars2024", "merci2024"): not an id.
_WORD_AND_NUMBER = re.compile(r"[a-z]{4,}[0-9]+|[0-9]+[a-z]{4,}")

# Month names and day words are looked up word by word (a regex alternation of them, tried
# at every position, cost 2 ms per 2000 characters): English, French (Wolof speakers write
# them too), Swahili, Hausa.
MONTHS = frozenset((
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "janvier février fevrier mars avril mai juin juillet août aout septembre octobre "
    "novembre décembre decembre janv févr fevr avr juil déc "
    "januari februari machi aprili mei juni julai agosti septemba oktoba novemba desemba "
    "janairu faburairu maris afirilu mayu yuni yuli agusta satumba nuwamba disamba").split())
DAY_WORDS = frozenset((
    "today yesterday tonight aujourd'hui aujourd’hui avant-hier hier "
    "tey démb demb "  # Wolof
    "leo jana juzi "  # Swahili
    "yau jiya shekaranjiya "  # Hausa
    "monday tuesday wednesday thursday friday saturday sunday "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "altine talaata àllarba allarba alxamis àjjuma ajjuma gaawu dibéer dibeer "
    "jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili "
    "litinin talata laraba alhamis juma'a asabar lahadi").split())
DAY_PHRASES = frozenset({"this morning", "last night", "ce matin", "hier soir", "bërki démb",
                         "berki demb"})
_WORD_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_DAY_BEFORE_MONTH = re.compile(r"(?<![\w.,])[0-9]{1,2}(?:er|st|nd|rd|th)?\s(?:ga\s)?$",
                               re.IGNORECASE)
_AFTER_MONTH = re.compile(r"\.?(?:\s[0-9]{1,2}(?:st|nd|rd|th)?(?:,?\s[0-9]{4})?"
                          r"|\s[0-9]{4})(?![\w])", re.IGNORECASE)
_YEAR_AFTER = re.compile(r"\s[0-9]{4}(?![\w])")
_NUMERIC_DATE = re.compile(
    r"(?<![\w./:-])(?:"
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"|[0-9]{1,2}[/-][0-9]{1,2}(?:[/-](?:[0-9]{4}|[0-9]{2}))?"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{4}|[0-9]{2})"
    r"|[0-9]{1,2}(?:h|:)[0-9]{2}|[0-9]{1,2}\s?(?:am|pm)"
    r")(?![\w/])", re.IGNORECASE)


def _text_dates(text: str) -> list[tuple[int, int]]:
    """Spans of dates in words: "15 mars", "March 15, 2024", "15 ga Maris", "jana"."""
    spans = []
    tokens = list(_WORD_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        word = token.group().casefold()
        start, end = token.span()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (following and text[end:following.start()] == " "
                and f"{word} {following.group().casefold()}" in DAY_PHRASES):
            spans.append((start, following.end()))
        elif word in MONTHS:
            before = _DAY_BEFORE_MONTH.search(text, max(0, start - 12), start)
            after = _AFTER_MONTH.match(text, end) if before is None else None
            if before is None and after is None:
                continue  # a month alone ("mai", "may") is too often another word
            year = _YEAR_AFTER.match(text, end) if before is not None else None
            spans.append((before.start() if before else start,
                          (after or year).end() if (after or year) else end))
        elif word in DAY_WORDS:
            spans.append((start, end))
    return spans


# USSD codes (*145*7#), numbers of three digits or more, and grouped ones (5 000).
_NUMBER_FACT = re.compile(r"(?<![\w*])\*[0-9]{1,4}(?:\*[0-9]{1,10})*#"
                          r"|(?<![\w.,])(?:[0-9]{1,3}(?:[ .,][0-9]{3})+|[0-9]{3,20})(?![\w])")


def _is_phone(text: str) -> bool:
    return 8 <= sum(c.isdigit() for c in text) <= 15


def _is_transaction_id(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    return letters >= 1 and digits >= 2 and not _WORD_AND_NUMBER.fullmatch(text)


def _is_date(text: str) -> bool:
    """Numeric dates must be a day and a month (either order); words are taken as they are."""
    parts = re.split(r"[/.-]", text)
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return True
    if len(parts[0]) == 4:  # 2024-03-15
        return 1 <= int(parts[1]) <= 12 and 1 <= int(parts[2]) <= 31
    first, second = int(parts[0]), int(parts[1])
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def _matches(pattern: re.Pattern):
    return lambda text: [m.span() for m in pattern.finditer(text)]


def _dates(text: str) -> list[tuple[int, int]]:
    return _matches(_NUMERIC_DATE)(text) + _text_dates(text)


# In this order: an amount's digits are not a phone number, an id's digits not a number.
_KINDS = (("amount", _matches(_AMOUNT), None),
          ("transaction_id", _matches(_CODE), _is_transaction_id),
          ("phone", _matches(_PHONE), _is_phone), ("date", _dates, _is_date),
          ("number", _matches(_NUMBER_FACT), None))


def facts_in(text: str) -> list[dict]:
    """The facts of one message, in order of appearance (the window of MAX_SCAN_CHARS)."""
    if not isinstance(text, str):
        return []
    # NFKC: "5 000" with a narrow no-break space, fullwidth digits; no control characters.
    window = encodable(text[:MAX_SCAN_CHARS])[:MAX_SCAN_CHARS]
    taken: list[tuple[int, int, str, str]] = []
    for kind, spans, valid in _KINDS:
        for start, end in spans(window):
            if any(start < e and s < end for s, e, _k, _t in taken):
                continue
            found = window[start:end].strip()
            if (valid is None or valid(found)) and len(taken) < MAX_FACTS:
                taken.append((start, end, kind, found))
    return [{"kind": kind, "text": found} for _s, _e, kind, found in sorted(taken)]


def _newest_within(messages: list[str], budget: int) -> list[str]:
    kept = []
    for message in reversed(messages):
        if not isinstance(message, str):
            continue
        budget -= min(len(message), MAX_SCAN_CHARS)
        if budget < 0:
            break
        kept.append(message)
    return kept[::-1]


def _fact_key(fact: dict) -> tuple[str, str]:
    """The same fact written twice ("77 123 45 67", "+221771234567") counts once."""
    text, kind = fact["text"], fact["kind"]
    if kind == "phone":
        return kind, re.sub(r"[^0-9]", "", text)[-9:]
    return kind, re.sub(r"[\s.,'-]", "", text).casefold()


def facts(messages: list[str], limit: int = MAX_FACTS) -> list[dict]:
    """The facts of the messages, oldest first, each once, at most `limit`; of the newest
    messages that fit in MAX_SCAN_TOTAL characters (the work per request is bounded)."""
    found: dict[tuple[str, str], dict] = {}
    for message in _newest_within(messages, MAX_SCAN_TOTAL):
        for fact in facts_in(message):
            found.setdefault(_fact_key(fact), fact)
            if len(found) >= limit:
                return list(found.values())
    return list(found.values())


# --- the episode's lines ------------------------------------------------------------------

def episode_events(events: list, escalated_at: float) -> list[dict]:
    """The tracker events of this hand-over's episode: from the latest return to the bot
    before the escalation (earlier episodes were other requests) to the end."""
    events = [e for e in events[-MAX_EVENTS:] if isinstance(e, dict)]
    start = 0
    for index, event in enumerate(events):
        at = event.get("timestamp")
        if isinstance(at, (int, float)) and at >= escalated_at:
            break
        if event.get("event") in ("resume", "session_started"):
            start = index + 1
    return events[start:]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def lines_from_events(events: list[dict]) -> list[Said]:
    """The customer's and the bot's messages (agents' and the desk's own left out)."""
    lines = []
    for event in events:
        text, kind = event.get("text"), event.get("event")
        if not isinstance(text, str) or not text:
            continue
        parse = _mapping(event.get("parse_data"))
        intent = _mapping(parse.get("intent"))
        if kind == "user" and not is_external(text, {"intent": intent}):
            confidence = intent.get("confidence")
            name = intent.get("name")
            lines.append(Said("customer", text, name if isinstance(name, str) else None,
                              float(confidence) if isinstance(confidence, (int, float))
                              else 0.0))
        elif kind == "bot" and not _mapping(event.get("metadata")).get("agent"):
            lines.append(Said("bot", text))
    return lines


def lines_from_record(record: ConversationRecord) -> list[Said]:
    """Without the tracker (Rasa down): the escalation's last messages, the latest one with
    the bot's best guess."""
    escalation = record.escalation
    lines = [Said(m.get("from") if m.get("from") == "customer" else "bot", m["text"])
             for m in escalation.last_messages
             if isinstance(m, dict) and isinstance(m.get("text"), str) and m["text"]]
    customer = [i for i, line in enumerate(lines) if line.by == "customer"]
    if customer and escalation.top_intents:
        best = escalation.top_intents[0]
        lines[customer[-1]] = Said("customer", lines[customer[-1]].text, best.get("name"),
                                   float(best.get("confidence") or 0.0))
    return lines


# --- the summary --------------------------------------------------------------------------

def quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """A customer's message as one short line."""
    flat = " ".join(encodable(text[:limit * 4]).split())
    cut = cut_at_word(flat, limit - 1)
    return cut if cut == flat else f"{cut}…"


def wants(lines: list[Said]) -> str:
    """The request in a sentence: the latest confident intent in words, and the customer's
    own key message (the one with that intent, else their latest real message)."""
    customer = [line for line in lines if line.by == "customer"]
    if not customer:
        return ""
    request = next((line for line in reversed(customer)
                    if line.intent in INTENT_WANTS and line.intent != "request_human"
                    and line.confidence >= CONFIDENT), None)
    asked_for_person = any(line.intent == "request_human" and line.confidence >= CONFIDENT
                           for line in customer)
    key = request or next((line for line in reversed(customer)
                           if line.intent not in NOT_A_REQUEST | {"request_human"}
                           and len(line.text.split()) >= 3), customer[-1])
    words = (INTENT_WANTS[request.intent] if request
             else INTENT_WANTS["request_human"] if asked_for_person
             else "Not recognised by the bot" if key.intent else "")
    return f"{words}: “{quote(key.text)}”" if words else f"“{quote(key.text)}”"


def tried(events: list[dict], lines: list[Said]) -> list[str]:
    """What the bot did, each kind once with how many times, in order."""
    counts: dict[str, int] = {}
    if events:
        for event in events:
            for attempt in _attempts(event):
                counts[attempt] = counts.get(attempt, 0) + 1
    else:  # only the record's messages: what the bot said, briefly
        for line in lines:
            if line.by == "bot":
                counts.setdefault(f"Said: “{quote(line.text, 100)}”", 1)
    return [f"{what} ({n}×)" if n > 1 else what for what, n in counts.items()][:MAX_TRIED]


def _attempts(event: dict) -> list[str]:
    kind, metadata = event.get("event"), _mapping(event.get("metadata"))
    if kind == "bot" and not metadata.get("agent"):
        response = metadata.get("utter_action")
        if response in KB_RESPONSES:
            title = _QUOTED_TITLE.search(str(event.get("text") or "")[:MAX_SCAN_CHARS])
            return [f"Answered from the knowledge base: {title.group(1) if title else '?'}"]
        if response in TRIED_RESPONSES:
            return [TRIED_RESPONSES[response]]
        intent = response[len("utter_"):] if isinstance(response, str) else None
        if intent in INTENT_WANTS:
            return [f"Answered the request: {INTENT_WANTS[intent].lower()}"]
    if kind == "slot" and event.get("name") == "kb_miss" and event.get("value") is True:
        return ["Searched the knowledge base: no confident answer"]
    return []


def why(record: ConversationRecord) -> list[str]:
    """The hand-over's reasons in words, with the sentiment score and any re-queues."""
    escalation, said = record.escalation, []
    for reason in escalation.reasons:
        words = REASON_WORDS.get(reason, str(reason).replace("_", " ").capitalize())
        score = (escalation.sentiment or {}).get("score")
        if reason == NEGATIVE_SENTIMENT and isinstance(score, (int, float)):
            words = f"{words} (sentiment {score:+.2f})"
        said.append(words)
    for requeue in record.requeues[-3:]:
        said.append(f"Back in the queue: {requeue.get('why') or 'no reason given'}")
    return said


def summarize(record: ConversationRecord, tracker_events: list | None) -> dict:
    """The summary of the context route. `tracker_events`: Rasa's, or None when it could
    not be read (then the escalation record alone)."""
    events = (episode_events(tracker_events, record.escalation.created_at)
              if tracker_events is not None else [])
    lines = lines_from_events(events) if events else lines_from_record(record)
    customer = [line.text for line in lines if line.by == "customer"]
    return {"wants": wants(lines), "tried": tried(events, lines), "why": why(record),
            "facts": facts(customer[-MAX_CUSTOMER_MESSAGES:])}

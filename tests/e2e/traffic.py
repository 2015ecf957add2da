"""A traffic generator: scripted conversations with known outcomes, played through the real
channels (REST, Twilio SMS and WhatsApp through their signed webhooks, Telegram through its
secret-checked webhook, the web chat with python-socketio's client) and the real desk (an
agent claims, replies, hands back; the customer answers the satisfaction question). Each
scenario says what the analytics must count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tests.e2e.desk_client import SAMPLE_MESSAGES, AgentSession, say, wait_until
from tests.e2e.test_telegram import post as telegram_post
from tests.e2e.test_twilio import deliver
from tests.e2e.test_webchat import Visit


@dataclass(frozen=True)
class Scenario:
    name: str
    channel: str  # rest, twilio_sms, twilio_whatsapp, telegram, socketio (the web chat)
    language: str | None  # the conversation's language, None when nothing pins it
    messages: tuple[str, ...]
    agent: str | None = None  # who claims, replies and hands back; None: nobody takes it
    satisfied: bool | None = None  # the answer to the satisfaction question
    reasons: tuple[str, ...] = ()  # a hand-over's reasons; none: contained
    voice_note: bool = False  # the last message is a voice note (WhatsApp)
    fallback: bool = False  # the assistant did not understand it
    kb_miss: bool = False

    @property
    def abandoned(self) -> bool:
        """Left waiting: handed over and never taken, or last asked to rephrase."""
        return bool(self.reasons) and self.agent is None or self.fallback and not self.reasons


SCENARIOS = (
    *(Scenario(f"contained-{language}", channel, language, (SAMPLE_MESSAGES[language],))
      for language, channel in (("en", "rest"), ("fr", "twilio_sms"),
                                ("wo", "twilio_whatsapp"), ("sw", "telegram"), ("ha", "rest"))),
    Scenario("contained-fr-web-chat", "socketio", "fr", (SAMPLE_MESSAGES["fr"],)),
    Scenario("person-satisfied-fr", "rest", "fr", ("je veux parler a un conseiller svp",),
             agent="awa", satisfied=True, reasons=("asked_for_person",)),
    Scenario("person-unsatisfied-en", "telegram", "en", ("i want to talk to an agent",),
             agent="kofi", satisfied=False, reasons=("asked_for_person",)),
    Scenario("person-abandoned-en", "rest", "en", ("I want to talk to a person please",),
             reasons=("asked_for_person",)),
    Scenario("voice-note-abandoned", "twilio_whatsapp", None, ("",), reasons=("voice_note",),
             voice_note=True),
    Scenario("not-understood", "rest", None, ("qxz vbnw plok",), fallback=True, kb_miss=True),
)
SATISFACTION_ANSWERS = {("fr", True): "oui", ("fr", False): "non", ("en", True): "yes",
                        ("en", False): "no"}


@dataclass
class Played:
    scenario: Scenario
    conversation_id: str
    replies: list[str] = field(default_factory=list)


class Traffic:
    """Plays scenarios on a running stack (`server`, the e2e fixture's services)."""

    def __init__(self, server, fake_twilio, fake_telegram) -> None:
        self.server, self.twilio, self.telegram = server, fake_twilio, fake_telegram

    def play(self, scenario: Scenario) -> Played:
        if scenario.channel == "socketio":
            return self._web_chat(scenario)
        played = Played(scenario, self._new_conversation(scenario.channel))
        for text in scenario.messages:
            self._say(played, text, voice_note=scenario.voice_note)
        if scenario.agent:
            self._worked_by_agent(played)
        return played

    def _web_chat(self, scenario: Scenario) -> Played:
        """A visit with python-socketio's client, as the widget speaks Rasa's protocol."""
        with Visit(self.server.rasa_url) as visit:
            session_id, _transcript = visit.new_session()
            played = Played(scenario, session_id)
            for text in scenario.messages:
                visit.emit("user_uttered", {"message": text, "session_id": session_id})
                played.replies.append(visit.event("bot_uttered")["text"])
        return played

    def _new_conversation(self, channel: str) -> str:
        number = f"+2217{uuid.uuid4().int % 10**8:08d}"
        return {"rest": f"traffic-{uuid.uuid4().hex[:10]}", "twilio_sms": number,
                "twilio_whatsapp": f"whatsapp:{number}",
                "telegram": f"telegram:{uuid.uuid4().int % 10**9 + 10**8}"}[channel]

    def _say(self, played: Played, text: str, voice_note: bool = False) -> None:
        """One customer message; returns once the assistant answered it."""
        channel, conversation = played.scenario.channel, played.conversation_id
        if channel == "rest":
            played.replies += say(self.server.rasa_url, conversation, text)
            return
        if channel == "telegram":
            chat_id = int(conversation.split(":", 1)[1])
            before = len(self.telegram.to(chat_id))
            assert telegram_post(self.server, self.telegram.update(chat_id, text)).ok
            played.replies = self.telegram.wait_for(chat_id, before + 1)
            return
        before = len(self.twilio.to(conversation))
        media = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME9",
                 "MediaContentType0": "audio/ogg"} if voice_note else {}
        assert deliver(self.server, self.twilio, channel, conversation, text, **media).ok
        played.replies = self.twilio.wait_for(conversation, before + 1)

    def _worked_by_agent(self, played: Played) -> None:
        scenario, conversation = played.scenario, played.conversation_id
        agent = AgentSession(self.server.desk_url, scenario.agent)
        wait_until(lambda: agent.act(conversation, "claim").status_code == 200, timeout=20)
        assert agent.act(conversation, "reply", text="Hello, how can I help?").ok
        assert agent.act(conversation, "return").ok
        if scenario.satisfied is not None:
            asked = wait_until(lambda: self._satisfaction_asked(played), timeout=20)
            assert asked
            self._say(played, SATISFACTION_ANSWERS[(scenario.language, scenario.satisfied)])

    def _satisfaction_asked(self, played: Played) -> bool:
        from tests.e2e.desk_client import collect, responses

        question = responses(played.scenario.language)["utter_ask_satisfaction"]
        if played.scenario.channel == "rest":
            texts = [m.get("text") for m in collect(self.server.rasa_url,
                                                    played.conversation_id, wait=1)]
        else:
            chat_id = int(played.conversation_id.split(":", 1)[1])
            texts = self.telegram.to(chat_id)
        return any(" ".join((t or "").split()) == " ".join(question.split()) for t in texts)

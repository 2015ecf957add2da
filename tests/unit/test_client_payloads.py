"""What web-chat clients send and are sent: intent payloads (`/greet`, rasa-webchat's
initPayload and buttons) only for the configured intents, the page's language, allowed
origins, and messages in the form Rasa's widgets draw."""

import pytest

from teranga.channels.inbound import IntentPayload, intent_payload, prepare_text
from teranga.channels.widget import (
    allowed_origins,
    checked_client_intents,
    for_rasa_widgets,
    opens_with_polling,
    origin_allowed,
    read_user_message,
)

ALLOWED = frozenset({"greet"})


@pytest.mark.parametrize("text, expected", [
    ("/greet", IntentPayload("greet")),
    (' /greet{"language": "wo"} ', IntentPayload("greet", {"language": "wo"})),
    ('/greet{"n": 2, "ok": true}', IntentPayload("greet", {"n": 2, "ok": True})),
    ("/greet@0.5", None),  # no confidence from clients
    ("/greet{not json}", None),
    ('/greet{"a": {"b": 1}}', None),  # entities are flat
    ('/greet["a"]', None),
    ("/ greet", None),
    ("/greet me please", None),
    ("greet", None),
    ("/", None),
])
def test_intent_payloads_are_read_as_rasa_writes_them(text, expected):
    assert intent_payload(text) == expected


def test_an_allowed_payload_stays_a_payload():
    assert prepare_text("/greet", 2000, ALLOWED) == ("/greet", {"intent_payload": "greet"})
    text, notes = prepare_text('/greet{"language":"wo"}', 2000, ALLOWED)
    # A client names an intent, never the entities (slots) the assistant sets itself.
    assert text == "/greet"
    assert notes == {"intent_payload": "greet", "entities_dropped": ["language"]}


@pytest.mark.parametrize("text", ["/restart", "/request_human", "/greet@0.9", "/greet{bad",
                                  "/greet and more"])
def test_any_other_slash_is_escaped_as_before(text):
    escaped, notes = prepare_text(text, 2000, ALLOWED)
    assert escaped == "\u2215" + text[1:] and notes == {"slash_escaped": True}


def test_without_a_list_every_payload_is_text():
    assert prepare_text("/greet", 2000) == ("\u2215greet", {"slash_escaped": True})


def test_a_payload_longer_than_a_message_may_be_is_text():
    text, notes = prepare_text('/greet{"x": "' + "a" * 50 + '"}', 30, ALLOWED)
    assert text.startswith("\u2215") and notes["slash_escaped"]


def test_the_web_chat_notes_the_page_s_language():
    text, metadata = read_user_message(
        {"message": "/greet", "customData": {"language": "WO"}}, 2000, ALLOWED)
    assert text == "/greet"
    assert metadata == {"language": "WO",
                        "teranga": {"intent_payload": "greet", "page_language": "wo"}}
    _text, metadata = read_user_message({"message": "hi", "customData": {"language": "xx-1"}},
                                        2000, ALLOWED)
    assert "teranga" not in metadata
    assert read_user_message({"message": "/greet"}, 2000)[0] == "\u2215greet"


@pytest.mark.parametrize("value", ["greet", [1], ["two words"], {"greet": 1}])
def test_client_intents_must_be_a_list_of_names(value):
    with pytest.raises(ValueError, match="client_intents"):
        checked_client_intents(value)


def test_client_intents_by_default_none():
    assert checked_client_intents(None) == frozenset()
    assert checked_client_intents(["greet"]) == ALLOWED


def test_allowed_origins():
    assert allowed_origins(["*"]) is None
    assert allowed_origins(["https://Shop.example.com/", "http://127.0.0.1:8080"]) == {
        "https://shop.example.com", "http://127.0.0.1:8080"}
    with pytest.raises(ValueError, match="TERANGA_WEBCHAT_ORIGINS: shop.example.com is not"):
        allowed_origins(["shop.example.com"])
    with pytest.raises(ValueError, match="not both"):
        allowed_origins(["*", "https://shop.example.com"])


def test_the_server_s_own_pages_are_always_allowed():
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:5005"}
    listed = {"https://shop.example.com"}
    assert origin_allowed("https://shop.example.com", environ, listed)
    assert origin_allowed("http://127.0.0.1:5005", environ, listed)
    assert origin_allowed(None, environ, listed)  # not a browser's page
    assert not origin_allowed("https://evil.example.com", environ, listed)
    proxied = {**environ, "HTTP_X_FORWARDED_PROTO": "https",
               "HTTP_X_FORWARDED_HOST": "bot.example.com"}
    assert origin_allowed("https://bot.example.com", proxied, set())


def test_sockets_that_open_with_polling_are_rasa_widgets():
    assert opens_with_polling({"QUERY_STRING": "EIO=4&transport=polling&t=Ab1"})
    assert not opens_with_polling({"QUERY_STRING": "EIO=4&transport=websocket"})
    assert not opens_with_polling({})


def test_rasa_widgets_get_rasa_s_keys_alone():
    assert for_rasa_widgets({"text": "Salut"}, "1-0") == {"text": "Salut",
                                                          "metadata": {"id": "1-0"}}
    choices = [{"title": "Oui", "payload": "/greet"}]
    assert for_rasa_widgets({"text": "?", "quick_replies": choices}, "1-1") == {
        "text": "?", "quick_replies": choices, "metadata": {"id": "1-1"}}
    image = {"attachment": {"type": "image", "payload": {"src": "https://x/y.png"}}}
    assert for_rasa_widgets(image, "1-2") == {**image, "metadata": {"id": "1-2"}}
    agent = for_rasa_widgets({"text": "Bonjour", "agent": "fatou",
                              "agent_name": "Fatou *Sarr*"}, "1-3")
    assert agent == {"text": "**Fatou \\*Sarr\\***: Bonjour",
                     "metadata": {"id": "1-3", "agent": "fatou",
                                  "agent_name": "Fatou *Sarr*"}}

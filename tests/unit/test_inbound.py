import json

import pytest

from teranga import conversation_ids
from teranga.channels.inbound import EMPTY_MESSAGE, InboundError, parse_rest_body, prepare_text


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not valid JSON"),
    (b'{"sender": "a", "message": "\xff\xfe"}', "not valid UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (body(message="hi"), '"sender": a conversation id is'),
    (body(sender="", message="hi"), '"sender": a conversation id is'),
    (body(sender="x" * 500, message="hi"), '"sender": a conversation id is'),
    (body(sender="a b/c?", message="hi"), '"sender": a conversation id is'),
    (body(sender="a\nb", message="hi"), '"sender": a conversation id is'),
    (b"[" * 5000, "nested too deeply"),
    (b'{"a":' * 100 + b"1" + b"}" * 100, "nested deeper than"),
    (b'{"sender": "a", "message": ' + b"9" * 5000 + b"}", "too many digits"),
    (body(sender="a", message="hi", metadata={"a": [[[[[[[[[1]]]]]]]]]}), "nested deeper"),
    (body(sender="a", message="hi", metadata={"blob": "x" * 20_000}), "over 16000 bytes"),
    (body(sender="a", message=5), '"message" must be a string'),
    (body(sender="a", message="hi", metadata=[1]), '"metadata" must be'),
])
def test_malformed_requests_get_a_400_with_a_reason(raw, reason):
    with pytest.raises(InboundError) as error:
        parse_rest_body(raw, max_chars=2000)
    assert error.value.status == 400
    assert reason in error.value.reason


def test_huge_body_is_refused_with_413():
    with pytest.raises(InboundError) as error:
        parse_rest_body(body(sender="a", message="x" * 2_000_000), max_chars=2000)
    assert error.value.status == 413


@pytest.mark.parametrize("message", ["", "   ", "\x00\x07", None])
def test_empty_messages_become_the_empty_message_intent(message):
    inbound = parse_rest_body(body(sender="a", message=message), max_chars=2000)
    assert inbound.text == EMPTY_MESSAGE
    assert inbound.metadata["teranga"]["empty"]


def test_long_message_is_cut_at_a_word_boundary_and_kept_whole():
    text = "mon credit a disparu " * 1000
    cut, notes = prepare_text(text, max_chars=100)
    assert len(cut) <= 100 and text.startswith(cut) and not cut.endswith(" ")
    assert notes["full_text"] == text.strip()
    assert notes["original_length"] == len(text.strip())


def test_control_characters_are_removed_and_noted():
    inbound = parse_rest_body(body(sender=" a ", message="bon\x00jour\x1b"), max_chars=2000)
    assert (inbound.sender, inbound.text) == ("a", "bon jour")
    assert inbound.metadata["teranga"] == {"cleaned": True}


def test_customers_cannot_send_rasa_commands():
    text, notes = prepare_text("/restart", max_chars=2000)
    assert not text.startswith("/") and notes["slash_escaped"]


def test_emoji_only_message_is_passed_on():
    assert parse_rest_body(body(sender="a", message="👍"), max_chars=2000).text == "👍"


@pytest.mark.parametrize("metadata", [[], 0, "", False])
def test_metadata_that_is_not_an_object_is_refused(metadata):
    with pytest.raises(InboundError, match='"metadata" must be'):
        parse_rest_body(body(sender="a", message="hi", metadata=metadata), max_chars=2000)


def test_clients_cannot_write_the_channels_own_record():
    forged = {"teranga": {"truncated": True, "full_text": "forged"}, "locale": "fr_SN"}
    inbound = parse_rest_body(body(sender="a", message="bonjour", metadata=forged), 2000)
    assert inbound.metadata == {"locale": "fr_SN"}


@pytest.mark.parametrize("sender, owner", [
    ("whatsapp:+221770032060", "twilio_whatsapp"), ("WhatsApp:+221770032060", "twilio_whatsapp"),
    ("+221770032060", "twilio_sms"), ("telegram:123456", "telegram"),
    (f"web:{'a' * 32}", "socketio"), ("web:anything", "socketio")])
def test_rest_cannot_take_another_channels_conversation(sender, owner):
    with pytest.raises(InboundError) as error:
        parse_rest_body(body(sender=sender, message="hi"), max_chars=2000)
    assert error.value.status == 403 and owner in error.value.reason


def test_lone_surrogates_become_replacement_characters():
    raw = b'{"sender": "a", "message": "bon\\ud800jour", "metadata": {"k\\udfff": "v"}}'
    inbound = parse_rest_body(raw, max_chars=2000)
    assert inbound.text == "bon\ufffdjour" and inbound.metadata["k\ufffd"] == "v"
    inbound.text.encode("utf-8")  # storable


@pytest.mark.parametrize("conversation_id, channel", [
    ("+221770032060", "twilio_sms"), ("whatsapp:+221770032060", "twilio_whatsapp"),
    ("telegram:-100123", "telegram"), (conversation_ids.new_webchat_id(), "socketio"),
    ("awa", "rest"), ("chat-1234", "rest"), ("test-abc@x.y", "rest")])
def test_each_id_belongs_to_exactly_one_channel(conversation_id, channel):
    assert conversation_ids.channel_of(conversation_id) == channel
    assert conversation_ids.belongs_to(conversation_id, channel)
    others = {"twilio_sms", "twilio_whatsapp", "telegram", "socketio", "rest"} - {channel}
    assert not any(conversation_ids.belongs_to(conversation_id, c) for c in others)


@pytest.mark.parametrize("conversation_id, channel", [
    ("+22177abc", "twilio_sms"), ("whatsapp:221", "twilio_whatsapp"),
    ("telegram:abc", "telegram"), ("web:" + "g" * 32, "socketio"), ("web:abc", "socketio")])
def test_malformed_ids_of_a_channel_are_refused_by_it(conversation_id, channel):
    assert conversation_ids.refusal(conversation_id, channel)


def test_a_rest_message_may_carry_the_clients_id():
    assert parse_rest_body(body(sender="a", message="hi"), max_chars=2000).message_id is None
    assert parse_rest_body(body(sender="a", message="hi", message_id="SM1f-2"),
                           max_chars=2000).message_id == "SM1f-2"


@pytest.mark.parametrize("message_id", ["", "a b", "x" * 129, 12, ["a"], "é", "a/../b"])
def test_a_malformed_rest_message_id_gets_a_400(message_id):
    with pytest.raises(InboundError, match="message_id"):
        parse_rest_body(body(sender="a", message="hi", message_id=message_id), max_chars=2000)

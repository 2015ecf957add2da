import json

import pytest

from teranga.channels.inbound import EMPTY_MESSAGE, InboundError, parse_rest_body, prepare_text


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not valid JSON"),
    (b'{"sender": "a", "message": "\xff\xfe"}', "not valid UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (body(message="hi"), '"sender" must be'),
    (body(sender="", message="hi"), '"sender" must be'),
    (body(sender="x" * 500, message="hi"), '"sender" must be'),
    (body(sender="a b/c?", message="hi"), '"sender" must be'),
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

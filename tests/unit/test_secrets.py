"""Secrets (PINs, one-time codes, passwords) found in customers' own words, in five
languages, and removed before anything stores them; look-alikes left alone."""

from __future__ import annotations

import time

import pytest

from teranga.channels.inbound import SECRETS_REMOVED, prepare_text
from teranga.channels.telegram_api import read_update
from teranga.channels.twilio_api import read_webhook
from teranga.channels.widget import customer_entry, read_user_message
from teranga.privacy.found import SECRET
from teranga.privacy.secrets import (
    MASK,
    MAX_SEARCH_CHARS,
    find_secrets,
    remove_secret_mentions,
    remove_secrets,
)

# (message, the secret in it)
SECRETS = [
    ("mon code secret c'est 4582", "4582"),
    ("code pin 1234", "1234"),
    ("mon mdp est Awa2024", "Awa2024"),
    ("PIN yangu ni 1234", "1234"),
    ("namba ya siri 5678", "5678"),
    ("lambar sirri ta 0000", "0000"),
    ("sama code 1234", "1234"),
    ("sama code secret mooy 1234", "1234"),
    ("OTP 883920", "883920"),
    ("le code reçu par SMS est 552211", "552211"),
    ("password: hunter2", "hunter2"),
    ("my pin is 4 5 8 2", "4 5 8 2"),
    ("mon code secret c'est 4582 et mon transfert est bloqué depuis hier", "4582"),
    ("4582 c'est mon code", "4582"),
    ("9911 ni PIN yangu", "9911"),
    ("Mon code: 12 34 56", "12 34 56"),
    ("pin=9876", "9876"),
    ("password: sunshine", "sunshine"),
    ("nenosiri yangu ni Simba2020", "Simba2020"),
    ("kalmar sirri ta Abuja99", "Abuja99"),
    ("voici mon code PIN 0000 svp", "0000"),
    ("The OTP is 123456.", "123456"),
    ("code de confirmation: 774411", "774411"),
    ("MON CODE SECRET EST 2580", "2580"),
    ("bonjour sama code pin mooy 4444 te dama bëgg yónnee xaalis", "4444"),
    ("nambari ya siri yangu ni 3141, nisaidie", "3141"),
    ("lambar pin dina 8080 ne", "8080"),
    ("Mot de passe: «Dakar#77»", "Dakar#77"),
]
LOOK_ALIKES = [
    "j'ai envoyé 5000 F à ma mère",
    "mon code pin 5000 F",
    "tapez *145*6# pour changer le code",
    "#144# ne marche pas",
    "le code ussd *144# ne répond pas",
    "transaction MP240315.1234.A12345",
    "mon numéro est le 77 123 45 67",
    "mon code: +221771234567",
    "mon code c'est 771234567",
    "le 15/03/2024",
    "code pin bloqué depuis 2024",
    "j'ai oublié mon code pin",
    "mon mot de passe est bloqué",
    "code marchand 123456",
    "code promo 2024",
    "mon code pin ne marche pas, j'ai envoyé 10000 FCFA au 771234567",
    "password reset please",
    "Ksh 2500 sent to 0712345678",
    "nimetuma 2000 kwa PIN yangu jana?",
    "I forgot my PIN, I sent 1500 KES",
    "spin 1234",  # "pin" inside another word names nothing
]


@pytest.mark.parametrize(("message", "secret"), SECRETS)
def test_the_secret_itself_is_found_and_removed(message, secret):
    found = find_secrets(message)
    assert [(item.kind, item.of(message)) for item in found] == [(SECRET, secret)]
    cleaned, kinds = remove_secrets(message)
    assert secret not in cleaned and MASK in cleaned and kinds == [SECRET]
    # the words around it stay, so that the rest of the message is still answered
    assert cleaned == message.replace(secret, MASK, 1)


@pytest.mark.parametrize(("message", "secret"), SECRETS)
def test_what_the_dialogue_reads_has_neither_the_secret_nor_the_words_naming_it(message,
                                                                             secret):
    cleaned, kinds = remove_secret_mentions(message)
    assert secret not in cleaned and MASK in cleaned and kinds == [SECRET]


@pytest.mark.parametrize(("message", "read"), [
    ("mon code secret c'est 4582 et mon transfert est bloqué depuis hier",
     f"mon {MASK} et mon transfert est bloqué depuis hier"),
    ("4582 c'est mon code, aidez moi", f"{MASK}, aidez moi"),
    ("PIN yangu ni 1234, pesa niliyotuma haijafika", f"{MASK}, pesa niliyotuma haijafika"),
    ("password: hunter2 merci", f"{MASK} merci"),
    ("j'ai envoyé 5000 F, code marchand 123456", "j'ai envoyé 5000 F, code marchand 123456"),
])
def test_the_rest_of_the_message_is_what_the_dialogue_reads(message, read):
    assert remove_secret_mentions(message)[0] == read


@pytest.mark.parametrize("message", LOOK_ALIKES)
def test_amounts_codes_dates_and_phone_numbers_are_left_alone(message):
    assert find_secrets(message) == []
    assert remove_secrets(message) == (message, [])


def test_several_secrets_in_one_message_are_all_removed():
    message = "PIN 1111, OTP 222222 et mot de passe: Pass2026!"
    cleaned, kinds = remove_secrets(message)
    assert cleaned == f"PIN {MASK}, OTP {MASK} et mot de passe: {MASK}"
    assert kinds == [SECRET]


@pytest.mark.parametrize("value", [None, 1234, b"pin 1234", ["pin 1234"], ""])
def test_anything_that_is_not_text_has_no_secret(value):
    assert find_secrets(value) == []


@pytest.mark.parametrize("message", [
    "pin " * 250_000,  # a name repeated with no value, 1 MB: bounded work per name
    "code " + "1 " * 400_000,
    "\ud800pin\x00 1234 \u202e",
    "٤٥٨٢ pin",  # digits of another script
    "code \u0301" * 1000 + " 1234",
], ids=["pin x 250000", "code 1 1 1...", "surrogate and controls", "arabic digits",
        "combining accents"])
def test_hostile_input_never_raises_and_stays_fast(message):
    started = time.perf_counter()
    cleaned, _kinds = remove_secrets(message)
    assert time.perf_counter() - started < 2.0
    assert "1234" not in cleaned


def test_beyond_the_window_read_in_context_every_number_is_masked():
    message = "🙂" * MAX_SEARCH_CHARS + " code secret 4321 et 5000 F"
    cleaned, kinds = remove_secrets(message)
    assert cleaned.endswith(f" code secret {MASK} et {MASK} F") and kinds == [SECRET]
    edge = "x" * (MAX_SEARCH_CHARS - 8) + " pin 12 34 56 ok"  # across the window's edge
    assert remove_secrets(edge)[0].endswith(f" pin {MASK} {MASK} {MASK} ok")


def test_a_typical_message_takes_well_under_a_millisecond():
    message = "mon code secret c'est 4582 et mon transfert de 5000 F est bloqué depuis hier"
    started = time.perf_counter()
    for _ in range(1000):
        remove_secrets(message)
    assert (time.perf_counter() - started) / 1000 < 0.001


def test_the_channels_clean_up_removes_the_secret_and_notes_only_its_kind():
    text, notes = prepare_text("mon code secret c'est 4582 et mon transfert est bloqué", 500)
    assert text == f"mon {MASK} et mon transfert est bloqué"
    assert notes[SECRETS_REMOVED] == [SECRET]
    assert "4582" not in repr(notes)


def test_a_long_message_keeps_no_secret_in_its_full_text():
    text, notes = prepare_text("OTP 883920 " + "blabla " * 100, 50)
    assert notes["truncated"] and "883920" not in notes["full_text"] + text


def test_every_channel_parser_removes_the_secret():
    twilio = read_webhook({"MessageSid": "SM1", "From": "+221771234567",
                           "Body": "PIN yangu ni 7391"}, 500, "twilio_sms")
    assert "7391" not in twilio.text and twilio.metadata["teranga"][SECRETS_REMOVED]
    telegram = read_update({"update_id": 5, "message": {
        "message_id": 9, "chat": {"id": 42, "type": "private"}, "date": 0,
        "text": "lambar sirri ta 7392"}}, 500)
    assert "7392" not in telegram.text and telegram.metadata["teranga"][SECRETS_REMOVED]
    text, metadata = read_user_message({"message": "sama code mooy 7393"}, 500)
    assert "7393" not in text and metadata["teranga"][SECRETS_REMOVED]
    entry = customer_entry(text, metadata, {"shown": "sama code mooy 7393"}, None)
    assert "7393" not in entry["text"]


"""The entities the NLU puts on each message, in the five languages as customers write them
(the desk's facts share the finder: tests/unit/test_desk_context.py)."""

from __future__ import annotations

import pytest

from teranga.nlu.entities import ENTITY_KINDS, amount_value, entities

XOF, KES, NGN = "XOF", "KES", "NGN"

# (message, the entities expected: (entity, value), in order)
MESSAGES = [
    # French
    ("combien ça coûte d'envoyer 50 000 F au Mali avec SunuCash ?",
     [("amount", {"value": 50000.0, "unit": XOF}), ("country", "Mali"),
      ("operator", "SunuCash")]),
    ("mon transfert TX8F3K2L9Q de 15.000f vers Bamako a échoué hier",
     [("transaction_id", "TX8F3K2L9Q"), ("amount", {"value": 15000.0, "unit": XOF}),
      ("town", "Bamako"), ("date", "hier")]),
    ("j'ai tapé *145*1# mais rien", [("ussd_code", "*145*1#")]),
    # English
    ("how much to send $200 to my brother in Côte d'Ivoire",
     [("amount", {"value": 200.0, "unit": "USD"}), ("country", "Côte d'Ivoire")]),
    ("does my bundle work in Ghana? I use MTN there",
     [("country", "Ghana"), ("operator", "MTN")]),
    # Wolof
    ("Bonjour, dama bëgg transférer xaalis ci Mali, ñaata lay jar?", [("country", "Mali")]),
    ("yonnee naa 500 dërëm ci Wave démb", [("amount", {"value": 2500.0, "unit": XOF}),
                                           ("operator", "Wave"), ("date", "démb")]),
    ("sama mag bu nekk Ndakaaru dafa bëgg yónnee 10 000 FCFA Touba",
     [("town", "Dakar"), ("amount", {"value": 10000.0, "unit": XOF}), ("town", "Touba")]),
    # Swahili
    ("nimetuma KSh 500 kwa M-Pesa kutoka Dar es Salaam jana",
     [("amount", {"value": 500.0, "unit": KES}), ("operator", "M-Pesa"),
      ("town", "Dar es Salaam"), ("date", "jana")]),
    ("nikisafiri Uganda naweza kutumia sunucash?", [("country", "Uganda"),
                                                   ("operator", "SunuCash")]),
    # Hausa
    ("na tura ₦2000 daga Kano zuwa Najeriya ta Airtel Money",
     [("amount", {"value": 2000.0, "unit": NGN}), ("town", "Kano"), ("country", "Nigeria"),
      ("operator", "Airtel Money")]),
    ("mu gana a ofishin ku gobe", []),  # "gana": to meet, not Ghana
    # Phone numbers stay with the desk: the answers do not need them.
    ("rappelez-moi au 77 123 45 67", []),
]


@pytest.mark.parametrize(("message", "expected"), MESSAGES, ids=range(len(MESSAGES)))
def test_entities_of_realistic_messages(message, expected):
    found = entities(message)
    assert [(e["entity"], e["value"]) for e in found] == expected
    for entity in found:
        assert entity["entity"] in ENTITY_KINDS
        assert 0 <= entity["start"] < entity["end"] <= len(message)


@pytest.mark.parametrize(("written", "value", "unit"), [
    ("25 000 F", 25000, XOF), ("15.000f", 15000, XOF), ("Ksh.1500", 1500, KES),
    ("2k bob", 2000, KES), ("₦3000", 3000, NGN), ("N3,000", 3000, NGN),
    ("shilingi 2,500", 2500, "shilling"), ("1500,50 euros", 1500.5, "EUR"),
])
def test_amounts_are_numbers_with_their_currency(written, value, unit):
    assert amount_value(written) == {"value": value, "unit": unit}


@pytest.mark.parametrize("hostile", ["ﷺ" * 10_000, "Mali " * 200_000, "*1" * 100_000,
                                     "\ud800 Dakar " * 3_000, None, 12345])
def test_hostile_messages_give_bounded_entities(hostile):
    found = entities(hostile)  # type: ignore[arg-type]
    assert len(found) <= 25

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
    # the value before the name, with the words people put between them
    ("is 9044 my default pin?", "9044"),
    ("jai mis 5712 comme code secret", "5712"),
    ("na 5353 be my pin", "5353"),
    ("est-ce que 7007 peut etre mon nouveau code secret ?", "7007"),
    # names of a secret in Hausa and Swahili, possessives included, and SMS abbreviations
    ("kalmar sirrina Binta#2019", "Binta#2019"),
    ("kalmar wucewa dina Jos2024$", "Jos2024$"),
    ("password dina Sokoto_2022! ta ki", "Sokoto_2022!"),
    ("lambar tabbatarwa ta 550 208", "550 208"),
    ("siri yangu ni 1597 usiseme", "1597"),
    ("namba yangu ya siri ni 7330", "7330"),
    ("nimetumiwa msimbo 512 800", "512 800"),
    ("mon mdp c Fanta2000! aidez moi", "Fanta2000!"),
    ("my pwd is Segun2019", "Segun2019"),
    ("sama kod secret 4 1 8 8", "4 1 8 8"),
    ("pini yangu ni 4103", "4103"),
    ("lambobin sirri na 4 7 4 7", "4 7 4 7"),
    ("mot de pass: Traore@2020", "Traore@2020"),
    ("neno la siri jipya ni Njeri@2025", "Njeri@2025"),
    ("kalmar sirri ta sabuwa Gombe#11", "Gombe#11"),
    ("an aiko min lambar 602 119 don tabbatarwa", "602 119"),
    # the answer after the customer's own question
    ("pin yangu? ni 5128", "5128"),
    # a one-time code shown in two halves, or typed digit by digit with dashes
    ("here is the otp 207-913", "207-913"),
    ("code they sent: 3-8-1-2-9-0", "3-8-1-2-9-0"),
    # any short phrase between a value and the name after it
    ("is 5521 the right pin for my wallet?", "5521"),
    ("6712 c'est bien mon code ?", "6712"),
    ("4455 ndax mooy sama code bi?", "4455"),
    ("nadhani 5930 ndio namba ya siri", "5930"),
    ("wai 7060 ba pin dina ba ne?", "7060"),
    ("1964 na my pin o, no tell anybody", "1964"),  # a year with a verb: a PIN
    # a noun after the name, a possessive after "siri", a long way from name to value
    ("the secret pin number for my card is 3319 please block it", "3319"),
    ("my atm pin code number na 2284", "2284"),
    ("siri yangu ya mpesa ni 2727", "2727"),
    ("code bi ma jot ci sms bi mooy 772 045", "772 045"),
    # the value as the next sentence
    ("le code reçu. 663 018. il ne marche pas", "663 018"),
    # digits written as words, in the five languages
    ("my pin is seven two nine one", "seven two nine one"),
    ("pin is double four one nine", "double four one nine"),
    ("code secret: quatre cinq huit deux", "quatre cinq huit deux"),
    ("pin yangu ni tisa sita nne mbili", "tisa sita nne mbili"),
    ("pin dina biyar takwas uku tara", "biyar takwas uku tara"),
    ("sama code secret mooy ñett benn ñaar juróom", "ñett benn ñaar juróom"),
    ("code secret bi mooy juróom ñaar ñett benn", "juróom ñaar ñett benn"),  # 7 is 5 2
    # a password after words of no known kind, when it looks like one
    ("mot de passe Wave: Moussa!2021", "Moussa!2021"),
    ("neno la siri la app ni Wanjiku_90", "Wanjiku_90"),
    ("kalmar sirri ta app din Musa#2020 ce", "Musa#2020"),
    ("my password is now Lagos@2025", "Lagos@2025"),
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
    # a year or an amount before a secret's name is not its value
    "since 2019 my pin is blocked",
    "I paid 2000 as my pin reset fee",
    "depuis 2020 comme code secret j'utilise le meme",
    "tangu 2018 pin yangu imefungwa",
    "na tura 5000 don tabbatarwa",  # I sent 5000 for verification
    # an amount named after the secret's name, a payment code, "my secret is that..."
    "pin reset done, new balance 4500",
    "msimbo wa malipo 400200 haufanyi",
    "siri yangu ni kwamba nimetuma 5000 kwa kaka",
    # dashes: only a code in two halves of three digits is a value
    "pin blocked on 12-03-2024",
    # a question ends the search unless the answer follows it
    "pin imefungwa? nimetuma 2000 kwa mama",
    "ref 459-220 for the reversal",
    # before a secret's name: a number tied to a purpose, a source, a money verb, a call,
    # or a year without a verb
    "yónnee naa 5000 ngir code bi",
    "they took 1500 from me, my pin was not even used",
    "2500 deducted, pin not changed",
    "asusun banki dina, an cire 5000 ba tare da pin ba",
    "i called 1414 about my pin and nobody answered",
    "2019 my pin was set by the agent",
    # after it: an order or a transaction id, a year, an amount the customer sent
    "i did not get the code, my order is 448120",
    "jotuma code bi, sama commande mooy 448120",
    "ban samu lambar tabbatarwa ba, odar 558120",
    "sama code secret dafa blocké ci 2025",
    "sama code bi dafa bañ, 5000 laa yónnee",
    "my pin is blocked. 2000 was taken",  # a number opening a sentence, not an answer
    # fewer than four digits in words, words that are not a password
    "I tried one two three times my pin",
    "code bi ñett yoon laa ko dugal",
    "mot de passe oublié: aidez moi",
    "password reset on 12/03/2024",
    "password for my email is awa@gmail.com",
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


@pytest.mark.parametrize(("message", "old", "new"), [
    ("ancien code secret 2233 nouveau 5566", "2233", "5566"),
    ("sama pin bu njekk 1010 bu bees 2020", "1010", "2020"),
    ("pin ya zamani 3131 mpya 4242", "3131", "4242"),
    ("tsohuwar pin 3814 sabuwa 4183", "3814", "4183"),
    ("my pin was 1111, the new one is 2222", "1111", "2222"),
    ("c koi mon code? 2938 ou 2983?", "2938", "2983"),  # unsure which one it is
    # corrections and hesitations: a value of the same length, on either side
    ("my pin is 4545 sorry 4455", "4545", "4455"),
    ("samahani, pin ni 3377 sio 3737", "3377", "3737"),
    ("yi hakuri, pin dina 4521 ne ba 4512 ba", "4521", "4512"),
    ("sama code 2424 la, baal ma 2244", "2424", "2244"),
    ("code 1357 ou peut-être 1375", "1357", "1375"),
    ("xamuma ndax 2281 walla 2218 mooy sama code", "2281", "2218"),
    # a value on each side of the name
    ("c'est 3902 mon code pas 3920", "3902", "3920"),
])
def test_a_new_pin_given_after_the_old_one_is_found_too(message, old, new):
    assert [item.of(message) for item in find_secrets(message)] == [old, new]
    cleaned, _kinds = remove_secret_mentions(message)
    assert old not in cleaned and new not in cleaned


def test_a_number_joined_without_a_correction_is_not_a_second_value():
    message = "pin 4455 and 2000 was deducted"
    assert [item.of(message) for item in find_secrets(message)] == ["4455"]


def test_a_password_after_a_pin_is_found_without_the_words_before_it():
    message = "code pin 1122 et le mot de passe de l'appli Diallo77"
    assert [item.of(message) for item in find_secrets(message)] == ["1122", "Diallo77"]


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



@pytest.mark.parametrize(("message", "secrets"), [
    # a message that names a secret: its other PIN-like numbers and passwords are secrets too
    ("they sent me two codes, 552910 and 118347, which is right", ["552910", "118347"]),
    ("nimepata codes mbili 402177 na 993015", ["402177", "993015"]),
    ("mdp oublié, j'ai essayé Dakar2021 puis dakar2021!", ["Dakar2021", "dakar2021!"]),
    ("otp yi 07-19-44 dafa jeex", ["07-19-44"]),  # three pairs that cannot be a date
    ("sama codebi 5 1 7 0 la", ["5 1 7 0"]),
    ("nimepokea nambari ya uthibitisho 604 381 jana", ["604 381"]),
    ("siri ya airtel money: 8 2 4 6", ["8 2 4 6"]),
    # ...unless something marks them as something else
    ("my pin is 4417, till 512340 took my money", ["4417"]),
    ("pin reset fee was 1500, is that normal? my pin is 3092", ["3092"]),
    ("i called 1414 about my pin", []),
    ("2019 my pin was set by the agent", []),
    ("yónnee naa 5000 ngir code bi", []),
    ("i did not get the code, my order is 448120", []),
    ("my pin was blocked on 12-03-24", []),
    ("password reset failed, ref QK71HX9P2M", []),
    ("code pin bi 6 chiffres la wala 4 chiffres?", []),
])
def test_a_message_naming_a_secret_has_its_other_codes_masked(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    ("sama kood mooy 4 0 7 2", ["4 0 7 2"]),  # Wolof spelling
    ("baatu jall bi mooy Ndar2019", ["Ndar2019"]),  # Wolof: password
    ("pasiwedi yangu ni Mombasa.Raha9", ["Mombasa.Raha9"]),  # Swahili loan word
    ("sirrin katin ATM dina 71-39 ne", ["71-39"]),  # a PIN typed as two pairs
    ("i typed my pin 5521 2 times and it locked", ["5521"]),  # the 2 counts the tries
    ("my pin was changed on 05-11 at 14:20", []),  # two pairs that read as a date
    ("pword: kofi4life", ["kofi4life"]),  # an SMS spelling of password
    ("code d'erreur 4015 quand je paie", []),  # an error's code, not a secret
    ("sama pin bu njëkk 7711 la, bu bees bi 1990", ["7711", "1990"]),  # a new PIN, year-shaped
    ("nimempa agent pin 3391 kimakosa", ["3391"]),  # the PIN given to an agent is a PIN
    ("agent code 304512 alinisaidia", []),  # the agent's own number is not
    ("j'ai tapé 6230 3 fois pour le code", ["6230"]),  # the 3 counts the tries
    ("code secret 1964 pardon je voulais dire 1946", ["1964", "1946"]),  # a correction
    ("my pinn na 4 8 1 2 abeg", ["4 8 1 2"]),  # a doubled letter
    ("mn cod secret 3 0 5 7 march pa", ["3 0 5 7"]),  # "code" without its e
    ("pw: Kumasi.Gold7", ["Kumasi.Gold7"]),
    ("tap 552918 to verify your number", ["552918"]),
    # a number typed again and again is a PIN, named or not
    ("nilikosea 6621 mara tatu, akaunti imefungwa", ["6621"]),
    ("na saka 7305 sau biyu yanzu an kulle", ["7305"]),
    ("nimetuma 2000 mara tatu bila mafanikio", []),  # an amount sent three times
    ("i called 3 times since 2021", []),
])
def test_names_spellings_and_shapes_seen_in_the_held_out_blocks(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    # a PIN corrected or hesitated over: the same digits in another order, named or not
    ("nimeandika 7140 samahani nilimaanisha 7104", ["7140", "7104"]),
    ("ban sani ba ko 3829 ne ko 3892", ["3829", "3892"]),
    ("I sent 5000 sorry 500 to my brother", []),  # an amount corrected by another amount
    ("my pn na 6612", ["6612"]),  # an SMS spelling
    ("otp-550918 never worked", ["550918"]),  # a dash after the name is a separator
    ("PIN 4471 KES 2,500 not received", ["4471"]),  # the currency is the next number's
    ("ma facture 2023-11 est fausse, mon code pin marche", []),  # a dash after a digit joins
])
def test_corrections_spellings_and_separators_seen_in_block_8(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    # codes counted or named in the plural: the numbers after the count are what was counted
    ("two otps came: 118230 and 554019, which one do i use", ["118230", "554019"]),
    ("msimbo ulitumwa mara 2: 318266 na 901744", ["318266", "901744"]),
    ("I try am 2 times: 6307 and 6370", ["6307", "6370"]),
    # a value given "as" the secret, whatever verb brought it; a fee paid "as" one is not
    ("they sent 883 201 as verification, i entered it and nothing", ["883 201"]),
    ("on m'a envoye 618 302 comme code, ca dit expire", ["618 302"]),
    ("depuis 2018 comme client, mon code secret est bloque", []),
    # shapes people type: double spaces, spaced dashes, three pairs after the name
    ("code confidentiel: 2  6  0  4", ["2  6  0  4"]),
    ("voici le code: 661 - 093", ["661 - 093"]),
    ("mon code de confirmation est arrive: 71-08-26", ["71-08-26"]),
    ("code confirmation bi ñu yónnee 81-47-20 la", ["81-47-20"]),
    ("my otp expired on 12-03-24", []),  # a recent date after the name
    ("PIN4582 is blocked", ["4582"]),  # glued to its name
    ("pin#4582", ["4582"]),
    # a number typed or handed over is a PIN, named or not; a round amount is not
    ("j ai tape 8852 au guichet et il a avalé la carte", ["8852"]),
    ("sai na fada masa 4538 😭", ["4538"]),
    ("I put 5000 but the pin screen froze", []),
    # names: a generic "secret", a login pass, hedges before a password
    ("mon secret c'est 7391", ["7391"]),
    ("sama kumpa mooy 8812", ["8812"]),
    ("yo my login pass is mama4life and dem don hack am", ["mama4life"]),
    ("bjr jai oublié mon mdp, je crois c'était Seydou!Bko", ["Seydou!Bko"]),
    ("siri yangu ya app ni Zawadi*mombasa", ["Zawadi*mombasa"]),
    ("est ce que 1964 peut etre mon code? c'est l'annee de naissance de papa", ["1964"]),
    # not secrets: a denied value, a user name, the rest of a phone number
    ("PIN yangu si 1234, ni 6543", ["6543"]),
    ("mon code secret nest pas 0000, c'est 6158", ["6158"]),
    ("password: Tunde.okoro#99 and username tunde99", ["Tunde.okoro#99"]),
    ("mon numero malien +223 65 48 20 17, mon code secret 3502 est bloqué", ["3502"]),
])
def test_counts_shapes_verbs_and_denials_seen_in_blocks_10_to_12(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    # digits written as words before the name
    ("three four nine one is my pin pls reset", ["three four nine one"]),
    ("quatre deux huit un c mon code, il est bloqué", ["quatre deux huit un"]),
    ("benn ñaar ñett ñeent la, waaw sama code la", ["benn ñaar ñett ñeent"]),
    ("one two three four times i tried, to send money", []),  # no name after them
    # "pass" alone: only for words of letters and digits
    ("msee nimesahau pass, ni Kevo254 ama kevo_254 sijui", ["Kevo254", "kevo_254"]),
    ("pass internet 1500 ne marche pas", []),
    # Hausa's other word for verification
    ("lambar tantancewa 508-319, don Allah ku duba", ["508-319"]),
    # a value denied right after its name is not the secret; a shuffle of the PIN stays
    ("the pin is not 1234 i never use that one", []),
    ("mon code pin cé pa 1111, jai jamai mi ça", []),
    ("sama code du 0000, duma ko jëfandikoo", []),
    ("PIN dina ba 1234 ba ne, kar ku rude", []),
    ("c'est 3902 mon code pas 3920", ["3902", "3920"]),
    ("sorry pin is 4455 not 4545", ["4455", "4545"]),
])
def test_spelled_values_loose_names_and_denials_seen_in_block_17(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    # a value denied before its name; asked about, it is not denied
    ("1234 is not my pin o, why is the app saying i entered 1234?", []),
    ("0000 n'est pas mon code, pourquoi le système me le propose?", []),
    ("0000 ce n'est pas mon code, c'est le code par défaut non?", []),
    ("1111 du sama code, lan moo tax mu koy wax?", []),
    ("0000 sio pin yangu, kwa nini inaniambia hivyo?", []),
    ("1234 ba PIN dina ba ne, me yasa yake nunawa?", []),
    ("wai 7060 ba pin dina ba ne?", ["7060"]),
    # a number marked by the noun before it, over words for "number"
    ("L'agent n° 302145 m'a dit que mon code secret 1144 est bloqué", ["1144"]),
    ("Agent mai lamba 203311 yace PIN dina 6090 ya kulle", ["6090"]),
    ("Jina langu ni Wanjiru Kamau, ID 28471935, namba ya siri 4702", ["4702"]),
    # a sending verb after a comma does not make the value an amount
    ("Je m'appelle Aminata Diallo, code 3348, j'ai envoyé 25.000 FCFA par erreur", ["3348"]),
    ("code bi 5000 laa yónnee", []),
    # spelled digits typed
    ("Dama dugal ñeent juróom-ñaar benn ñaar te mu ne faux", ["ñeent juróom-ñaar benn ñaar"]),
])
def test_denials_nouns_and_spelled_values_seen_in_blocks_18_to_20(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets


@pytest.mark.parametrize(("message", "secrets"), [
    # codes in two halves of other lengths; dates, months and ranges are not
    ("hey the sms said your code is 4471-88 but the app asks for 6 digits??", ["4471-88"]),
    ("the code they sent is 4471-0932 right? it has 8 digits", ["4471-0932"]),
    ("my pin was changed in 2023-11, the code came 11-2023", []),
    ("code pin: the fee is 1500-2000 at the agent", []),
    # Hausa's hooked letter in a digit word; Swahili "siri ni"
    ("PIN dina: biyar uku tara ɗaya", ["biyar uku tara ɗaya"]),
    ("siri ni 8824 usimwambie mtu 😂", ["8824"]),
    # a user name after its possessive
    ("Username yangu ni kamau254, nataka kubadilisha password", []),
])
def test_halves_digit_words_and_user_names_seen_in_blocks_21_to_23(message, secrets):
    assert [found.of(message) for found in find_secrets(message)] == secrets

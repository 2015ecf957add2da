"""Secrets in customers' messages: PINs, one-time codes, passwords, in the customers' own
words ("mon code secret c'est 4582", "PIN yangu ni 1234", "lambar sirri ta 0000", "sama code
mooy 1234", "password: hunter2"), so that they are removed before anything stores them.

A secret is found by its context: a word that names one ("code secret", "namba ya siri"),
then, within a few words, the value itself, or the value first and any short phrase before
the name ("4582 c'est bien mon code ?", "4455 ndax mooy sama code bi?"). The value may be
digits, digits written as words in the five languages ("quatre cinq huit deux", "tisa sita
nne mbili"), or a password; a value of the same length given as a correction next to it
("4545 sorry 4455") is one too. A bare number is never a secret, and words say what else a
number is: amounts (5000 F, "2500 deducted", "5000 laa yónnee"), USSD codes (*145*6#), dates
and years, phone numbers, order and transaction ids ("my order is 448120") are left alone.
Only the value is reported, not the words around it, so that the customer's question stays
readable for the bot and the agent.
"""

from __future__ import annotations

import functools
import logging
import re

from teranga.privacy.found import SECRET, Found
from teranga.privacy.secret_names import SecretNames, secret_names

logger = logging.getLogger(__name__)
_broken_names_said: list[bool] = []

MASK = "••••"
Span = tuple[int, int]  # text[start:end]
# Words between the name of a secret and its value ("code bi ma jot ci sms bi mooy 772045":
# the code I got by SMS is).
MAX_GAP_WORDS = 8
# Words between a value and the name after it ("4481 that's what i use as pin").
MAX_GAP_WORDS_BEFORE = 5
# How far after the name the value may start, in characters: bounds the work per name.
MAX_GAP_CHARS = 60
MIN_DIGITS, MAX_DIGITS = 4, 8  # PINs have 4 to 6, one-time codes 4 to 8; phones have more
MAX_PASSWORD_CHARS = 64
# Words of no known kind a password's name may be followed by, when the value then looks like
# a password ("mot de passe de l'appli Diallo77", "kalmar sirri ta app din Musa#2020").
MAX_PASSWORD_UNKNOWN_WORDS = 2
# The most of a text read in context: more than the channels pass on to Rasa (2000
# characters by default), and no more, so that a message of thousands of "pin pin pin..."
# costs milliseconds (each name costs a few microseconds, its window is bounded). Beyond it
# (a request body may hold 1 MB, kept whole in the metadata's `full_text`), every word with a
# digit in it is masked, blindly but cheaply: nothing past the window can hold a PIN either.
MAX_SEARCH_CHARS = 4000

_E = "[eéèêEÉÈÊ]"
# Names of a secret whose value is digits: PIN, OTP, secret or confirmation codes.
_CODE_NAMES = [
    # "codes", and Wolof's "code bi" written as one word: "sama codebi"
    rf"(?:codes?|code(?:bi|yi)|cod|kod|kood)(?:\s+(?:pin|otp|secr{_E}te?|confidentiel|bu\s+kumpa|kumpa|"
    r"sirri|siri))?",
    rf"code\s+(?:d['’]\s*|de\s+)?(?:confirmation|validation|v{_E}rification|s{_E}curit{_E}|"
    rf"retrait|acc{_E}s|activation)",
    r"(?:pin+s?|pini|otps?)(?:\s+(?:code|number|namba|nambari|lambar))?",  # "pinn", "otps"
    r"(?:verification|security|secret|confirmation|one[\s-]time|withdrawal)\s+(?:code|pin)",
    r"one[\s-]time\s+password",
    # namba yangu ya siri: my PIN; nambari ya uthibitisho: confirmation number
    r"(?:namba|nambari)\s+(?:yangu\s+)?(?:ya\s+)?(?:siri|uthibitisho|kuthibitisha|kuingia)",
    r"msimbo(?:\s+(?:wa\s+)?(?:siri|uthibitisho))?",  # Swahili for "code"
    # lambar sirrina: my PIN; lambar tabbatarwa: verification number
    r"(?:lambar|lamba|lambobin)\s+(?:sirri|siri|tsaro|pin|tabbatarwa|tabbatar|tantancewa|"
    r"tantance)(?:na|nka|nki|nmu|nsu)?",
    r"verify|v[eé]rifier|thibitisha|verification|v[eé]rification",  # "enter 739215 to verify"
    r"(?<=don\s)tabbatarwa",  # "lambar 602 119 don tabbatarwa": the number for verifying
    r"cvv|cvc",
]
# Names of a secret whose value may be any word: passwords.
_PASSWORD_NAMES = [
    # pasword, paswad, pword, p/word, pswd
    r"mot\s+de\s+pass?e?|mdp|pas+w(?:o|a)?r?d|pwd|pswd|pw|p/?word|passcode|pass\s+word",
    r"neno\s+(?:la\s+)?siri|nenosiri|pasiwedi|paswedi",  # Swahili, and its loan word
    r"baatu\s+j[aà]ll",  # Wolof: the word that lets you pass
    r"kalmar\s+(?:sirri|siri|wucewa)(?:na|nka|nki|nmu|nsu|n)?",  # kalmar sirrina: my password
    # "secret" alone names a code or a password: "sirrin wallet dina 63-18" (Hausa: the
    # secret of my wallet), "siri yangu (ya mpesa) ni 1597", "siri yangu ya app ni Zawadi*7"
    r"sirrin",
    r"siri(?=\s+(?:yangu|langu|yako|lako|ya|ni)(?![^\W_])|\s*:)",  # "siri ni 8824"
    # "login pass", "app pass": "pass" alone is also a bundle or a bus ticket
    r"(?:login|app|account|compte|wifi|email|mail)\s+pass",
]
# "code" that names something else: a merchant's, a promotion's, a USSD code...
_NOT_A_SECRET_CODE = (
    r"(?!\s+(?:d[eu]\s+|d['’]\s*|de\s+la\s+|de\s+l['’]\s*|of\s+(?:the\s+)?|wa\s+)?"
    r"(?:marchand|merchant|promo|postal|post|ussd|agent|client|customer|pays|country|"
    r"erreur|error|transaction|produit|product|parrainage|r[eé]f[eé]rence|reference|swift|"
    r"bic|iban|qr|bancaire|banque|bank|court|short|source|zip|muamala|malipo|biashara)\b)")
# "agent code 304512", "merchant code": the number of a shop, not a secret.
_NOT_A_SECRET_BEFORE = re.compile(
    r"(?<![^\W_])(?:agent|merchant|marchand|till|paybill|promo|ussd|short|postal|zip|country|area|"
    r"swift|bank|product|reference|error)[\s:]*$", re.IGNORECASE)
# Names that stay a secret's after those words: "nilimpa agent pin 2486" (I gave the agent
# my PIN) is a PIN; "agent code 304512" is a shop's number.
_ALWAYS_A_SECRET = re.compile(r"(?<![^\W_])(?:pin+|pini|otp|cvv|cvc)(?![^\W_])", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def _name_patterns(names: SecretNames) -> tuple[re.Pattern, re.Pattern | None]:
    """The names of a secret (the rules' and the names file's), and the file's phrases that
    name something else; built again only when the file changes."""
    passwords = [*_PASSWORD_NAMES, *([names.password] if names.password else [])]
    codes = [*_CODE_NAMES, *([names.code] if names.code else [])]
    name = re.compile(
        r"(?<![^\W_])(?:(?P<password>" + "|".join(passwords) + r")|(?P<code>"
        + "|".join(codes) + r"))(?![^\W_])" + _NOT_A_SECRET_CODE, re.IGNORECASE)
    other = re.compile(r"(?<![^\W_])(?:" + names.not_a_secret + r")(?![^\W_])",
                       re.IGNORECASE) if names.not_a_secret else None
    return name, other

_TOKEN = re.compile(r"\S+")
_ANY_DIGIT = re.compile(r"\d")
_EMAIL_SHAPED = re.compile(r"[^@\s]+@[^@\s]+\.[^\W\d_]{2,}")
_WORD_WITH_DIGIT = re.compile(r"\S*\d\S*")
# What may surround a value without being part of it: quotes, brackets, punctuation.
_EDGE = "\"'«»“”‘’()[]{}<>:;,.!?¿¡=-–—*_~`"
_AFTER_PASSWORD = "\"'«»“”‘’()[]{}<>:;,.?"
_EXPLICIT = re.compile(r"[:=]")  # "password: hunter2", "pin=1234"
_SENTENCE_END = re.compile(r"[.!?\n]$")
_ENDS_SENTENCE = re.compile(r"\s*(?:[.!?,;\n]|$)")
_DIGITS_ONLY = re.compile(r"[\d \u00a0-]+")
# Digits, alone or spaced the way people type them ("4 5 8 2", "45 82"), with nothing
# glued to either end that would make them an amount, a code or a date.
_DIGIT_RUN = re.compile(r"\d(?:[ \u00a0]{0,2}\d)*")
# A one-time code shown in two halves by the sender's app ("207-913", "4471-0932", "4471-88")
# or typed digit by digit ("3-8-1-2"); not three parts or more: dates and references
# ("12-03-2024"); two halves that read as a date or a range are left (`_could_be_a_date`).
_DASHED_CODE = re.compile(r"(?:\d{2,4}[ \u00a0]?-[ \u00a0]?\d{2,4}|\d(?:-\d){3,7})(?![\d-])")
_GLUED_AFTER = re.compile(r"[\w*#/@€$£₦₵%]|[.,:/-]\d")
# A dash after a word is a separator ("otp-882610"); after a digit it joins ("2023-11").
_GLUED_BEFORE = re.compile(r"(?:[\w*#/+@€$£₦₵.,]|(?<![^\W\d_])-)$")
_CURRENCY_AFTER = re.compile(
    r"[ \u00a0]*(?:f|fr|frs|francs?|fcfa|cfa|xof|xaf|ksh|kes|tsh|tzs|ugx|ngn|naira|ghs|"
    r"cedis?|shillings?|sh|usd|eur|euros?|dollars?|mille|k|milles?)(?![^\W_])"
    r"(?![ \u00a0]*\d)",  # "PIN 3342 KES 2,500": the currency is the next number's
    re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(
    r"(?<![^\W_])(?:ksh|kes|tsh|tzs|ugx|ngn|ghs|n|cfa|fcfa|xof|usd)\.?[ \u00a0]*$", re.IGNORECASE)
# A number the customer says they sent, paid or withdrew is an amount: "5000 laa yónnee"
# (5000 is what I sent), "5000 j'ai envoyé", "2000 nimetuma", "2000 na tura"; not after a
# comma: "code 3348, j'ai envoyé 25.000 FCFA".
_SENT_OR_PAID_AFTER = re.compile(
    r"\s+(?:(?:laa|naa|nga|la|na|i|je|j['’]\s*ai|nime|nili)\s*)(?:yónnee|yonnee|yobbu|"
    r"fey|tura|biya|cire|sent|paid|withdrew|envoy[eé]|pay[eé]|retir[eé]|tuma|lipa|toa)"
    r"(?![^\W_])", re.IGNORECASE)
# Verbs of money moving: a number next to them is an amount ("2500 deducted, pin not changed").
_MONEY_VERBS = frozenset("""
    sent envoyé envoye took taken deducted debited withdrawn cire cira prélevé preleve
    retiré retire tura tuma nimetuma nilituma yónnee yonnee""".split())
# Words after which a number is a time, an amount, a count, a phone number or a reference,
# not the secret named before ("code pin bloqué depuis 2024", "I did not get the code, my
# order is 448120"). Sending verbs are not among them: "the code they sent me is 552211".
_GAP_STOPS = frozenset("""
    depuis since tangu tun ago dès des jusqu until avant après apres before after
    retirer payer payé paye pay paid withdraw withdrew kulipa biya fey
    montant amount kiasi numéro numero number
    balance solde salio fee fees frais price prix bei farashi kwamba""".split()) | frozenset("""
    times fois mara sau yoon""".split()) | frozenset("""
    order commande oda odar transaction txn ref reference référence ticket invoice
    facture receipt muamala till paybill meter compteur""".split())
# Words that count tries or codes: the number before them is a count, the numbers after them
# are what was counted ("I tried 2 times: 6307 and 6370", "mara 2: 318266 na 901744").
_COUNT_WORDS = frozenset("times fois mara sau yoon".split())
# Words right before a number that make it a year: "bloqué en 2024", "blocké ci 2025".
_YEAR_BEFORE = frozenset("in en ci an year mwaka année annee".split())
# Nouns that may follow the name itself, before the value ("secret pin number for my card is
# 3319", "numéro de code secret c'est 2956"); elsewhere "number" announces a phone.
_NAME_NOUNS = frozenset("number numéro numero no".split())
# Words that may stand between a password's name and its value.
_PASSWORD_FILLERS = frozenset("""
    est c'est c’est cest c is was it's its ni ne ta mooy moy mo la le l' my mon ma sama
    yangu wangu langu lako yako changu na shine ce voici here nouveau nouvelle new actuel
    current ndio ndiyo dina nawa tawa jipya mpya sabuwa sabuwar itace ita
    ni: ne: est: is: da dafa di bi ba
    je j' i crois pense think guess believe c'était cétait cetait était etait nadhani
    nafikiri ina ganin tunanin xalaat defe""".split())
# Words that may start a sentence that gives the value asked about in the one before ("pin
# yangu? ni 5128", "they sent an otp. it is 448 120").
_BEFORE_FILLERS = frozenset("""
    c'est c’est cest est is it it's its ni ndio ndiyo mooy moy mo ne shine ta ce voici
    mon ma my sama yangu wangu la le the that's
    as be was comme kama peut etre être sera new old default current nouveau nouvelle
    ancien ancienne mpya sabuwar don""".split())
# Between a value and the name after it any short phrase may stand ("is 5521 the right pin",
# "1234 c'est bien mon code ?", "4455 ndax mooy sama code bi?", "7060 ba pin dina ba ne?"),
# except words that tie the number to something else: a purpose or a destination ("5000 ngir
# code bi": 5000 for the code), another clause ("and", "but"), a time, an amount, a count.
_BREAKS_LINK_BEFORE = _GAP_STOPS | _MONEY_VERBS | frozenset("""
    to for pour à au aux kwa ga zuwa ngir ili into from kutoka daga
    and et ak kuma but mais amma lakini waaye then puis""".split())
# After a secret's value, a second one: a PIN change given in one breath ("ancien code
# secret 2233 nouveau 5566", "pin ya zamani 3131 mpya 4242"), or a customer unsure which
# it is ("2938 ou 2983 ?").
_THEN_NEW_VALUE = re.compile(
    r"[\s,;:]+(?:(?:and|et|na|ak|da|kuma|then|puis)[\s,;:]+)?(?:(?:the|my|mon|le|la|ma|sama|"
    r"yangu)[\s,;:]+)?(?:new|nouveau|nouvelle|mpya|sabuwa|sabuwar|sabon|bu\s+bees)"
    r"(?:[\s,;:=]+(?:one|pin|code|secret|est|c'est|is|ni|ne|ce|mooy|la|bi)){0,2}[\s,;:=]+(?=\d)"
    r"|[ \u00a0]+(?:or|ou|au|ama|walla|wala|ko)[ \u00a0]+(?=\d)",
    re.IGNORECASE)
# Words after which a number before a secret's name is a year, an amount, a time or a number
# called ("since 2019 my pin", "i called 1414 about my pin", "na tura 5000 don tabbatarwa":
# I sent 5000 for verification).
_STOPS_BEFORE_VALUE = _GAP_STOPS | _MONEY_VERBS | frozenset("""
    in en ci mwaka year an année annee send yonne call called appel appelé appele piga
    nimepiga kira dial composer tapez tape at à saa karfe vers around""".split())
# Words that say what a number before a secret's name is ("1964 na my pin", "5521 is
# definitely my pin"): without one, a year is a year ("2019 my pin was set by the agent").
_LINKING_VERBS = frozenset("""
    c'est c’est cest est était etait is was it's its ni ndio ndiyo ilikuwa mooy moy mo ne ce
    la na be as comme kama shine itace sera etre être kuwa zama""".split())
# A value sent alone: the words that may come with it ("it's 4582", "ni 4582", "mooy 4582").
_LONGEST_VALUE_ALONE = 40
_BEFORE_A_VALUE = frozenset("""
    it's its it is c'est cest c’est est ni ne ce mooy moy la na is pin code =
    """.split())
# Digits in one run, as typed ("4 5 8 2", "45 82"), and two-part codes ("207-913"): the whole
# run is judged, so that the end of a phone number ("77 123 45 67") is never taken alone.
_NUMBER = re.compile(r"(?<![\w*#/+@€$£₦₵.,-])\d(?:[ \u00a0]{0,2}\d|[ \u00a0]?-[ \u00a0]?\d)*")
# Words right before a number elsewhere in a message that make it something else than a secret.
_MARKS_BEFORE = (_GAP_STOPS - _COUNT_WORDS) | _MONEY_VERBS | frozenset("""
    nimelipa nilipa nimetoa payé envoyé call called appelle appelé appeler piga nimepiga
    kira woo""".split())
# Nouns that mark a number one word further on too ("till no 512340", "compte n° 5512").
_NOUNS_BEFORE = frozenset("""
    agent merchant marchand account acct compte akaunti asusu id facture bill order commande
    oda odar transaction txn ref reference référence ticket invoice receipt muamala till
    paybill meter compteur fee fees frais balance solde salio price prix amount montant
    kiasi bei farashi""".split())
# Words for "number" between a noun and its number ("agent n° 302145", "agent mai lamba").
_NUMBER_WORDS = frozenset("n° no no. num number numéro numero mai lamba lambar namba ya".split())
_ELISION = re.compile(r"^[ldj]['’]")  # "l'agent", "d'agent"
# After a value, within two words, how many times it was typed: "9127 sau uku", "2280 3
# times", "5521 entered three times", "4380 nimeingiza mara tatu".
_TYPED_TIMES = re.compile(
    r"(?:[\s,]+[^\W\d][\w'’]*){0,2}[\s,]+(?:\d\s+|\w+\s+)?(?:times|fois|mara|sau|yoon)(?![^\W_])",
    re.IGNORECASE)
_COUNTED_AFTER = re.compile(r"[ \u00a0]\d$")  # one digit at a run's end: maybe a count
_TWO_HALVES = re.compile(r"(\d{2,4})[ \u00a0]?-[ \u00a0]?(\d{2,4})")
_PAIRS = re.compile(r"(\d\d)-(\d\d)-(\d\d)")
_COUNT_AFTER = re.compile(
    r"[\s]*(?:digits?|chiffres?|tarakimu|lambobi|characters?|caract[eè]res?|times|fois|"
    r"mara|sau|yoon)(?![^\W_])", re.IGNORECASE)
# Transaction ids and references, which look like passwords: "MP240611.1532.A12345",
# "QK71HX9P2M", "TX-88231".
_REFERENCE_SHAPED = re.compile(r"[A-Z0-9]{8,}|[A-Z]{2,4}[-.]?\d[\w.-]*|\d[\d.-]*[A-Z][\w.-]*")
# Verbs of typing a number or handing it over; the value follows ("i told him 1029", "ma
# jox ko 8185", "na ba shi 204118", "nimeingiza 3359", "je lui ai donne 3387").
_TYPED_OR_GIVEN = re.compile(
    r"(?<![^\W_])(?:typed|type|entered|enter|input|put|tap[eé]e?|tapais|saisi|compos[eé]|"
    r"nimeweka|niliweka|weka|nimeingiza|niliingiza|ingiza|saka|dugal|"
    r"(?:told|gave)\s+(?:him|her|them|the\s+agent)|nilimpa|nimempa|nimemtumia|"
    r"(?:fada|gaya)\s+(?:masa|mata|musu)|ba\s+(?:shi|ta|su)|"
    r"lui\s+ai\s+(?:dit|donn[eé]e?)|(?:wax|jox)\s+ko)[\s:]+", re.IGNORECASE)
# A value typed against its name: "PIN4582", "pin#4582", "OTP:552019".
_GLUED_TO_NAME = re.compile(
    r"(?<![^\W_])(?:pins?|otps?|codes?|mdp|pwd)[#:=]?(?P<value>\d{4,8})(?![\w,.]\d|\w)",
    re.IGNORECASE)
# Thousands, as amounts are said without their currency ("I put 5000 but the pin screen
# froze"); a PIN is rarely one, and "0000" is not one of them.
_ROUND_AMOUNT = re.compile(r"[1-9]\d?(?:[ \u00a0]?0){3,}")
# "pass" alone names a password only for words of letters and digits ("nimesahau pass, ni
# Kevo254"): it also names bundles ("pass internet 1500").
_PASSWORD_NAMED_LOOSELY = re.compile(r"(?<![^\W_])pass[e']?(?![^\W_])", re.IGNORECASE)
# A value denied right before the right one: "si 1234, ni 6543", "ba 1234 ba ce, 9157 ce".
_DENIED_BEFORE = re.compile(
    r"(?<![^\W_])(?:not|isn['’]?t|pas|pa|si|sio|siyo|ba|du|hapana)[\s,:]+$", re.IGNORECASE)
# The rest of a clause that is a question: a value asked about is not denied.
_ASKED = re.compile(r"[^.!,;\n?]{0,40}\?")
_DENIED_AFTER = re.compile(
    r"[\s,]+(?:is\s+not|isn['’]?t|was\s+not|wasn['’]?t|(?:ce\s+)?n['’]?\s*est\s+pas|"
    r"nest\s+pas|c['’]?\s*est\s+pas|du|sio|siyo|si|ba|not)(?![^\W_])", re.IGNORECASE)
# How far before the negation the name may end: "the pin is not", "mon code pin cé pa".
_DENIAL_AFTER_NAME = 12
# The rest of a phone number after its country code: "+223 65 48 20 17".
_COUNTRY_CODE_BEFORE = re.compile(r"(?:\+|\b00)\d{1,3}[ \u00a0.-]?$")
# A user name, which is not secret: "password: Tunde.okoro#99 and username tunde99".
_USERNAME_BEFORE = re.compile(
    r"(?<![^\W_])(?:user\s*name|user\s*id|login\s*id|identifiant|nom\s+d['’]\s*utilisateur|"
    r"pseudo|jina\s+la\s+mtumiaji|sunan\s+mai\s+amfani)"
    r"(?:\s+(?:yangu|langu|wangu|dina|na|bi|mooy))?[\s:=\"'«“]*(?:is|est|ni|ne|c'est|shine)?"
    r"[\s:=\"'«“]*$", re.IGNORECASE)
# Words before a date: a date after a secret's name is when it happened, not the secret.
_DATE_BEFORE = frozenset("le du on date tarehe ranar expire expires expiry valid au".split())
_RECENT_YEAR = 35  # two-digit years up to 2035
# "sent 618 302 as code": the value is given as the secret, whatever verb brought it
_AS_WORDS = frozenset("as comme kama matsayin".split())
_SENT_VERBS = frozenset("sent envoyé envoye yónnee yonnee tuma tura".split())
_YEAR_SHAPED = re.compile(r"(?:19[5-9]|20[0-3])\d")
_LAST_WORD = re.compile(r"([^\W\d]+)[\s,]+$")
_VALUE_BEFORE = re.compile(
    r"(?<![^\s\"'«(])(?P<value>\d(?:[ \u00a0]?\d)*)[\"'»)]?(?P<gap>(?:[ \u00a0,:]+[^\W\d]"
    rf"[\w'’]*){{0,{MAX_GAP_WORDS_BEFORE}}})[ \u00a0,:]+$")
# Digits written as words, in the five languages ("four three two one", "quatre cinq huit
# deux", "tisa sita nne mbili", "biyar takwas uku tara", "ñett benn ñaar juróom"): at least
# four in a row, as a PIN has. Wolof says 6 to 9 in two words ("juróom benn": five one), so
# words are counted, not digits.
_DIGIT_WORDS = """
    zero oh one two three four five six seven eight nine double triple
    zéro un deux trois quatre cinq sept huit neuf
    sifuri moja mbili tatu nne tano sita saba nane tisa
    sifiri sifili daya ɗaya biyu uku hudu huɗu biyar shida bakwai takwas tara
    benn ñaar naar ñett nett ñeent neent juróom juroom""".split()
_DIGIT_WORD = "(?:" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + ")"
_SPELLED_DIGITS = re.compile(
    rf"(?<![^\W_]){_DIGIT_WORD}(?:[ \u00a0,-]+{_DIGIT_WORD}){{{MIN_DIGITS - 1},15}}(?![^\W_])",
    re.IGNORECASE)
# A second value right after or before a secret's value, of the same length: a correction or
# a hesitation ("4545 sorry 4455", "3377 sio 3737", "4521 ne ba 4512 ba", "2424 la, baal ma
# 2244", "2281 walla 2218 mooy sama code"), linked by at most three words, one of which says
# "or", "not", "sorry", "I mean", "now" or "new" ("pin 4455 and 2000 was deducted" is not one).
_CORRECTION_WORDS = frozenset("""
    or ou au ama walla wala ko not pas sio si ba du no non hapana sorry pardon samahani baal
    hakuri mean dire yaani actually plutôt plutot kumbe oops maybe perhaps peut-être
    peut-etre labda wataƙila watakila now maintenant sasa yanzu léegi leegi new nouveau
    nouvelle mpya sabuwa sabuwar bees""".split())
_COMPANION_WORDS = _CORRECTION_WORDS | frozenset("""
    ma yi i je veux and et na ak da kuma then puis la ce ne ni est is c'est mooy bu""".split())
_COMPANION_GAP = r"(?:[\s,;:.!]+[^\W\d][\w'’-]*){0,3}[\s,;:.!]+"
_COMPANION_AFTER = re.compile(rf"(?P<gap>{_COMPANION_GAP})(?=\d)")
_COMPANION_BEFORE = re.compile(
    rf"(?<![^\s\"'«(])(?P<value>\d(?:[ \u00a0]?\d)*)(?P<gap>{_COMPANION_GAP})$")


def find_secrets(text: str) -> list[Found]:
    """The secrets in `text`, each as the span of its value, in order, without overlaps.
    Never raises: anything that is not text has none."""
    return [Found(SECRET, start, end) for start, end in _merged(
        [value for _mention, value in _secrets(text)])]


def remove_secrets(text: str) -> tuple[str, list[str]]:
    """`text` with each secret replaced by `MASK`, and the kinds removed (none: `[]`).
    Past MAX_SEARCH_CHARS, every word with a digit is masked."""
    return _masked(text, [value for _mention, value in _secrets(text)])


def remove_secret_mentions(text: str) -> tuple[str, list[str]]:
    """`text` with each secret and the words that name it ("code secret c'est 4582",
    "4582 c'est mon code") replaced by `MASK`, and the kinds removed. What the channels
    give the dialogue: "mon code secret c'est 4582 et mon transfert est bloqué" read as
    "mon •••• et mon transfert est bloqué" is a failed transfer, not a PIN question."""
    return _masked(text, [mention for mention, _value in _secrets(text)])


def names_a_secret(text: str) -> bool:
    """Whether `text` names a PIN, a code or a password ("my pin?", "nataka kubadilisha pin
    yangu"), with or without its value."""
    return isinstance(text, str) and bool(_names(text[:MAX_SEARCH_CHARS]))


def a_value_alone(text: str) -> bool:
    """Whether `text` is nothing but what a secret looks like, as a customer sends it right
    after naming one: "4582", "4 5 8 2.", "c'est 4582", "ni 4582", "Awa@2024"."""
    if not isinstance(text, str) or len(text) > _LONGEST_VALUE_ALONE:
        return False
    words = [w for w in text.strip().split() if w.lower().strip(_EDGE) not in _BEFORE_A_VALUE]
    value = " ".join(words).strip(_EDGE + " ")
    if not value:
        return False
    digits = _digit_value(value, 0)
    return bool(digits and digits[1] == len(value)) or (
        len(words) == 1 and _looks_like_password(value) and bool(_ANY_DIGIT.search(value))
        and any(c.isalpha() for c in value))


def _secrets(text: str) -> list[tuple[Span, Span]]:
    """Each secret in the first MAX_SEARCH_CHARS of `text`: (its mention, name and value
    together; its value)."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_SEARCH_CHARS]
    found: list[tuple[Span, Span]] = []
    names = _names(text)
    for name in names:
        if value := _value_after(text, name.end(), name.group("password") is not None):
            found.append(((name.start(), value[1]), value))
            if new_value := _new_value_after(text, value[1]):
                found.append(((value[1], new_value[1]), new_value))
        # both sides: "c'est 3902 mon code pas 3920"
        if value := _value_before(text, name.start()):
            found.append(((value[0], name.end()), value))
    found += [companion for _mention, value in found for companion in _companions(text, value)]
    numbers = [(run, _digit_value(text, run.start())) for run in _NUMBER.finditer(text)]
    found += _elsewhere_in_the_message(text, numbers, found) if names else []
    if any(name.group("password") for name in names) or _PASSWORD_NAMED_LOOSELY.search(text):
        found += _password_like_words(text, found)
    found += _typed_again_and_again(text, numbers, found)
    found += _typed_or_given(text, found)
    found += [(glued.span(), glued.span("value")) for glued in _GLUED_TO_NAME.finditer(text)]
    return _without_denied(text, names, found + _corrected(text, numbers, found))


def _corrected(text: str, numbers: list[tuple[re.Match, Span | None]],
               found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """Two numbers close together with the same digits in another order, named or not:
    a PIN corrected or hesitated over ("niliweka 9031 samahani nilimaanisha 9013", "ban san
    ko 6051 ne ko 6015 ba"). An amount or a reference is corrected by another number, not
    by a shuffle of its own digits."""
    values = [value for _run, value in numbers
              if value and not _marked_as_something_else(text, value)]
    taken = [value for _mention, value in found]
    more = []
    for first, second in zip(values, values[1:], strict=False):
        digits = [_digits(text, span) for span in (first, second)]
        if digits[0] != digits[1] and sorted(digits[0]) == sorted(digits[1]) \
                and second[0] - first[1] <= MAX_GAP_CHARS:
            more += [(value, value) for value in (first, second)
                     if not _overlaps(value, taken)]
    return more


def _typed_again_and_again(text: str, numbers: list[tuple[re.Match, Span | None]],
                           found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """A number the customer typed several times, named or not: "4380 nimeingiza mara
    tatu, akaunti imefungwa", "i typed 5521 three times": what is typed again and again
    until the account locks is a PIN."""
    taken = [value for _mention, value in found]
    more = []
    for _run, value in numbers:
        if value and not _overlaps(value, taken) and _TYPED_TIMES.match(text, value[1]) \
                and not _a_year(text, value) and not _marked_as_something_else(text, value):
            more.append((value, value))
    return more


def _typed_or_given(text: str, found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """A PIN-like number right after a verb of typing it or handing it over, named or not:
    "j ai tape 8852 au guichet et il a avalé la carte", "sai na fada masa 4538" (so I told
    him 4538). Amounts typed are round ("i put 5000"): a number ending in 00 is left."""
    taken = [value for _mention, value in found]
    more = []
    for verb in _TYPED_OR_GIVEN.finditer(text):
        value = _digit_value(text, verb.end())
        if value and (_digit_count(text, value) > 6 or text[value[0]:value[1]].endswith("00")):
            continue
        value = value or (spelled.span() if (spelled := _SPELLED_DIGITS.match(text, verb.end()))
                          else None)
        if value and not _overlaps(value, taken):
            more.append(((verb.start(), value[1]), value))
    return more


def _without_denied(text: str, names: list[re.Match],
                    found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """Without a value the customer says is not their secret, right after its name or
    before the right one: "the pin is not 1234 i never use that one", "sama code du 0000",
    "PIN yangu si 1234, ni 6543", "mon code secret nest pas 0000, c'est 6158"."""
    values = sorted({value for _mention, value in found})
    denied = set()
    for index, value in enumerate(values):
        if _ASKED.match(text, value[1]):
            continue  # "wai 7060 ba pin dina ba ne?": isn't 7060 my PIN?
        negation = _DENIED_BEFORE.search(text, max(0, value[0] - 20), value[0])
        if negation is None:
            if (denial := _DENIED_AFTER.match(text, value[1])) and any(
                    0 <= name.start() - denial.end() <= _DENIAL_AFTER_NAME for name in names):
                denied.add(value)  # "1234 is not my pin", "0000 sio pin yangu"
            continue
        right_one_after = index + 1 < len(values) and values[index + 1][0] - value[1] <= 30
        named_before = any(0 <= negation.start() - name.end() <= _DENIAL_AFTER_NAME
                           and not _overlaps((name.end(), negation.start()), values)
                           for name in names)
        if (right_one_after or named_before) and not _shuffles_another(text, value, values):
            denied.add(value)
    # the same digits said again ("1234 is not my pin, why does it say i entered 1234?")
    denied_digits = {_digits(text, value) for value in denied}
    return [(mention, value) for mention, value in found
            if _digits(text, value) not in denied_digits]


def _digits(text: str, span: Span) -> str:
    return re.sub(r"\D", "", text[span[0]:span[1]])


def _shuffles_another(text: str, value: Span, values: list[Span]) -> bool:
    """Whether `value` has the digits of another value in another order: "c'est 3902 mon
    code pas 3920" denies a typo of the PIN, which gives its digits away."""
    digits = sorted(_digits(text, value))
    return any(other != value and sorted(_digits(text, other)) == digits
               for other in values)


def _names(text: str) -> list[re.Match]:
    """The words naming a secret, but not a shop's or a promotion's code ("agent code")."""
    name_pattern, other_pattern = _name_patterns(_current_names())
    others = [m.span() for m in other_pattern.finditer(text)] if other_pattern else []
    return [name for name in name_pattern.finditer(text)
            if not _overlaps(name.span(), others) and (
                _ALWAYS_A_SECRET.search(name.group())
                or not _NOT_A_SECRET_BEFORE.search(text, max(0, name.start() - 12),
                                                   name.start()))]


def _current_names() -> SecretNames:
    """The names file as it is now; if it cannot be read, the rules' own names, said once."""
    try:
        return secret_names()
    except (OSError, ValueError) as error:
        if not _broken_names_said:
            # said first: the log line is itself masked, which reads the names again
            _broken_names_said.append(True)
            logger.error("Secrets are found with the built-in names only: %s", error)
        return SecretNames("", "", "")


def _elsewhere_in_the_message(text: str, numbers: list[tuple[re.Match, Span | None]],
                              found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """In a message that names a secret, every other PIN-like number that nothing marks as
    something else: the customers' word orders are too many for the rules above ("i
    received 2 codes: 118820 and 440972"), and a PIN left in the store cannot be taken back,
    whereas a masked reference only costs the agent a question."""
    taken = [value for _mention, value in found]
    more = []
    for run, digits in numbers:
        value = digits or _code_not_a_date(run)
        whole = value and (value[1] >= run.end() or _COUNT_AFTER.match(text, run.end()))
        if whole and not _overlaps(value, taken) and not _a_year(text, value) \
                and not _ROUND_AMOUNT.fullmatch(text, *value) \
                and not _marked_as_something_else(text, value):
            more.append((value, value))
    return more


def _password_like_words(text: str, found: list[tuple[Span, Span]]) -> list[tuple[Span, Span]]:
    """In a message that names a password, every word of letters and digits that is not a
    reference or a user name: "mdp oublié, j'ai essayé Dakar2021 puis dakar2021!"."""
    taken = [value for _mention, value in found]
    more = []
    for token in _TOKEN.finditer(text):
        core = token.group().strip(_EDGE)
        start = token.start() + token.group().find(core) if core else token.start()
        span = _password_span(token.group(), start, token.end()) if core else None
        if span and _looks_like_password(core) and _ANY_DIGIT.search(core) \
                and any(c.isalpha() for c in core) and not _overlaps(span, taken) \
                and not _REFERENCE_SHAPED.fullmatch(core) \
                and not _USERNAME_BEFORE.search(text, 0, token.start()):
            more.append((span, span))
    return more


def _could_be_a_date(value: str) -> bool:
    """Two halves that read as a day and a month ("05-11"), a year and a month ("2023-11",
    "11-2023") or a range of amounts ("1500-2000"): a PIN typed "58-20" cannot."""
    halves = _TWO_HALVES.fullmatch(value)
    if halves is None:
        return False
    first, second = halves.groups()
    if first.endswith("00") and second.endswith("00"):
        return True
    if len(first) == len(second) == 2:
        return _day_and_month(int(first), int(second)) or _day_and_month(int(second), int(first))
    return bool(_YEAR_SHAPED.fullmatch(first) and 1 <= int(second) <= 12
                or _YEAR_SHAPED.fullmatch(second) and 1 <= int(first) <= 12)


def _a_year(text: str, value: Span) -> bool:
    """A year-shaped number ("2019 my pin was set"), unless the customer corrects a value
    with it ("1975 pardon je voulais dire 1957")."""
    if not _YEAR_SHAPED.fullmatch(text[value[0]:value[1]]):
        return False
    before = text[max(0, value[0] - 40):value[0]].lower().replace(",", " ").split()[-3:]
    return not _CORRECTION_WORDS.intersection(word.strip(_EDGE) for word in before)


def _code_not_a_date(run: re.Match) -> Span | None:
    """Three pairs of digits that cannot be a date ("07-19-44", "93-04-61"): a one-time code
    as some apps show it. "12-03-24" is a date."""
    pairs = _PAIRS.fullmatch(run.group())
    if pairs is None:
        return None
    first, second, third = (int(pair) for pair in pairs.groups())
    could_be_date = _day_and_month(first, second) or _day_and_month(third, second)
    return None if could_be_date else run.span()


def _pairs_after_name(text: str, start: int, word_before: str) -> Span | None:
    """Three pairs right after a secret's name ("code ni 27-04-61", "code de confirmation
    est arrivé: 71-08-26"): the code, unless they read as a recent date ("expire le
    12-03-24")."""
    pairs = _PAIRS.match(text, start)
    if pairs is None or word_before in _DATE_BEFORE or _GLUED_AFTER.match(text, pairs.end()):
        return None
    first, second, third = (int(pair) for pair in pairs.groups())
    recent = _day_and_month(first, second) and third <= _RECENT_YEAR or (
        first <= _RECENT_YEAR and _day_and_month(third, second))
    return None if recent else pairs.span()


def _day_and_month(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _overlaps(span: Span, spans: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _marked_as_something_else(text: str, value: Span) -> bool:
    """A number that the two words before it, or the word after it, make a reference, an
    amount or a phone number ("till 512340", "since 2019", "2500 deducted"). A count word
    after it ("9127 sau uku": 9127, three times) says how often the value was typed."""
    before = [word.strip(_EDGE) for word in
              text[max(0, value[0] - 40):value[0]].lower().replace(",", " ").split()[-3:]]
    if before and before[-1] in _MARKS_BEFORE | _NOUNS_BEFORE:
        return True
    # "l'agent n° 302145", "agent mai lamba 203311": the noun, then words for "number"
    if any(_ELISION.sub("", word) in _NOUNS_BEFORE and _NUMBER_WORDS.issuperset(before[i + 1:])
           for i, word in enumerate(before)):
        return True
    before = before[-2:]
    # "fee was 1500", "my order is 448120", "yónnee naa 5000"; not "code bi ñu ma yonnee
    # mooy 845227", where the verb tells where the code came from
    if len(before) == 2 and (before[0] in _NOUNS_BEFORE or (
            before[0] in _MARKS_BEFORE and before[1] not in _LINKING_VERBS)):
        return True
    after = text[value[1]:value[1] + 30].lower().split()[:1]
    return bool(after) and after[0].strip(_EDGE) in _MONEY_VERBS  # "2500 deducted"


def _masked(text: str, spans: list[Span]) -> tuple[str, list[str]]:
    if not isinstance(text, str):
        return "", []
    if len(text) > MAX_SEARCH_CHARS:
        # from a word boundary well inside the window, so that no PIN spans the edge
        edge = text.rfind(" ", 0, MAX_SEARCH_CHARS - MAX_GAP_CHARS) + 1
        spans = spans + [m.span() for m in _WORD_WITH_DIGIT.finditer(text, edge)]
    if not spans:
        return text, []
    pieces, position = [], 0
    for start, end in _merged(spans):
        pieces += [text[position:start], MASK]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), [SECRET]


def _value_after(text: str, position: int, password: bool) -> tuple[int, int] | None:
    """The value following a secret's name at `position`, within a few words."""
    window_end = min(len(text), position + MAX_GAP_CHARS + MAX_PASSWORD_CHARS)
    if not (password or _ANY_DIGIT.search(text, position, window_end)
            or _SPELLED_DIGITS.search(text, position, window_end)):
        return None  # the common case, checked at C speed: "j'ai oublié mon code pin"
    explicit = after_sentence = False
    word = ""
    unknown_words = 0  # words a password's name may be followed by: "mot de passe Wave:"
    for index, token in enumerate(_TOKEN.finditer(text, position, window_end)):
        if index > MAX_GAP_WORDS or token.start() - position > MAX_GAP_CHARS:
            return None
        raw = token.group()
        core_start = token.start() + len(raw) - len(raw.lstrip(_EDGE))
        core = raw.strip(_EDGE)
        if not core:  # ":" or "=" alone
            explicit = explicit or bool(_EXPLICIT.search(raw))
            continue
        if any(c.isdigit() for c in core):
            if word in _YEAR_BEFORE:
                return None  # "sama code secret dafa blocké ci 2025"
            digits = _digit_value(text, core_start) or _pairs_after_name(text, core_start, word)
            if digits and after_sentence and not _ENDS_SENTENCE.match(text, digits[1]):
                return None  # "my pin is blocked. 2000 was taken": not a bare answer
            if digits:
                return digits
            if password and len(core) <= MAX_PASSWORD_CHARS and not raw.startswith(("*", "#")):
                if unknown_words and not _mixes_letters_and_others(core):
                    return None  # "password reset on 12/03/2024"
                return _password_span(raw, core_start, token.end())
            return None
        if spelled := _SPELLED_DIGITS.match(text, core_start):
            return spelled.span()
        word = core.lower()
        if password:
            if word in _PASSWORD_FILLERS or raw.lower() in _PASSWORD_FILLERS:
                explicit = explicit or bool(_EXPLICIT.search(raw))
            elif explicit or _EXPLICIT.search(raw[:len(raw) - len(raw.lstrip(_EDGE))]):
                # "password: sunshine": a colon says the next word is the value
                return (core_start, core_start + len(core)) if len(core) >= 4 else None
            elif _looks_like_password(core):
                return _password_span(raw, core_start, token.end())
            elif word in _GAP_STOPS or unknown_words == MAX_PASSWORD_UNKNOWN_WORDS:
                return None
            else:
                unknown_words += 1  # its colon says nothing: "mot de passe oublié: aidez moi"
                continue
        elif (word in _GAP_STOPS and not (index == 0 and word in _NAME_NOUNS)
              or after_sentence and word not in _BEFORE_FILLERS):
            return None
        explicit = explicit or bool(_EXPLICIT.search(raw))
        if _SENTENCE_END.search(raw):
            if after_sentence:
                return None
            # the value may open the next sentence: "pin yangu? ni 5128", "le code reçu. 663018"
            after_sentence = True
    return None


def _companions(text: str, value: Span) -> list[tuple[Span, Span]]:
    """Values of the same length next to a secret's value: "4545 sorry 4455"."""
    start, end = value
    if not _DIGITS_ONLY.fullmatch(text, start, end):
        return []  # a password or spelled digits
    found = []
    after = _COMPANION_AFTER.match(text, end)
    if after and _only_companion_words(after.group("gap")):
        companion = _digit_value(text, after.end())
        if companion and _digit_count(text, companion) == _digit_count(text, value):
            found.append(((start, companion[1]), companion))
    head = text[max(0, start - MAX_GAP_CHARS):start]
    before = _COMPANION_BEFORE.search(head)
    if before and _only_companion_words(before.group("gap")):
        companion = _digit_value(text, start - len(head) + before.start("value"))
        if companion and _digit_count(text, companion) == _digit_count(text, value):
            found.append(((companion[0], end), companion))
    return found


def _digit_count(text: str, span: Span) -> int:
    return sum(c.isdigit() for c in text[span[0]:span[1]])


def _only_companion_words(gap: str) -> bool:
    words = [word for word in (raw.strip(_EDGE).lower() for raw in gap.split()) if word]
    return (all(word in _COMPANION_WORDS for word in words)
            and not _CORRECTION_WORDS.isdisjoint(words))


def _new_value_after(text: str, position: int) -> tuple[int, int] | None:
    """The new PIN given right after an old one: "2233 nouveau 5566"."""
    then_new = _THEN_NEW_VALUE.match(text, position)
    return _digit_value(text, then_new.end()) if then_new else None


def _digit_value(text: str, start: int) -> tuple[int, int] | None:
    """The span of a PIN-like number starting at `start`: 4 to 8 digits, not an amount,
    a USSD code, a date or a phone number."""
    run = _DASHED_CODE.match(text, start) or _DIGIT_RUN.match(text, start)
    if run is None or _could_be_a_date(run.group()):
        return None
    end = run.end()
    if (counted := _COUNTED_AFTER.search(run.group())) and _COUNT_AFTER.match(text, end):
        end = run.start() + counted.start()  # "2280 3 times": the 3 counts the tries
    count = sum(c.isdigit() for c in text[start:end])
    if not MIN_DIGITS <= count <= MAX_DIGITS:
        return None
    if (_GLUED_AFTER.match(text, end) or _CURRENCY_AFTER.match(text, end)
            or _SENT_OR_PAID_AFTER.match(text, end)):
        return None
    before = text[max(0, start - 8):start]
    if _GLUED_BEFORE.search(before) or _CURRENCY_BEFORE.search(before) \
            or _COUNTRY_CODE_BEFORE.search(before):
        return None
    return start, end


def _password_span(raw: str, core_start: int, token_end: int) -> tuple[int, int]:
    """A password's span: symbols at its end are part of it ("Pass2026!"), the quotes and
    punctuation that end a sentence or a quotation are not."""
    return core_start, token_end - (len(raw) - len(raw.rstrip(_AFTER_PASSWORD)))


def _mixes_letters_and_others(word: str) -> bool:
    """Letters and digits or symbols, not an e-mail address: "Diallo77", "Moussa!2021"."""
    return (any(c.isalpha() for c in word) and any(not c.isalpha() for c in word)
            and not _EMAIL_SHAPED.fullmatch(word))


def _looks_like_password(word: str) -> bool:
    """A word no language has: letters mixed with digits or symbols, or capitals inside."""
    if not 4 <= len(word) <= MAX_PASSWORD_CHARS or _EMAIL_SHAPED.fullmatch(word):
        return False
    has_other = any(not c.isalpha() and c not in "'’-" for c in word)  # not "l'appli"
    inner_capital = any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)
    return has_other or inner_capital


def _value_before(text: str, name_start: int) -> tuple[int, int] | None:
    """A value just before a secret's name: "4582 c'est mon code", "1234 ni PIN yangu"."""
    head = text[max(0, name_start - MAX_GAP_CHARS):name_start]
    if not _ANY_DIGIT.search(head):
        return _spelled_before(head, name_start - len(head))
    match = _VALUE_BEFORE.search(head)
    if match is None:
        return None
    gap_words = match.group("gap").replace(",", " ").replace(":", " ").lower().split()
    if any(word in _BREAKS_LINK_BEFORE for word in gap_words):
        return None
    if _YEAR_SHAPED.fullmatch(match.group("value")) and not _LINKING_VERBS.intersection(
            gap_words):
        return None
    start = name_start - len(head) + match.start("value")
    value = _digit_value(text, start)
    word_before = _LAST_WORD.search(text, max(0, start - 20), start)
    word_before = word_before.group(1).lower() if word_before else ""
    if value is None or (word_before in _SENT_VERBS and gap_words and gap_words[0] in _AS_WORDS
                         and _BEFORE_FILLERS.issuperset(gap_words[1:])):
        return value  # "they sent 618 302 as code": given as the secret, whatever the verb
    if word_before in _STOPS_BEFORE_VALUE or _marked_as_something_else(text, value):
        return None  # "since 2019 my pin is blocked": a year; "ID 28471935, namba ya siri"
    return value


def _spelled_before(head: str, offset: int) -> Span | None:
    """Digits written as words just before a secret's name: "three four nine one is my pin",
    "benn ñaar ñett ñeent la, waaw sama code la"."""
    spelled_runs = list(_SPELLED_DIGITS.finditer(head))
    if not spelled_runs:
        return None
    spelled = spelled_runs[-1]
    gap_words = [word.strip(_EDGE) for word in head[spelled.end():].lower().split()]
    if len(gap_words) > MAX_GAP_WORDS_BEFORE or any(
            word in _BREAKS_LINK_BEFORE for word in gap_words):
        return None
    return spelled.start() + offset, spelled.end() + offset


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

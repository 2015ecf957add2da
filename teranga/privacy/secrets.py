"""Secrets in customers' messages: PINs, one-time codes, passwords, in the customers' own
words ("mon code secret c'est 4582", "PIN yangu ni 1234", "lambar sirri ta 0000", "sama code
mooy 1234", "password: hunter2"), so that they are removed before anything stores them.

A secret is found by its context: a word that names one ("code secret", "namba ya siri"),
then, within a few words, the value itself. A bare number is never a secret: amounts
(5000 F), USSD codes (*145*6#), dates, phone numbers and transaction ids are left alone. The
value may also come first ("4582 c'est mon code"). Only the value is reported, not the words
around it, so that the customer's question stays readable for the bot and the agent.
"""

from __future__ import annotations

import re

from teranga.privacy.found import SECRET, Found

MASK = "••••"
Span = tuple[int, int]  # text[start:end]
# Words between the name of a secret and its value ("le code reçu par SMS est 552211").
MAX_GAP_WORDS = 6
# How far after the name the value may start, in characters: bounds the work per name.
MAX_GAP_CHARS = 60
MIN_DIGITS, MAX_DIGITS = 4, 8  # PINs have 4 to 6, one-time codes 4 to 8; phones have more
MAX_PASSWORD_CHARS = 64
# The most of a text read in context: more than the channels pass on to Rasa (2000
# characters by default), and no more, so that a message of thousands of "pin pin pin..."
# costs milliseconds (each name costs a few microseconds, its window is bounded). Beyond it
# (a request body may hold 1 MB, kept whole in the metadata's `full_text`), every word with a
# digit in it is masked, blindly but cheaply: nothing past the window can hold a PIN either.
MAX_SEARCH_CHARS = 4000

_E = "[eéèêEÉÈÊ]"
# Names of a secret whose value is digits: PIN, OTP, secret or confirmation codes.
_CODE_NAMES = [
    rf"(?:code|kod)(?:\s+(?:pin|otp|secr{_E}te?|confidentiel|bu\s+kumpa|kumpa|sirri|siri))?",
    rf"code\s+(?:d['’]\s*|de\s+)?(?:confirmation|validation|v{_E}rification|s{_E}curit{_E}|"
    rf"retrait|acc{_E}s|activation)",
    r"(?:pin|pini|otp)(?:\s+(?:code|number|namba|nambari|lambar))?",
    r"(?:verification|security|secret|confirmation|one[\s-]time|withdrawal)\s+(?:code|pin)",
    r"one[\s-]time\s+password",
    r"(?:namba|nambari)\s+(?:yangu\s+)?(?:ya\s+)?siri",  # namba yangu ya siri: my PIN
    r"msimbo(?:\s+(?:wa\s+)?(?:siri|uthibitisho))?",  # Swahili for "code"
    # lambar sirrina: my PIN; lambar tabbatarwa: verification number
    r"(?:lambar|lamba|lambobin)\s+(?:sirri|siri|tsaro|pin|tabbatarwa)(?:na|nka|nki|nmu|nsu)?",
    r"(?<=don\s)tabbatarwa",  # "lambar 602 119 don tabbatarwa": the number for verifying
    r"siri(?=\s+(?:yangu|langu|yako|lako)(?:\s+ni)?[\s:]+\d)",  # "siri yangu ni 1597"
    r"cvv|cvc",
]
# Names of a secret whose value may be any word: passwords.
_PASSWORD_NAMES = [
    r"mot\s+de\s+pass?e?|mdp|pas+w(?:o|a)?r?d|pwd|passcode|pass\s+word",  # pasword, paswad
    r"neno\s+(?:la\s+)?siri|nenosiri",
    r"kalmar\s+(?:sirri|siri|wucewa)(?:na|nka|nki|nmu|nsu)?",  # kalmar sirrina: my password
]
# "code" that names something else: a merchant's, a promotion's, a USSD code...
_NOT_A_SECRET_CODE = (
    r"(?!\s+(?:d[eu]\s+|de\s+la\s+|de\s+l['’]\s*|of\s+(?:the\s+)?|wa\s+)?"
    r"(?:marchand|merchant|promo|postal|post|ussd|agent|client|customer|pays|country|"
    r"erreur|error|transaction|produit|product|parrainage|r[eé]f[eé]rence|reference|swift|"
    r"bic|iban|qr|bancaire|banque|bank|court|short|source|zip|muamala|malipo|biashara)\b)")
# "agent code 304512", "merchant code": the number of a shop, not a secret.
_NOT_A_SECRET_BEFORE = re.compile(
    r"(?:agent|merchant|marchand|till|paybill|promo|ussd|short|postal|zip|country|area|"
    r"swift|bank|product|reference|error)[\s:]*$", re.IGNORECASE)
_NAME = re.compile(
    r"(?<![^\W_])(?:(?P<password>" + "|".join(_PASSWORD_NAMES) + r")|(?P<code>"
    + "|".join(_CODE_NAMES) + r"))(?![^\W_])" + _NOT_A_SECRET_CODE,
    re.IGNORECASE)

_TOKEN = re.compile(r"\S+")
_ANY_DIGIT = re.compile(r"\d")
_WORD_WITH_DIGIT = re.compile(r"\S*\d\S*")
# What may surround a value without being part of it: quotes, brackets, punctuation.
_EDGE = "\"'«»“”‘’()[]{}<>:;,.!?¿¡=-–—*_~`"
_AFTER_PASSWORD = "\"'«»“”‘’()[]{}<>:;,.?"
_EXPLICIT = re.compile(r"[:=]")  # "password: hunter2", "pin=1234"
_SENTENCE_END = re.compile(r"[.!?\n]$")
# Digits, alone or spaced the way people type them ("4 5 8 2", "45 82"), with nothing
# glued to either end that would make them an amount, a code or a date.
_DIGIT_RUN = re.compile(r"\d(?:[ \u00a0]?\d)*")
# A one-time code shown in two halves by the sender's app ("207-913") or typed digit by
# digit ("3-8-1-2"); no other dash is taken: dates and references use them ("12-03-2024").
_DASHED_CODE = re.compile(r"(?:\d{3}-\d{3}|\d(?:-\d){3,7})(?![\d-])")
_GLUED_AFTER = re.compile(r"[\w*#/@€$£₦₵%]|[.,:/-]\d")
_GLUED_BEFORE = re.compile(r"[\w*#/+@€$£₦₵.,-]$")
_CURRENCY_AFTER = re.compile(
    r"[ \u00a0]*(?:f|fr|frs|francs?|fcfa|cfa|xof|xaf|ksh|kes|tsh|tzs|ugx|ngn|naira|ghs|"
    r"cedis?|shillings?|sh|usd|eur|euros?|dollars?|mille|k|milles?)(?![^\W_])",
    re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(
    r"(?<![^\W_])(?:ksh|kes|tsh|tzs|ugx|ngn|ghs|n|cfa|fcfa|xof|usd)\.?[ \u00a0]*$", re.IGNORECASE)
# Words after which a number is a time, an amount or a phone number, not the secret named
# before ("code pin bloqué depuis 2024"). Sending verbs are not among them: "the code they
# sent me is 552211".
_GAP_STOPS = frozenset("""
    depuis since tangu tun ago dès des jusqu until avant après apres before after
    retirer payer payé paye pay paid withdraw withdrew kulipa biya fey
    montant amount kiasi numéro numero number
    balance solde salio fee fees frais price prix bei farashi""".split())
# Words that may stand between a password's name and its value.
_PASSWORD_FILLERS = frozenset("""
    est c'est c’est cest c is was it's its ni ne ta mooy moy mo la le l' my mon ma sama
    yangu wangu langu lako yako changu na shine ce voici here nouveau nouvelle new actuel
    current ndio ndiyo dina nawa tawa jipya mpya sabuwa sabuwar itace ita
    ni: ne: est: is: da dafa di bi ba""".split())
# Words that may stand between a value and the name after it ("4582 c'est mon code",
# "is 9044 my default pin?", "jai mis 5712 comme code secret", "na 5353 be my pin").
_BEFORE_FILLERS = frozenset("""
    c'est c’est cest est is it's its ni ndio ndiyo mooy moy mo ne shine ta ce voici
    mon ma my sama yangu wangu la le the that's
    as be was comme kama peut etre être sera new old default current nouveau nouvelle
    ancien ancienne mpya sabuwar don""".split())
# After a secret's value, a second one: a PIN change given in one breath ("ancien code
# secret 2233 nouveau 5566", "pin ya zamani 3131 mpya 4242"), or a customer unsure which
# it is ("2938 ou 2983 ?").
_THEN_NEW_VALUE = re.compile(
    r"[\s,;:]+(?:(?:and|et|na|ak|da|kuma|then|puis)[\s,;:]+)?(?:(?:the|my|mon|le|la|ma|sama|"
    r"yangu)[\s,;:]+)?(?:new|nouveau|nouvelle|mpya|sabuwa|sabuwar|sabon|bu\s+bees)"
    r"(?:[\s,;:=]+(?:one|pin|code|secret|est|c'est|is|ni|ne|ce|mooy|la)){0,2}[\s,;:=]+(?=\d)"
    r"|[ \u00a0]+(?:or|ou|au|ama|walla|wala|ko)[ \u00a0]+(?=\d)",
    re.IGNORECASE)
# Words after which a number before a secret's name is a year or an amount ("since 2019 my
# pin", "na tura 5000 don tabbatarwa": I sent 5000 for verification).
_STOPS_BEFORE_VALUE = _GAP_STOPS | frozenset("""
    in en ci mwaka year an année annee send sent envoye envoyé tura tuma nimetuma nilituma
    yonne yonnee""".split())
_LAST_WORD = re.compile(r"([^\W\d]+)[\s,]+$")
_VALUE_BEFORE = re.compile(
    r"(?<![^\s\"'«(])(?P<value>\d(?:[ \u00a0]?\d)*)[\"'»)]?(?P<gap>(?:[ \u00a0,:]+[^\W\d]"
    r"[\w'’]*){0,4})[ \u00a0,:]+$")


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



def _secrets(text: str) -> list[tuple[Span, Span]]:
    """Each secret in the first MAX_SEARCH_CHARS of `text`: (its mention, name and value
    together; its value)."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_SEARCH_CHARS]
    found: list[tuple[Span, Span]] = []
    for name in _NAME.finditer(text):
        if _NOT_A_SECRET_BEFORE.search(text, max(0, name.start() - 12), name.start()):
            continue
        value = _value_after(text, name.end(), name.group("password") is not None)
        if value:
            found.append(((name.start(), value[1]), value))
            if new_value := _new_value_after(text, value[1]):
                found.append(((value[1], new_value[1]), new_value))
        elif value := _value_before(text, name.start()):
            found.append(((value[0], name.end()), value))
    return found


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
    if not password and not _ANY_DIGIT.search(text, position, window_end):
        return None  # the common case, checked at C speed: "j'ai oublié mon code pin"
    explicit = after_question = False
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
            digits = _digit_value(text, core_start)
            if digits:
                return digits
            if password and len(core) <= MAX_PASSWORD_CHARS and not raw.startswith(("*", "#")):
                return _password_span(raw, core_start, token.end())
            return None
        word = core.lower()
        if password:
            if word in _PASSWORD_FILLERS or raw.lower() in _PASSWORD_FILLERS:
                explicit = explicit or bool(_EXPLICIT.search(raw))
            elif explicit or _EXPLICIT.search(raw[:len(raw) - len(raw.lstrip(_EDGE))]):
                # "password: sunshine": a colon says the next word is the value
                return (core_start, core_start + len(core)) if len(core) >= 4 else None
            elif _looks_like_password(core):
                return _password_span(raw, core_start, token.end())
            else:
                return None
        elif word in _GAP_STOPS or after_question and word not in _BEFORE_FILLERS:
            return None
        explicit = explicit or bool(_EXPLICIT.search(raw))
        if raw.endswith("?") and not after_question:
            after_question = True  # "pin yangu? ni 5128": the answer may follow the question
        elif _SENTENCE_END.search(raw):
            return None
    return None


def _new_value_after(text: str, position: int) -> tuple[int, int] | None:
    """The new PIN given right after an old one: "2233 nouveau 5566"."""
    then_new = _THEN_NEW_VALUE.match(text, position)
    return _digit_value(text, then_new.end()) if then_new else None


def _digit_value(text: str, start: int) -> tuple[int, int] | None:
    """The span of a PIN-like number starting at `start`: 4 to 8 digits, not an amount,
    a USSD code, a date or a phone number."""
    run = _DASHED_CODE.match(text, start) or _DIGIT_RUN.match(text, start)
    if run is None:
        return None
    end = run.end()
    count = sum(c.isdigit() for c in run.group())
    if not MIN_DIGITS <= count <= MAX_DIGITS:
        return None
    if _GLUED_AFTER.match(text, end) or _CURRENCY_AFTER.match(text, end):
        return None
    before = text[max(0, start - 8):start]
    if _GLUED_BEFORE.search(before) or _CURRENCY_BEFORE.search(before):
        return None
    return start, end


def _password_span(raw: str, core_start: int, token_end: int) -> tuple[int, int]:
    """A password's span: symbols at its end are part of it ("Pass2026!"), the quotes and
    punctuation that end a sentence or a quotation are not."""
    return core_start, token_end - (len(raw) - len(raw.rstrip(_AFTER_PASSWORD)))


def _looks_like_password(word: str) -> bool:
    """A word no language has: letters mixed with digits or symbols, or capitals inside."""
    if not 4 <= len(word) <= MAX_PASSWORD_CHARS:
        return False
    has_other = any(not c.isalpha() for c in word)
    inner_capital = any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)
    return has_other or inner_capital


def _value_before(text: str, name_start: int) -> tuple[int, int] | None:
    """A value just before a secret's name: "4582 c'est mon code", "1234 ni PIN yangu"."""
    head = text[max(0, name_start - MAX_GAP_CHARS):name_start]
    if not _ANY_DIGIT.search(head):
        return None
    match = _VALUE_BEFORE.search(head)
    if match is None:
        return None
    gap_words = match.group("gap").replace(",", " ").replace(":", " ").lower().split()
    if any(word not in _BEFORE_FILLERS for word in gap_words):
        return None
    start = name_start - len(head) + match.start("value")
    word_before = _LAST_WORD.search(text, max(0, start - 20), start)
    if word_before and word_before.group(1).lower() in _STOPS_BEFORE_VALUE:
        return None  # "since 2019 my pin is blocked": a year, not the PIN
    return _digit_value(text, start)


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

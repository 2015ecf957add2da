"""Personal data in customers' messages, as people in these markets type it: phone numbers
(libphonenumber, for the countries Teranga serves), e-mails, payment cards (Luhn), IBANs
(mod 97), national ids (only where the message says what the number is) and names (after an
introduction: "je m'appelle", "jina langu ni", "sunana", "maa ngi tudd"...).

`find_personal_data` never reports secrets (PIN, OTP, password): `teranga.privacy.secrets`
finds those. `mask` hides both, keeping the kind readable ("+221 77 ••• •• 67").

Both read at most the first `MAX_CHARS` characters, accept any string and never raise: a
message is hostile input. Measured on data/privacy/messages.yml by bench/privacy.py."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency

from teranga.privacy import secrets
from teranga.privacy.found import CARD, EMAIL, IBAN, NAME, NATIONAL_ID, PHONE, SECRET, Found

# What find_personal_data reads of a text: bounded work on hostile input (channels already
# cut messages shorter). `mask` reads longer texts in pieces, up to MASK_READ_CHARS; past
# those, which only hostile input or a long log line has, it hides every digit, cheaply.
MAX_CHARS = 4000
MASK_PIECE_CHARS = 3000  # under MAX_CHARS, so that a piece is read whole
MASK_READ_CHARS = 12000
# Where Teranga's customers are, and where their families call from. A number with its +code
# is found whatever the region; these decide how a number without one is read.
PHONE_REGIONS = ("SN", "CI", "ML", "GN", "CM", "NG", "GH", "KE", "TZ", "UG", "FR")
# VALID: the number must exist in the numbering plan (not merely have a possible length), so
# order numbers, meter numbers and amounts are rarely taken for phones (bench/privacy.py
# measures POSSIBLE against it).
PHONE_LENIENCY = Leniency.VALID
# No matcher runs on a message with fewer digits than the shortest number; each gives up after
# this many candidates that are not numbers (a message full of digits costs a bounded time).
_MIN_PHONE_DIGITS = 7
_MAX_PHONE_CANDIDATES = 20

# When two finds overlap, the more specific kind wins (an IBAN holds card-like digit groups,
# a Luhn-valid card beats a phone).
_PRIORITY = {SECRET: 0, IBAN: 1, CARD: 2, NATIONAL_ID: 3, EMAIL: 4, PHONE: 5, NAME: 6}

_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
                    r"(?:\.[A-Za-z0-9-]{1,63}){0,4}\.[A-Za-z]{2,12}\b")
# 13-19 digits, grouped by spaces or dashes as typed, not inside a longer number or a USSD code.
_CARD = re.compile(r"(?<![\w*#.,+-])\d(?:[ -]?\d){12,18}(?![\w#*]|[.,-]\d)")
# Payment cards start with 2 to 6 (ISO/IEC 7812's banking and financial industries: Visa 4,
# Mastercard 2 and 5, Amex 3, Verve 5 and 6); a CNI starts with 1 or 2, a phone typed with its
# international prefix with 0 ("00221 78 640 11 27"), and one in ten of them passes Luhn.
_CARD_FIRST_DIGITS = "23456"
# Two letters, two check digits, then groups of up to four letters or digits.
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}\b")
_IBAN_LENGTHS = {"FR": 27, "SN": 28, "CI": 28, "ML": 28, "CM": 27, "BJ": 28, "BF": 28, "NE": 28,
                 "TG": 28, "GW": 25, "MR": 27, "MA": 28, "GB": 22, "DE": 22, "BE": 16, "ES": 24,
                 "IT": 27, "CH": 21, "LU": 20, "NL": 18, "PT": 25, "TN": 24, "DZ": 26, "EG": 29,
                 "GA": 27, "CG": 27, "CF": 27, "TD": 27, "GQ": 27, "KM": 27, "DJ": 27, "MG": 27,
                 "MZ": 25, "AO": 25, "CV": 25, "AT": 20, "IE": 22, "SE": 24, "PL": 28, "SA": 24,
                 "AE": 23, "QA": 29, "TR": 26, "LB": 28}

# National ids: a context word, a few connecting words, then the number (7-13 digits,
# spaces allowed: Senegal's CNI is typed "1 751 1990 01234"). The context is required: a bare
# 8 or 11-digit number is as likely a meter or account number.
_ID_CONTEXT = (
    r"cni|c\.n\.i|nin|bvn|national\s+id(?:entity)?(?:\s+card)?|id\s+card|id\s+(?:number|no\.?|num|namba|nambari|lambar?|num[eé]ro)"
    r"|my\s+id|(?:num[eé]ro\s+de\s+)?(?:la\s+)?(?:carte|pi[eè]ce)\s+d['’ ]?\s*identit[eé]"
    r"(?:\s+nationale)?"
    r"|kart\s+d?idantite|kart\s+identite|kitambulisho|id\s+yangu|katin\s+dan\s+kasa|katin\s+shaida"
)
# Connecting words between the context and the number ("my NIN is", "BVN dina shine", "ma CNI
# numero"). Each repetition needs separators then a word, so the pattern cannot backtrack
# through long runs of spaces.
_ID_WORDS = (r"is|c'?est|est|ni|ne|ce|mooy|la|changu|yangu|dina|ta|na|no\.?|n°|n|num(?:[eé]ro)?"
             r"|number|bi|lamba|lambar|nationale|shine|ita")
_NATIONAL_ID = re.compile(rf"\b(?:{_ID_CONTEXT})(?!\w)"
                          rf"(?:[\s:=#,-]{{1,4}}(?:{_ID_WORDS})(?!\w)){{0,4}}[\s:=#,-]{{0,4}}"
                          rf"(?<![\d])(\d(?:[ ]?\d){{6,12}})(?![\d/.,:-]?\d)",
                          re.IGNORECASE)

# Names: after an introduction, one to three words. Capitalised words are taken as a name;
# after the strongest introductions ("je m'appelle", "my name is") lowercase ones too,
# stopping at the first common word.
_STRONG_INTRO = (r"my\s+names?\s+(?:is|are)|i\s+am\s+called"
                 r"|je\s+m[\s'’]{0,3}appel+e|j[\s'’]{0,3}m[\s'’]{0,3}appel+e"
                 r"|mon\s+nom\s+(?:est|c['’]?est)|maa?\s*ngi\s+tudd|mangi\s+tudd|sama\s+tur(?:\s+mooy)?"
                 r"|jina\s+langu\s+ni|jina\s+langu|naitwa|sunana|suna\s+na|sunan\s+a\s+shine"
                 r"|name\s*:|nom\s*:")
_WEAK_INTRO = r"this\s+is|i\s+am|i['’]?m|moi\s+c['’]?est|je\s+suis|mimi\s+ni|ni\s+ne"
_NAME_WORD = r"[^\W\d_]{2,20}(?:[-'’][^\W\d_]{2,20})?"
_NAME_AFTER = re.compile(rf"(?:(?<=\W)|^)(?:(?P<strong>{_STRONG_INTRO})|(?P<weak>{_WEAK_INTRO}))"
                         rf"[\s,:]+"
                         rf"(?P<name>{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,2}})", re.IGNORECASE)
# Words that end a name or cannot start one, in the five languages (lowercase, no accents).
_NOT_NAME = frozenset("""
and the from of at in on with my is i im but pls please sir madam client customer
et de du des la le les au a mon ma je j jai suis client cliente depuis avec pour svp
ak te ci sama dama la mooy man
na ni wa ya kwa mteja nina nimetuma na yangu
da kuma ina ne ce daga don abokin ciniki
""".split())
_ANY_DIGIT = re.compile(r"\d")
_SPACE_BETWEEN_WORDS = re.compile(r"(?<=[^\d\s+])\s+(?=[^\d\s+])")
_NUMBER_BEFORE = re.compile(r"[\d\s+().-]+$")
_TITLES = frozenset({"mr", "mrs", "ms", "mme", "mlle", "m", "dr", "alhaji", "hajiya", "mallam",
                     "bwana", "mama", "baba"})


def find_personal_data(text: str, *, phone_leniency: Leniency = PHONE_LENIENCY) -> list[Found]:
    """Phone numbers, e-mails, cards, IBANs, national ids and names in `text` (its first
    MAX_CHARS characters), without overlaps, in order. Never secrets, never raises."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_CHARS]
    try:
        found = (_cards(text) + _ibans(text) + _national_ids(text) + _emails(text)
                 + _phones(text, phone_leniency) + _names(text))
    except Exception:  # noqa: BLE001 - a detector bug must not lose the customer's message
        return []
    return _without_overlaps(found)


def mask(text: str) -> str:
    """`text` with every secret and personal item replaced by a masked form that keeps its
    kind readable; the rest unchanged. A long text is masked in pieces cut at spaces (the
    detectors read MAX_CHARS at a time); past MASK_READ_CHARS every digit is hidden. Never
    raises."""
    if not isinstance(text, str) or not text:
        return text if isinstance(text, str) else ""
    beyond = ""
    if len(text) > MASK_READ_CHARS:
        cut = _cut(text, MASK_READ_CHARS)
        text, beyond = text[:cut], _ANY_DIGIT.sub("•", text[cut:])
    pieces = []
    while len(text) > MASK_PIECE_CHARS:
        cut = _cut(text, MASK_PIECE_CHARS)
        pieces.append(_mask_piece(text[:cut]))
        text = text[cut:]
    return "".join([*pieces, _mask_piece(text), beyond])


def _cut(text: str, limit: int) -> int:
    """Where to cut `text` before `limit`: at a space between words, not inside a number
    typed with spaces ("77 123 45 67"), whose halves would not be recognised."""
    last = None
    for match in _SPACE_BETWEEN_WORDS.finditer(text, max(0, limit - 400), limit):
        last = match.start()
    if last:
        return last
    number_start = _NUMBER_BEFORE.search(text, 0, limit)  # no such space: cut before a number
    return number_start.start() if number_start and number_start.start() > 0 else limit


def _mask_piece(text: str) -> str:
    try:
        found = _without_overlaps(_secrets(text) + find_personal_data(text))
        for item in reversed(found):
            text = text[:item.start] + _masked(item.kind, item.of(text)) + text[item.end:]
        return text
    except Exception:  # noqa: BLE001 - never leak because of a bug: hide every digit instead
        return _ANY_DIGIT.sub("•", text)


def _secrets(text: str) -> list[Found]:
    try:
        return [item for item in secrets.find_secrets(text) if item.kind == SECRET]
    except Exception:  # noqa: BLE001 - masking must still hide the rest
        return []


def _masked(kind: str, value: str) -> str:
    if kind == PHONE:
        return _masked_phone(value)
    if kind == EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}"
    if kind == CARD:
        return f"card ••••{_digits(value)[-4:]}"
    if kind == IBAN:
        return f"IBAN {value[:2].upper()}••••{value.replace(' ', '')[-4:]}"
    if kind == NATIONAL_ID:
        return "[id]"
    if kind == NAME:
        return "[name]"
    return "••••"


def _masked_phone(value: str) -> str:
    """Keeps the country code (after + or 00), the next two digits and the last two, and the
    spacing: "+221 77 123 45 67" -> "+221 77 ••• •• 67", "0712 345 678" -> "07•• ••• •78"."""
    digits = _digits(value)
    keep_first = 2
    international = value.lstrip("( ").startswith("+")
    if international or digits.startswith("00"):
        keep_first += _country_code_length(digits[0 if international else 2:])
        keep_first += 0 if international else 2
    hidden_until = len(digits) - 2
    out, seen = [], 0
    for char in value:
        if char.isdigit():
            out.append(char if seen < keep_first or seen >= hidden_until else "•")
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def _country_code_length(digits: str) -> int:
    """How many of `digits` (a number after its + or 00) are its country code."""
    try:
        return len(str(phonenumbers.parse("+" + digits, None).country_code))
    except phonenumbers.NumberParseException:
        return 3


def _phones(text: str, leniency: Leniency) -> list[Found]:
    if sum(char.isdigit() for char in text) < _MIN_PHONE_DIGITS:
        return []
    found: list[Found] = []
    for region in PHONE_REGIONS:
        matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency,
                                                  max_tries=_MAX_PHONE_CANDIDATES)
        for match in matcher:
            if not _looks_like_something_else(text, match.start, match.end):
                found.append(Found(PHONE, match.start, match.end))
    return found + _whatsapp_links(text)


# WhatsApp's click-to-chat links hold the number with its country code, without the +.
_WHATSAPP_LINK = re.compile(r"(?:wa\.me/|phone=)\+?(\d{8,15})(?!\d)", re.IGNORECASE)


def _whatsapp_links(text: str) -> list[Found]:
    return [Found(PHONE, m.start(1), m.end(1)) for m in _WHATSAPP_LINK.finditer(text)
            if _valid_international(m.group(1))]


def _valid_international(digits: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:
        return False


_CURRENCY_AFTER = re.compile(r"\s*(?:f\b|fcfa|cfa|francs?|xof|naira|ngn|ksh|kes|sh\b|shillings?"
                             r"|tsh|ugx|cedis?|ghs|\$|€|₦)", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?<![^\W\d_])(?:ksh|kes|tsh|ugx|ghs|sh|n|₦|\$|€|fcfa|cfa)\s*$",
                              re.IGNORECASE)


# Dates as typed with dashes or dots ("2023-11-05", "05-11-2023", "05.11.24"): some are
# valid numbers somewhere in the regions searched.
_DATE_SHAPED = re.compile(r"\d{4}([-.])\d{2}\1\d{2}|\d{2}([-.])\d{2}\2(?:\d{4}|\d{2})")


# A number right after the word for a transaction, an order or a reference is that id
# ("otp not received for transaction 77410293").
_REFERENCE_BEFORE = re.compile(
    r"(?<![^\W_])(?:transaction|txn|trans|ref|r[eé]f[eé]rence|reference|order|commande|oda|odar"
    r"|ticket|invoice|facture|receipt|muamala|serial|s[eé]rie)(?:\s+(?:id|no|number|num[eé]ro|n°))?"
    r"(?:\s+(?:is|was|est|ni|ne|ce|c['’]est))?[\s:#.=-]*$",
    re.IGNORECASE)
# A Nigerian bank account number (NUBAN: 10 digits, typed in one block) after the word for an
# account reads as an Ivorian or French phone number but is not one ("acct 0123456789",
# "lambar asusuna 0134569820"). A mobile-money account is a phone number ("my momo account
# 0244123456", "akaunti ya mpesa 0712345678"): the words allowed in between exclude it.
_BANK_ACCOUNT_BEFORE = re.compile(
    r"(?<![^\W_])(?:account|acct|acc|a/c|compte|cpte|akaunti|asusu[^\W\d]*)"
    r"(?:[\s:#.=-]+(?:number|no|num|n°|num[eé]ro|nambari|namba|is|ni|ne|ce|est|c['’]?est"
    r"|yangu|dina|na|my|mon|le|ya|bank|banki|benki|banque|bancaire))*[\s:#.=-]*$",
    re.IGNORECASE)
_MOBILE_MONEY_BEFORE = re.compile(
    r"(?:momo|mobile\s+money|m-?pesa|wallet|orange\s+money|wave|airtel\s+money|tigo\s+pesa"
    r"|free\s+money|mtn)\W+(?:[^\W\d]+\W+)?$", re.IGNORECASE)
_NUBAN = re.compile(r"\d{10}")


def _looks_like_something_else(text: str, start: int, end: int) -> bool:
    """A USSD code (*145*6#), an amount (150000 F, KSh 250000), a date (2023-11-05), a
    number glued to a transaction id or named as one, or a bank account number is not a
    phone number."""
    if _DATE_SHAPED.fullmatch(text, start, end) or _is_a_reference(text, start):
        return True
    if _NUBAN.fullmatch(text, start, end) and _is_a_bank_account(text, start):
        return True
    before, after = text[max(0, start - 6):start], text[end:end + 12]
    if before.rstrip().endswith(("*", "#")) or after.lstrip().startswith(("*", "#")):
        return True
    if _CURRENCY_AFTER.match(after) or _CURRENCY_BEFORE.search(before):
        return True
    glued_before = bool(before) and (before[-1].isalnum() or before[-1] in "._-/")
    glued_after = bool(after) and (after[0].isalnum()
                                   or after[0] in "._-/" and after[1:2].isalnum())
    return glued_before or glued_after


def _is_a_reference(text: str, start: int) -> bool:
    return bool(_REFERENCE_BEFORE.search(text[max(0, start - 30):start]))


def _is_a_bank_account(text: str, start: int) -> bool:
    head = text[max(0, start - 40):start]
    account = _BANK_ACCOUNT_BEFORE.search(head)
    return bool(account) and not _MOBILE_MONEY_BEFORE.search(head, 0, account.start())


def _emails(text: str) -> list[Found]:
    if "@" not in text:
        return []
    return [Found(EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _cards(text: str) -> list[Found]:
    return [Found(CARD, m.start(), m.end()) for m in _CARD.finditer(text)
            if m.group()[0] in _CARD_FIRST_DIGITS and _luhn_valid(_digits(m.group()))]


def _luhn_valid(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1 and digits[0] == "0":
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _ibans(text: str) -> list[Found]:
    found = []
    for match in _IBAN.finditer(text):
        end = _valid_iban_end(match.group())
        if end:
            found.append(Found(IBAN, match.start(), match.start() + end))
    return found


def _valid_iban_end(candidate: str) -> int:
    """Length of the prefix of `candidate` that is a valid IBAN (its country's length, mod 97),
    0 if none: an IBAN is often followed by more words or digits. Countries without IBANs
    (Nigeria, Kenya, Ghana...) are not in the table."""
    country = candidate[:2].upper()
    compact_length = 0
    ends = []
    for index, char in enumerate(candidate):
        if char != " ":
            compact_length += 1
            ends.append((index + 1, compact_length))
    wanted = _IBAN_LENGTHS.get(country)
    if not wanted:
        return 0
    for end, length in reversed(ends):
        if length == wanted and _mod97_valid(candidate[:end]):
            return end
    return 0


def _mod97_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _national_ids(text: str) -> list[Found]:
    if not any(char.isdigit() for char in text):
        return []
    return [Found(NATIONAL_ID, m.start(1), m.end(1)) for m in _NATIONAL_ID.finditer(text)]


def _names(text: str) -> list[Found]:
    found = []
    for match in _NAME_AFTER.finditer(text):
        words = match.group("name").split(" ")
        strong = match.group("strong") is not None
        span = _name_words(words, allow_lowercase=strong)
        if span:
            start = match.start("name")
            found.append(Found(NAME, start, start + len(" ".join(words[:span]))))
    return found


def _name_words(words: list[str], *, allow_lowercase: bool) -> int:
    """How many of `words` (at most 3) form the name: capitalised words ("Awa Diop"), or,
    after a strong introduction only, lowercase ones ("awa diop"); never a common word, and
    not a title alone."""
    capitalised = words[0][0].isupper()
    if not capitalised and not allow_lowercase:
        return 0
    count = 0
    for word in words:
        lowered = word.lower()
        if lowered in _NOT_NAME or (count == 0 and lowered in _TITLES):
            break
        if word[0].isupper() != capitalised:
            break
        count += 1
    return count


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def _without_overlaps(found: list[Found]) -> list[Found]:
    """Keeps, of overlapping finds, the most specific kind, then the longest."""
    kept: list[Found] = []
    for item in sorted(set(found), key=lambda f: (_PRIORITY.get(f.kind, 9), f.start - f.end)):
        if all(item.end <= other.start or item.start >= other.end for other in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f.start)

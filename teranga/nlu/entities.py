"""The facts a customer's message states, in any of the assistant's languages: amounts and
their currency, transaction ids, phone numbers, dates, USSD codes, countries, towns,
operators and mobile-money services, and other numbers.

The NLU puts them on every message as entities (addons.components.EntityExtractor: what the
answers and the analytics read), and the agents' desk lists a conversation's facts so that
nobody asks the customer again (teranga.agent_desk.context). Messages are hostile (any
Unicode, any size): each is read through a window of MAX_SCAN_CHARS, NFKC first, and every
pattern is linear in the window.
"""

from __future__ import annotations

import re
import unicodedata

from teranga.text import WORD_RUN, encodable

# How much of each message is searched for facts: a long message of 600 characters is
# read whole; "ﷺ" x 10000 costs the same as 2000 characters.
MAX_SCAN_CHARS = 2000
MAX_FACTS = 25

_NUMBER = r"[0-9]{1,3}(?:[ .,'][0-9]{3})+(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]{1,2})?"
_CURRENCY_AFTER = (r"f\s?cfa|fcfa|cfa|xof|francs?|frs?|f|d[eë]r[eë]m|kshs?|ksh|kes|"
                   r"shillings?|shilingi|shs?|bob|naira|ngn|usd|dollars?|euros?|eur|€|\$|₦")
_CURRENCY_BEFORE = r"₦|\$|€|kshs?\.?|kes|shs?\.?|ngn|n(?=[0-9])|usd|eur|shilingi|naira|fcfa|cfa|xof"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?:{_CURRENCY_BEFORE})\s?(?:{_NUMBER})(?:k(?![^\W\d_]))?"
    rf"|(?:{_NUMBER})(?:\s?k)?\s?(?:(?:{_CURRENCY_AFTER})(?![^\W\d_])|/=))", re.IGNORECASE)

_SEP = r"[ .-]?"
_PHONES = [
    # Senegal: 77 123 45 67, +221 77 123 45 67 (mobiles 70 75 76 77 78, fixed lines 33)
    rf"(?:(?:\+|00)?221{_SEP})?(?:7[05678]|3[03]){_SEP}[0-9]{{3}}{_SEP}[0-9]{{2}}{_SEP}[0-9]{{2}}",
    # Kenya: 0712 345 678, +254 712 345 678 (and the 01xx numbers)
    rf"(?:(?:\+|00)?254{_SEP}|0)[17][0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}",
    # Nigeria: 0803 123 4567, +234 803 123 4567
    rf"(?:(?:\+|00)?234{_SEP}|0)[789][01][0-9]{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}",
    # any other international number
    r"(?:\+|00)[1-9][0-9]{0,2}(?:[ .-]?[0-9]{2,4}){2,5}",
]
_PHONE = re.compile(rf"(?<![\w+])(?:{'|'.join(_PHONES)})(?![\w])")

# Letters and digits, 8 characters or more, maybe with . - _ inside: MP240315.1234.A12345,
# QK12AB34CD, TX-123456. Candidates only: `_is_transaction_id` checks the mix.
_CODE = re.compile(r"(?<![\w.\-])[A-Za-z0-9](?:[A-Za-z0-9]|[._\-](?=[A-Za-z0-9])){7,39}"
                   r"(?![\w])")
# A word glued to a number ("mars2024", "merci2024"): not an id.
_WORD_AND_NUMBER = re.compile(r"[a-z]{4,}[0-9]+|[0-9]+[a-z]{4,}")

# Month names and day words are looked up word by word (a regex alternation of them, tried
# at every position, cost 2 ms per 2000 characters): English, French (Wolof speakers write
# them too), Swahili, Hausa.
MONTHS = frozenset((
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "janvier février fevrier mars avril mai juin juillet août aout septembre octobre "
    "novembre décembre decembre janv févr fevr avr juil déc "
    "januari februari machi aprili mei juni julai agosti septemba oktoba novemba desemba "
    "janairu faburairu maris afirilu mayu yuni yuli agusta satumba nuwamba disamba").split())
DAY_WORDS = frozenset((
    "today yesterday tonight aujourd'hui aujourd’hui avant-hier hier "
    "tey démb demb "  # Wolof
    "leo jana juzi "  # Swahili
    "yau jiya shekaranjiya "  # Hausa
    "monday tuesday wednesday thursday friday saturday sunday "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "altine talaata àllarba allarba alxamis àjjuma ajjuma gaawu dibéer dibeer "
    "jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili "
    "litinin talata laraba alhamis juma'a asabar lahadi").split())
DAY_PHRASES = frozenset({"this morning", "last night", "ce matin", "hier soir", "bërki démb",
                         "berki demb"})
_DAY_BEFORE_MONTH = re.compile(r"(?<![\w.,])[0-9]{1,2}(?:er|st|nd|rd|th)?\s(?:ga\s)?$",
                               re.IGNORECASE)
_AFTER_MONTH = re.compile(r"\.?(?:\s[0-9]{1,2}(?:st|nd|rd|th)?(?:,?\s[0-9]{4})?"
                          r"|\s[0-9]{4})(?![\w])", re.IGNORECASE)
_YEAR_AFTER = re.compile(r"\s[0-9]{4}(?![\w])")
_NUMERIC_DATE = re.compile(
    r"(?<![\w./:-])(?:"
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"|[0-9]{1,2}[/-][0-9]{1,2}(?:[/-](?:[0-9]{4}|[0-9]{2}))?"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{4}|[0-9]{2})"
    r"|[0-9]{1,2}(?:h|:)[0-9]{2}|[0-9]{1,2}\s?(?:am|pm)"
    r")(?![\w/])", re.IGNORECASE)


def _text_dates(text: str) -> list[tuple[int, int]]:
    """Spans of dates in words: "15 mars", "March 15, 2024", "15 ga Maris", "jana"."""
    spans = []
    tokens = list(WORD_RUN.finditer(text))
    for index, token in enumerate(tokens):
        word = token.group().casefold()
        start, end = token.span()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (following and text[end:following.start()] == " "
                and f"{word} {following.group().casefold()}" in DAY_PHRASES):
            spans.append((start, following.end()))
        elif word in MONTHS:
            before = _DAY_BEFORE_MONTH.search(text, max(0, start - 12), start)
            after = _AFTER_MONTH.match(text, end) if before is None else None
            if before is None and after is None:
                continue  # a month alone ("mai", "may") is too often another word
            year = _YEAR_AFTER.match(text, end) if before is not None else None
            spans.append((before.start() if before else start,
                          (after or year).end() if (after or year) else end))
        elif word in DAY_WORDS:
            spans.append((start, end))
    return spans


# USSD codes (*145*7#); numbers of three digits or more, and grouped ones (5 000).
_USSD = re.compile(r"(?<![\w*])\*[0-9]{1,4}(?:\*[0-9]{1,10})*#")
_NUMBER_FACT = re.compile(r"(?<![\w.,*#])(?:[0-9]{1,3}(?:[ .,][0-9]{3})+|[0-9]{3,20})(?![\w])")


def _is_phone(text: str) -> bool:
    return 8 <= sum(c.isdigit() for c in text) <= 15


def _is_transaction_id(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    return letters >= 1 and digits >= 2 and not _WORD_AND_NUMBER.fullmatch(text)


def _is_date(text: str) -> bool:
    """Numeric dates must be a day and a month (either order); words are taken as they are."""
    parts = re.split(r"[/.-]", text)
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return True
    if len(parts[0]) == 4:  # 2024-03-15
        return 1 <= int(parts[1]) <= 12 and 1 <= int(parts[2]) <= 31
    first, second = int(parts[0]), int(parts[1])
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


# Countries, towns, operators and mobile-money services, by their names in the five
# languages and as customers spell them (accents and case ignored; up to three words).
# Spellings that are common words of a language are left out ("gana": to meet, in Hausa;
# "free") or need a word that settles them ("free money"); "mali" (property, in Swahili) is
# kept: a transfer to Mali matters more than a rare false place.
_COUNTRIES = {
    "Senegal": "senegal|senegaal|senegali", "Mali": "mali",
    "Mauritania": "mauritanie|mauritania|gànnaar|gannaar", "Gambia": "gambie|gambia|gambi",
    "Guinea": "guinee|guinea|gine",
    "Guinea-Bissau": "guinee-bissau|guinee bissau|guinea-bissau|guinea bissau",
    "Côte d'Ivoire": "cote d'ivoire|cote d’ivoire|ivory coast|rci",
    "Burkina Faso": "burkina|burkina faso", "Niger": "niger|nijar",
    "Nigeria": "nigeria|najeriya|naijeriya|naija", "Ghana": "ghana", "Togo": "togo",
    "Benin": "benin", "Cameroon": "cameroun|cameroon|kamaru", "Chad": "tchad|chad",
    "Morocco": "maroc|morocco|moroko", "Kenya": "kenya|kenia", "Tanzania": "tanzania|tanzanie",
    "Uganda": "uganda|ouganda", "Rwanda": "rwanda", "Burundi": "burundi",
    "DR Congo": "rdc|drc|congo", "South Africa": "afrique du sud|south africa|afrika kusini",
    "France": "france|faransa|faraas", "Spain": "espagne|spain", "Italy": "italie|italy|italia",
    "United States": "usa|etats-unis|etats unis|amerique|amerika|america",
    "United Kingdom": "uk|angleterre|england|ingila|uingereza", "China": "chine|china|uchina",
    "Saudi Arabia": "arabie saoudite|saudi arabia|saudiyya|saudia",
    "United Arab Emirates": "emirats|uae",
}
_TOWNS = {
    "Dakar": "dakar|ndakaaru", "Thiès": "thies", "Touba": "touba",
    "Saint-Louis": "saint-louis|saint louis|ndar", "Kaolack": "kaolack",
    "Ziguinchor": "ziguinchor", "Mbour": "mbour", "Rufisque": "rufisque", "Louga": "louga",
    "Tambacounda": "tambacounda|tamba", "Kolda": "kolda", "Matam": "matam", "Bakel": "bakel",
    "Diourbel": "diourbel", "Fatick": "fatick", "Kédougou": "kedougou", "Pikine": "pikine",
    "Guédiawaye": "guediawaye", "Bamako": "bamako", "Kayes": "kayes", "Ségou": "segou",
    "Sikasso": "sikasso", "Mopti": "mopti", "Nouakchott": "nouakchott", "Banjul": "banjul",
    "Conakry": "conakry", "Abidjan": "abidjan", "Bouaké": "bouake",
    "Ouagadougou": "ouagadougou|ouaga", "Niamey": "niamey", "Zinder": "zinder", "Maradi": "maradi",
    "Lagos": "lagos|legas", "Abuja": "abuja", "Kano": "kano", "Kaduna": "kaduna",
    "Katsina": "katsina", "Sokoto": "sokoto", "Maiduguri": "maiduguri", "Zaria": "zaria",
    "Ibadan": "ibadan", "Port Harcourt": "port harcourt", "Bauchi": "bauchi", "Accra": "accra",
    "Kumasi": "kumasi", "Lomé": "lome", "Cotonou": "cotonou", "Nairobi": "nairobi",
    "Mombasa": "mombasa", "Kisumu": "kisumu", "Nakuru": "nakuru", "Eldoret": "eldoret",
    "Dar es Salaam": "dar es salaam|dar es-salaam|dsm", "Dodoma": "dodoma", "Arusha": "arusha",
    "Mwanza": "mwanza", "Zanzibar": "zanzibar", "Mbeya": "mbeya", "Kampala": "kampala",
    "Kigali": "kigali", "Paris": "paris", "Marseille": "marseille", "Lyon": "lyon",
    "Dubai": "dubai|dubaï", "New York": "new york",
}
_OPERATORS = {
    "SunuTel": "sunutel|sunu tel", "SunuCash": "sunucash|sunu cash", "Orange": "orange",
    "Orange Money": "orange money", "Free": "free mobile", "Free Money": "free money",
    "Expresso": "expresso", "Wave": "wave", "Wari": "wari", "MTN": "mtn",
    "MTN MoMo": "momo|mtn momo", "Airtel": "airtel", "Airtel Money": "airtel money",
    "Glo": "glo|globacom", "9mobile": "9mobile", "Safaricom": "safaricom",
    "M-Pesa": "m-pesa|mpesa|m pesa", "Vodacom": "vodacom", "Tigo": "tigo",
    "Tigo Pesa": "tigo pesa", "Halotel": "halotel", "Moov": "moov|moov africa",
    "Western Union": "western union", "MoneyGram": "moneygram|money gram", "Opay": "opay",
    "PalmPay": "palmpay",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _names_table() -> dict[str, tuple[str, str]]:
    names = {}
    for kind, table in (("country", _COUNTRIES), ("town", _TOWNS), ("operator", _OPERATORS)):
        for name, spellings in table.items():
            for spelling in spellings.split("|"):
                names[_fold(spelling)] = (kind, name)
    return names


NAMES = _names_table()
_LONGEST_NAME = 3


def name_of(text: str) -> tuple[str, str] | None:
    """(kind, canonical name) of a country, town or operator as a customer wrote it."""
    key = _fold(text)
    return NAMES.get(key) or NAMES.get(key.replace("-", " "))


def _names(text: str) -> list[tuple[int, int]]:
    """Spans of the names of NAMES, longest first, word by word (no alternation of hundreds
    of names tried at every position)."""
    tokens = list(_NAME_TOKEN.finditer(text))
    spans, i = [], 0
    while i < len(tokens):
        for n in range(min(_LONGEST_NAME, len(tokens) - i), 0, -1):
            first, last = tokens[i], tokens[i + n - 1]
            joined = all(text[a.end():b.start()] in (" ", "-")
                         for a, b in zip(tokens[i:i + n - 1], tokens[i + 1:i + n], strict=True))
            if joined and name_of(text[first.start():last.end()]):
                spans.append((first.start(), last.end()))
                i += n
                break
        else:
            i += 1
    return spans


_NAME_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)*")


def _matches(pattern: re.Pattern):
    return lambda text: [m.span() for m in pattern.finditer(text)]


def _dates(text: str) -> list[tuple[int, int]]:
    return _matches(_NUMERIC_DATE)(text) + _text_dates(text)


# In this order: an amount's digits are not a phone number, an id's digits not a number.
_KINDS = (("amount", _matches(_AMOUNT), None),
          ("transaction_id", _matches(_CODE), _is_transaction_id),
          ("phone", _matches(_PHONE), _is_phone), ("date", _dates, _is_date),
          ("ussd_code", _matches(_USSD), None), ("name", _names, None),
          ("number", _matches(_NUMBER_FACT), None))


def facts_in(text: str) -> list[dict]:
    """The facts of one message, in order of appearance (the window of MAX_SCAN_CHARS)."""
    return [{"kind": kind, "text": found} for _start, _end, kind, found in spans_of_facts(text)]


def spans_of_facts(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, text) of each fact, in order; positions in the NFKC window."""
    if not isinstance(text, str):
        return []
    # NFKC: "5 000" with a narrow no-break space, fullwidth digits; no control characters.
    window = encodable(text[:MAX_SCAN_CHARS])[:MAX_SCAN_CHARS]
    taken: list[tuple[int, int, str, str]] = []
    for kind, spans, valid in _KINDS:
        for start, end in spans(window):
            if any(start < e and s < end for s, e, _k, _t in taken):
                continue
            found = window[start:end].strip()
            if (valid is None or valid(found)) and len(taken) < MAX_FACTS:
                taken.append((start, end, name_of(found)[0] if kind == "name" else kind,
                              found))
    return sorted(taken)


# --- entities for the NLU -----------------------------------------------------------------

# Kinds the NLU puts on each message; phone numbers stay with the desk (personal data the
# answers do not need), bare numbers say too little.
ENTITY_KINDS = ("amount", "transaction_id", "ussd_code", "country", "town", "operator", "date")
# The currency of each way of writing it (ISO 4217); "shilling" alone may be Kenyan,
# Tanzanian or Ugandan. A dërëm is five CFA francs.
_UNITS = (("XOF", r"f\s?cfa|fcfa|cfa|xof|francs?|frs?|f"), ("DEREM", r"d[eë]r[eë]m"),
          ("KES", r"kshs?|ksh|kes|bob"), ("shilling", r"shillings?|shilingi|shs?|/="),
          ("NGN", r"naira|ngn|₦|n"), ("USD", r"usd|dollars?|\$"), ("EUR", r"euros?|eur|€"))
_UNIT_PATTERNS = [(unit, re.compile(rf"(?:^|[\s0-9.])(?:{pattern})\.?(?:$|[\s0-9])|^(?:{pattern})",
                                    re.IGNORECASE)) for unit, pattern in _UNITS]
_DIGITS = re.compile(r"[0-9]+(?:[ .,'][0-9]+)*")


def amount_value(text: str) -> dict:
    """An amount as written ("25 000 F", "Ksh.1500", "2k bob", "500 dërëm") as a number and
    a currency, in the shape of Duckling's amount-of-money: {"value": 25000.0, "unit": "XOF"}
    (unit None when the text names none that is known)."""
    digits = _DIGITS.search(text)
    number = _number(digits.group()) if digits else 0.0
    rest = text[digits.end():] if digits else text
    if re.match(r"\s?k(?![^\W\d_])", rest, re.IGNORECASE):
        number *= 1000
    unit = next((u for u, pattern in _UNIT_PATTERNS if pattern.search(text.strip())), None)
    if unit == "DEREM":
        number, unit = number * 5, "XOF"
    return {"value": number, "unit": unit}


def _number(written: str) -> float:
    """A separator before exactly three digits groups thousands; another is the decimal
    point: "25 000", "15.000", "2,500" are whole; "1500,50" is not."""
    parts = re.split(r"[ .,']", written)
    if len(parts) > 1 and len(parts[-1]) != 3:
        return float("".join(parts[:-1]) + "." + parts[-1])
    return float("".join(parts))


def entities(text: str) -> list[dict]:
    """Rasa entities of a message's facts (ENTITY_KINDS): places and operators by their
    canonical name, amounts as {"value", "unit"}, the rest as written."""
    found = []
    for start, end, kind, written in spans_of_facts(text):
        if kind not in ENTITY_KINDS:
            continue
        if kind == "amount":
            value = amount_value(written)
        elif kind in ("country", "town", "operator"):
            value = name_of(written)[1]
        else:
            value = written
        found.append({"entity": kind, "value": value, "start": start, "end": end})
    return found

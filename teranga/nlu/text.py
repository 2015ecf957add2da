"""Text clean-up shared by the channels and the NLU models.

Customers type without accents, stretch words ("merciiii") and mix scripts, so the
models see one canonical form: lower case, no diacritics, no long letter runs.
"""

from __future__ import annotations

import re
import unicodedata

# Letters of Hausa and Wolof orthographies that Unicode does not decompose.
_UNDECOMPOSABLE = str.maketrans({"ɗ": "d", "ƙ": "k", "ɓ": "b", "ƴ": "y", "ŋ": "n", "ß": "ss"})
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")  # letters only: "5000" stays
_WORD = re.compile(r"\b[^\W\d_]+(?:['’-][^\W\d_]+)*\b")
# Control characters other than tab and newline carry no meaning in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t]+")


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

"""The words customers use to name a secret, read from data/privacy/secret_names.yml (per
language: names of a code, of a password, and phrases that name something else), so that
a word the detector does not know can be added by editing a file, without a developer or a
restart: the file is read again when it changes.

Each list becomes one regular expression built as a trie of words, so that hundreds of
phrases cost one pass over the text. The names of a secret are found with the typing slips
customers make in their long words too ("pasword", "verfication", "nenosri", "passwrod"):
one letter left out, doubled, swapped with the next, or a vowel for another."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from teranga.reloading import Reloading
from teranga.settings import PROJECT_ROOT

NAMES_FILE = PROJECT_ROOT / "data" / "privacy" / "secret_names.yml"
KINDS = ("code", "password", "not_a_secret")


class SecretNamesError(ValueError):
    """The names file is not as documented in its header."""


@dataclass(frozen=True)
class SecretNames:
    code: str  # a regular expression's source, "" when the file lists none
    password: str
    not_a_secret: str


def load_secret_names(path: Path) -> SecretNames:
    """The file's phrases, every language together, as trie patterns. No file: none."""
    data = yaml.safe_load(path.read_text("utf-8")) if path.exists() else {}
    if not isinstance(data, dict):
        raise SecretNamesError(f"{path}: expected the sections {', '.join(KINDS)}")
    code, password, not_a_secret = (_phrases(path, data, kind) for kind in KINDS)
    return SecretNames(trie_pattern(_with_slips(code)), trie_pattern(_with_slips(password)),
                       trie_pattern(not_a_secret))


def _phrases(path: Path, data: dict, kind: str) -> list[str]:
    by_language = data.get(kind) or {}
    if not isinstance(by_language, dict):
        raise SecretNamesError(f"{path}: '{kind}' must map each language to its phrases")
    phrases = []
    for language, listed in by_language.items():
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise SecretNamesError(f"{path}: '{kind}.{language}' must be a list of phrases")
        phrases += [" ".join(p.lower().split()) for p in listed if p.strip()]
    listed_once = set(phrases)
    return sorted(p for p in listed_once if not _possessive_of(p, listed_once))


def _possessive_of(phrase: str, phrases: set[str]) -> bool:
    """"my pin" when "pin" is listed: the name alone is found, and the possessive stays in
    what the dialogue reads ("mon •••• et mon transfert est bloqué")."""
    first, _, rest = phrase.partition(" ")
    return first in _LEADING_POSSESSIVES and rest in phrases


def _with_slips(phrases: list[str]) -> list[str]:
    """`phrases` and, for each of their words of MIN_SLIP_LETTERS letters or more, the same
    phrase with that word typed with one slip."""
    more = set(phrases)
    for phrase in phrases:
        words = phrase.split(" ")
        for index, word in enumerate(words):
            if len(word) >= MIN_SLIP_LETTERS and word.isalpha():
                more.update(" ".join([*words[:index], slip, *words[index + 1:]])
                            for slip in _slips(word))
    return sorted(more)


def _slips(word: str) -> set[str]:
    """`word` with one letter left out, doubled, swapped with the next, or a vowel changed."""
    slips = set()
    for i, letter in enumerate(word):
        slips.add(word[:i] + word[i + 1:])
        slips.add(word[:i] + letter + word[i:])
        if i + 1 < len(word):
            slips.add(word[:i] + word[i + 1] + letter + word[i + 2:])
        if letter in _VOWELS:
            slips.update(word[:i] + vowel + word[i + 1:] for vowel in _VOWELS)
    slips.discard(word)
    return slips


# Shorter words have real words one slip away ("pin" and "pen", "code" and "code").
MIN_SLIP_LETTERS = 7
_VOWELS = "aeiou"
_LEADING_POSSESSIVES = frozenset("my mon ma mes notre our sama sa your votre ton".split())
# Words apart by any spaces; an apostrophe typed straight or curly ("qu’on m’a envoyé").
_SPELLED = {" ": r"\s+", "'": "['’]", "’": "['’]"}


def trie_pattern(phrases: list[str]) -> str:
    """One pattern matching any of `phrases` (words apart by any spaces), longest first."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}
    return _pattern(trie) if trie else ""


def _pattern(node: dict) -> str:
    ends_here = "" in node
    branches = [_SPELLED.get(char, re.escape(char)) + _pattern(child)
                for char, child in sorted(node.items(), key=lambda kv: kv[0]) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:
        body = "(?:" + body + ")?"
    return body


_names = Reloading(lambda: NAMES_FILE, load_secret_names)


def secret_names() -> SecretNames:
    return _names.get()

"""What the project knows about each language, read from `languages.yml` at the project root.

The languages the assistant speaks are the files in `data/nlu/` (`nlu_languages`); this
file adds, per language, the facts no other file holds: its own name (shown to customers),
its English name, and the order of languages the knowledge base answers in when an article
is not translated into it. A language without an entry gets defaults: its code as its
name, and the default language (`config.yml`'s LanguageDetector) then English as fallback.

The file is read again when it changes, so the running assistant follows an edit. A
malformed file is a `LanguagesError` naming the file and line; `teranga demo` and
`teranga kb check` stop on it, while a running server logs it and keeps the defaults.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from teranga.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

FILE_NAME = "languages.yml"
FIELDS = ("name", "english_name", "kb_fallback", "vader")
# The language every fallback ends with when languages.yml says nothing: the one the
# knowledge base and the widest share of customers read after their own.
LAST_RESORT = "en"
_CODE = re.compile(r"^[a-z]{2,3}$")


class LanguagesError(ValueError):
    """A mistake in languages.yml; the message names the file and line."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # the language's own name (endonym)
    english_name: str
    kb_fallback: tuple[str, ...]  # other languages, in the order the KB answers in them
    vader: str | None = None  # a module with a VADER analyser for the language, if any


def languages_file(root: Path = PROJECT_ROOT) -> Path:
    return root / FILE_NAME


def read_languages(path: Path) -> dict[str, dict]:
    """The entries of a languages file, in file order: {code: {field: value}}. A missing
    file is no entries; a malformed one raises LanguagesError naming file and line."""
    if not path.exists():
        return {}
    try:
        root = yaml.compose(path.read_text("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise LanguagesError(f"{path}: not valid YAML: {error}") from error
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise LanguagesError(f"{path}, line {root.start_mark.line + 1}: expected a mapping "
                             f"of language codes, such as 'wo:'")
    entries: dict[str, dict] = {}
    for key, value in root.value:
        code = key.value if isinstance(key, yaml.ScalarNode) else ""
        where = f"{path}, line {key.start_mark.line + 1}"
        if not _CODE.match(code):
            raise LanguagesError(f"{where}: {code or key.tag!r} is not a language code (two "
                                 f"or three lower-case letters, as in data/nlu/<code>.yml)")
        if code in entries:
            raise LanguagesError(f"{where}: {code} is declared twice")
        entries[code] = _entry(path, code, value)
    return entries


def _entry(path: Path, code: str, node: yaml.Node) -> dict:
    where = f"{path}, line {node.start_mark.line + 1}"
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise LanguagesError(f"{where}: {code} must be a mapping with {', '.join(FIELDS)}")
    entry: dict = {}
    for key, value in node.value:
        field = key.value if isinstance(key, yaml.ScalarNode) else None
        where = f"{path}, line {key.start_mark.line + 1}"
        if field not in FIELDS:
            raise LanguagesError(f"{where}: {code} has an unknown field {field!r} (known: "
                                 f"{', '.join(FIELDS)})")
        if field == "kb_fallback":
            codes = [item.value for item in value.value] \
                if isinstance(value, yaml.SequenceNode) else None
            if codes is None or not all(_CODE.match(str(c)) for c in codes):
                raise LanguagesError(f"{where}: {code}'s kb_fallback must be a list of "
                                     f"language codes, such as [fr, en]")
            entry[field] = tuple(codes)
        else:
            if not isinstance(value, yaml.ScalarNode) or not value.value.strip():
                raise LanguagesError(f"{where}: {code}'s {field} must be a non-empty text")
            entry[field] = value.value.strip()
    return entry


def default_language(root: Path = PROJECT_ROOT) -> str:
    """The LanguageDetector's default language, as set in config.yml; else the first
    language of languages.yml."""
    config_path = root / "config.yml"
    if config_path.exists():
        config = yaml.safe_load(config_path.read_text("utf-8")) or {}
        for component in config.get("pipeline") or []:
            if str(component.get("name", "")).endswith("LanguageDetector") and \
                    component.get("default_language"):
                return component["default_language"]
    declared = list(read_languages(languages_file(root)))
    if not declared:
        raise LanguagesError(f"no default language: set LanguageDetector's default_language "
                             f"in {config_path}, or declare a language in "
                             f"{languages_file(root)}")
    return declared[0]


class Languages:
    """Every language's facts, from one project folder, following edits of languages.yml."""

    def __init__(self, root: Path = PROJECT_ROOT) -> None:
        self.root = root
        self._stamp: tuple | None = None
        self._entries: dict[str, dict] = {}
        self._default = ""

    def _current(self) -> dict[str, dict]:
        path = languages_file(self.root)
        config = self.root / "config.yml"
        stamp = tuple(p.stat().st_mtime_ns if p.exists() else None for p in (path, config))
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._entries = read_languages(path)
                self._default = default_language(self.root)
            except LanguagesError as error:
                logger.error("%s; using each language's defaults until it is fixed", error)
                self._entries = {}
        return self._entries

    def get(self, code: str) -> Language:
        entry = self._current().get(code, {})
        name = entry.get("name", code)
        fallback = entry.get("kb_fallback", (self._default, LAST_RESORT))
        # The customer's own language is always searched first; listing it again is no-op.
        fallback = tuple(dict.fromkeys(lang for lang in fallback if lang != code))
        return Language(code, name, entry.get("english_name", name), fallback,
                        entry.get("vader"))

    def vader_modules(self) -> dict[str, str]:
        """Language -> the module of its VADER analyser, for the languages that have one."""
        return {code: entry["vader"] for code, entry in self._current().items()
                if entry.get("vader")}

    def ordered(self, codes: list[str]) -> list[str]:
        """The codes in languages.yml's order, then the undeclared ones alphabetically."""
        declared = list(self._current())
        return sorted(codes, key=lambda c: (declared.index(c) if c in declared
                                            else len(declared), c))

    def assistant_languages(self) -> list[str]:
        """The languages the assistant speaks (the files in data/nlu/, as
        `corpora.nlu_languages` reads them), in languages.yml's order."""
        return self.ordered([path.stem for path in (self.root / "data" / "nlu").glob("*.yml")])

    def english_list(self, codes: list[str]) -> str:
        """"French, English or Wolof": the languages' English names, in file order."""
        names = [self.get(code).english_name for code in self.ordered(codes)]
        return "".join(names) if len(names) < 2 else f"{', '.join(names[:-1])} or {names[-1]}"


_project = Languages()


def language(code: str) -> Language:
    """The project's facts about a language (defaults when languages.yml has no entry)."""
    return _project.get(code)


def endonym(code: str) -> str:
    return _project.get(code).name


def kb_fallback(code: str) -> tuple[str, ...]:
    return _project.get(code).kb_fallback


def spoken_in_english() -> str:
    """"French, English, Wolof, Swahili or Hausa": the assistant's languages, in English."""
    return _project.english_list(_project.assistant_languages())


def vader_modules() -> dict[str, str]:
    return _project.vader_modules()


def check() -> None:
    """Raise LanguagesError if languages.yml is malformed (a running server only logs it)."""
    read_languages(languages_file(_project.root))

"""Knowledge-base articles: Markdown files with front matter under `kb/<lang>/`.

Content editors are not developers, so every problem is reported with the file, the line
and what to do about it, in plain words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REQUIRED_FIELDS = ("id", "title", "tags", "updated")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
# What a title or a tag may be in YAML: one value, never a list or mapping (which, through
# YAML aliases, can stand for millions of items).
_SCALARS = (str, int, float)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Problem:
    """One thing an editor must fix."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ArticleError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Section:
    heading: str
    text: str
    line: int


@dataclass(frozen=True)
class Article:
    id: str
    language: str
    title: str
    tags: tuple[str, ...]
    updated: dt.date
    path: Path
    sha256: str
    sections: tuple[Section, ...] = field(default=())


def read_article(path: Path, language: str | None = None) -> Article:
    """Parse one article, or raise ArticleError listing every problem found."""
    language = language or path.parent.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ArticleError([Problem(path, line, "this line has characters that are not UTF-8; "
                                    "save the file as UTF-8 (in most editors: Save as > "
                                    "Encoding: UTF-8)")]) from error
    text = text.lstrip("\ufeff")
    front, body, body_line = _split_front_matter(path, text)
    meta = _parse_front_matter(path, front)
    problems = _check_fields(path, meta)
    sections = _sections(body, body_line)
    if not any(section.text for section in sections):
        problems.append(Problem(path, body_line, "the article has no text after the front "
                                "matter; write the answer below the closing ---"))
    if problems:
        raise ArticleError(problems)
    return Article(
        id=meta["id"], language=language, title=str(meta["title"]).strip(),
        tags=tuple(str(tag) for tag in meta["tags"]), updated=meta["updated"], path=path,
        sha256=hashlib.sha256(raw).hexdigest(), sections=tuple(sections))


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError([Problem(path, 1, "the file must start with a line '---', then the "
                                    "front matter (id, title, tags, updated), then '---'")])
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise ArticleError([Problem(path, 1, "the front matter is not closed: add a line '---' "
                                "after the last field (updated: ...)")])


def _parse_front_matter(path: Path, front: str) -> dict:
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 2  # +1 for the opening ---, +1 for 1-based lines
        reason = getattr(error, "problem", None) or "it cannot be read"
        raise ArticleError([Problem(path, line, f"the front matter is not valid ({reason}); "
                                    "each line must look like 'name: value', and a value "
                                    "containing ':' must be in quotes")]) from error
    if not isinstance(meta, dict):
        raise ArticleError([Problem(path, 2, "the front matter must be lines of 'name: value'")])
    meta["_lines"] = {key: number for number, key in _field_lines(front)}
    return meta


def _field_lines(front: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(front.split("\n"), start=2):
        match = re.match(r"^([A-Za-z_]+)\s*:", line)
        if match:
            yield number, match.group(1)


def _check_fields(path: Path, meta: dict) -> list[Problem]:
    lines = meta.get("_lines", {})
    problems = [Problem(path, 2, f"'{name}:' is missing from the front matter")
                for name in REQUIRED_FIELDS if meta.get(name) in (None, "", [])]
    article_id = meta.get("id")
    if article_id not in (None, "") and not (isinstance(article_id, str) and
                                             _ID.fullmatch(article_id)):
        problems.append(Problem(path, lines.get("id", 2), "the id may contain only lower-case "
                                "letters, digits and dashes, such as 'reset-pin'"))
    title = meta.get("title")
    if title not in (None, "") and not isinstance(title, _SCALARS):
        problems.append(Problem(path, lines.get("title", 2), "the title must be one line of "
                                "text, such as 'title: Reset your PIN'"))
    tags = meta.get("tags")
    if tags not in (None, "", []) and not (isinstance(tags, list) and
                                           all(isinstance(t, _SCALARS) for t in tags)):
        problems.append(Problem(path, lines.get("tags", 2), "tags must be a list of words, "
                                "such as 'tags: [pin, sunucash]'"))
    updated = meta.get("updated")
    if updated not in (None, "") and not isinstance(updated, dt.date):
        problems.append(Problem(path, lines.get("updated", 2), "updated must be a date written "
                                "year-month-day, such as 'updated: 2026-11-01'"))
    return problems


def _sections(body: str, first_line: int) -> list[Section]:
    """The body cut at its headings; text before the first heading is the introduction."""
    sections: list[Section] = []
    heading, start, buffer = "", first_line, []
    for number, line in enumerate(body.split("\n"), start=first_line):
        match = _HEADING.match(line)
        if match:
            sections.append(Section(heading, "\n".join(buffer).strip(), start))
            heading, start, buffer = match.group(2), number, []
        else:
            buffer.append(line)
    sections.append(Section(heading, "\n".join(buffer).strip(), start))
    return [s for s in sections if s.text]


@dataclass
class Catalogue:
    """Every good article, and every problem, found under a knowledge-base folder."""

    articles: list[Article]
    problems: list[Problem]
    languages: list[str] = field(default_factory=list)  # the kb/<lang>/ folders

    def by_language(self) -> dict[str, list[Article]]:
        grouped: dict[str, list[Article]] = {}
        for article in self.articles:
            grouped.setdefault(article.language, []).append(article)
        return grouped

    def missing_translations(self) -> dict[str, list[str]]:
        """For each language, the article ids other languages have and it lacks."""
        ids = {a.id for a in self.articles}
        by_language = self.by_language()
        languages = sorted(set(self.languages) | set(by_language))
        missing = {lang: sorted(ids - {a.id for a in by_language.get(lang, [])})
                   for lang in languages}
        return {lang: article_ids for lang, article_ids in missing.items() if article_ids}


def read_catalogue(kb_dir: Path) -> Catalogue:
    """Read every `kb/<lang>/*.md`; a broken file is reported and left out, never fatal."""
    articles: list[Article] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(kb_dir.glob("*/*.md")):
        try:
            article = read_article(path)
        except ArticleError as error:
            problems.extend(error.problems)
            continue
        key = (article.language, article.id)
        if key in seen:
            problems.append(Problem(path, 2, f"the id '{article.id}' is already used by "
                                    f"{seen[key]}; give each article of a language its own id"))
            continue
        seen[key] = path
        articles.append(article)
    folders = kb_dir.iterdir() if kb_dir.is_dir() else []
    languages = sorted(p.name for p in folders if p.is_dir() and not p.name.startswith("."))
    return Catalogue(articles, problems, languages)

"""Every broken-file case gets a message naming the file, the line and what to fix."""

from pathlib import Path

import pytest

from teranga.knowledge_base.articles import ArticleError, read_article, read_catalogue

GOOD = """---
id: reset-pin
title: Reset your PIN
tags: [pin, sunucash]
updated: 2026-11-01
---
# Reset your PIN

If you forgot your SunuCash PIN, you can choose a new one.

## With your phone

Dial *145*6# and answer your secret questions.

## At an agency

Bring your ID card.
"""


def write(folder: Path, language: str, name: str, content: str | bytes) -> Path:
    path = folder / language / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def test_a_good_article_is_cut_into_sections(tmp_path):
    article = read_article(write(tmp_path, "en", "reset-pin.md", GOOD))
    assert (article.id, article.language, article.title) == ("reset-pin", "en", "Reset your PIN")
    assert [s.heading for s in article.sections] == ["Reset your PIN", "With your phone",
                                                     "At an agency"]
    assert article.sections[1].line == 11


@pytest.mark.parametrize("content, line, words", [
    (GOOD.replace("id: reset-pin\n", ""), 2, "'id:' is missing"),
    (GOOD.replace("title: Reset your PIN", "title: Reset: your PIN: now"), 3, "not valid"),
    (GOOD.replace("---\nid", "id", 1), 1, "must start with a line '---'"),
    (GOOD.replace("updated: 2026-11-01\n---", "updated: 2026-11-01\n"), 1, "not closed"),
    (GOOD.split("# Reset your PIN")[0], 7, "no text"),
    (GOOD.replace("updated: 2026-11-01", "updated: last week"), 5, "year-month-day"),
    (GOOD.replace("tags: [pin, sunucash]", "tags: pin"), 4, "must be a list"),
    (GOOD.replace("id: reset-pin", "id: Reset PIN!"), 2, "lower-case letters"),
])
def test_broken_front_matter_and_body_name_the_line(tmp_path, content, line, words):
    path = write(tmp_path, "en", "reset-pin.md", content)
    with pytest.raises(ArticleError) as error:
        read_article(path)
    problem = error.value.problems[0]
    assert problem.path == path and problem.line == line, str(problem)
    assert words in problem.message


def test_invalid_utf8_names_the_line(tmp_path):
    content = GOOD.encode("utf-8").replace(b"Bring your ID card.", b"Bring your \xe9 ID.")
    with pytest.raises(ArticleError) as error:
        read_article(write(tmp_path, "en", "reset-pin.md", content))
    assert error.value.problems[0].line == 17
    assert "UTF-8" in error.value.problems[0].message


def test_duplicate_ids_and_broken_files_are_reported_not_fatal(tmp_path):
    write(tmp_path, "en", "reset-pin.md", GOOD)
    write(tmp_path, "en", "pin-again.md", GOOD)
    write(tmp_path, "en", "broken.md", "no front matter")
    write(tmp_path, "fr", "reset-pin.md", GOOD.replace("Reset your PIN", "Changer le code"))
    catalogue = read_catalogue(tmp_path)
    assert len(catalogue.articles) == 2
    messages = " ".join(str(p) for p in catalogue.problems)
    assert "already used by" in messages and "broken.md:1" in messages


def test_missing_translations_are_listed(tmp_path):
    write(tmp_path, "en", "reset-pin.md", GOOD)
    write(tmp_path, "en", "other.md", GOOD.replace("id: reset-pin", "id: other"))
    write(tmp_path, "wo", "reset-pin.md", GOOD)
    assert read_catalogue(tmp_path).missing_translations() == {"wo": ["other"]}


def test_the_shipped_knowledge_base_is_valid():
    catalogue = read_catalogue(Path("kb"))
    assert not catalogue.problems, catalogue.problems
    counts = {lang: len(articles) for lang, articles in catalogue.by_language().items()}
    assert counts["fr"] >= 30 and counts["en"] >= 30
    assert min(counts["wo"], counts["sw"], counts["ha"]) >= 12

"""Knowledge-base files as content editors (or a broken editor) might save them: any bytes,
any front matter. Reading the catalogue never fails: each bad file is a problem with its
path and line, and the good files are still read."""

from __future__ import annotations

import string
import tempfile
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from teranga.knowledge_base.articles import read_catalogue
from tests.fuzz.settings import fuzz

GOOD = """---
id: good-article
title: A good article
tags: [pin]
updated: 2026-11-01
---
Some text that answers a question.
"""

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
    | st.dates().map(str),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(string.ascii_letters, max_size=8), children, max_size=4),
    max_leaves=12)


@st.composite
def front_matters(draw) -> str:
    """Front matter that is YAML-ish: right or wrong names, values of any type, odd syntax."""
    names = st.sampled_from(["id", "title", "tags", "updated", "extra", "ID", "Title"])
    lines = []
    for name, value in draw(st.lists(st.tuples(names, yaml_values), max_size=6)):
        rendered = draw(st.sampled_from([repr(value), str(value), f'"{value}"', f"[{value}]"]))
        lines.append(f"{name}: {rendered}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=40)))
    return "\n".join(lines)


@st.composite
def article_files(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "text", "front matter"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")
    body = draw(st.text(max_size=300))
    closing = draw(st.sampled_from(["---", "", "----", " --- "]))
    return f"---\n{draw(front_matters())}\n{closing}\n{body}".encode("utf-8", "surrogatepass")


def _catalogue_of(files: list[bytes]):
    with tempfile.TemporaryDirectory() as folder:
        kb = Path(folder)
        (kb / "fr").mkdir()
        (kb / "fr" / "good.md").write_text(GOOD, "utf-8")
        for number, content in enumerate(files):
            (kb / "fr" / f"article-{number}.md").write_bytes(content)
        return read_catalogue(kb)


@fuzz
@given(st.lists(article_files(), min_size=1, max_size=3))
def test_any_file_is_read_or_reported_with_its_line(files):
    catalogue = _catalogue_of(files)
    assert "good-article" in {a.id for a in catalogue.articles}
    for problem in catalogue.problems:
        assert problem.path.name.startswith("article-") and problem.line >= 1
        assert problem.message
    for article in catalogue.articles:
        assert isinstance(article.title, str) and all(isinstance(t, str) for t in article.tags)


def test_a_yaml_alias_bomb_is_a_problem_not_a_hang():
    """Nine levels of nine aliases: a 387-million-item title once expanded by str()."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = "---\n" + "\n".join(levels) + "\nid: bomb\ntitle: *a8\ntags: *a8\n" \
        "updated: 2026-11-01\n---\ntext\n"
    started = time.monotonic()
    catalogue = _catalogue_of([bomb.encode()])
    assert time.monotonic() - started < 5
    assert any(p.path.name == "article-0.md" for p in catalogue.problems)

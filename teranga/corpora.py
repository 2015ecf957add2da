"""The project's own multilingual text, found by convention so that adding a language
is a data-only change:

- `data/nlu/<lang>.yml`: Rasa NLU examples in that language;
- `data/corpora/<lang>/*.txt`: plain text, one message per line;
- `data/corpora/<lang>/*.tsv`: `text<TAB>label` rows with a header (AfriSenti's format),
  used as text for language identification and as labelled sentiment data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from teranga.fingerprint import files_fingerprint

_TWEET_NOISE = re.compile(r"@\w+|https?://\S+|#|\bRT\b")


def nlu_languages(nlu_dir: Path) -> list[str]:
    return sorted(path.stem for path in nlu_dir.glob("*.yml"))


def nlu_examples(nlu_dir: Path) -> Iterator[tuple[str, str, str]]:
    """(language, intent, text) for every NLU example."""
    for language in nlu_languages(nlu_dir):
        data = RasaYAMLReader().read(nlu_dir / f"{language}.yml")
        for message in data.intent_examples:
            yield language, message.get("intent"), message.get("text")


def language_examples(nlu_dir: Path, corpora_dir: Path, max_corpus_lines: int
                      ) -> Iterator[tuple[str, str]]:
    """(language, text) for what the language detector learns from: every NLU example, then
    the first `max_corpus_lines` texts of each NLU language's corpus."""
    for language, _intent, text in nlu_examples(nlu_dir):
        yield language, text
    for language in nlu_languages(nlu_dir):
        for text in islice(corpus_texts(corpora_dir, language), max_corpus_lines):
            yield language, text


def corpus_texts(corpora_dir: Path, language: str) -> Iterator[str]:
    """Every line of text in a language's corpus folder, tweets stripped of handles and links."""
    folder = corpora_dir / language
    for path in sorted(folder.glob("*.txt")):
        yield from (line.strip() for line in path.read_text("utf-8").splitlines() if line.strip())
    for text, _label in labelled_rows(folder):
        yield text


def labelled_rows(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.tsv")):
        yield from labelled_rows_of(path)


def labelled_rows_of(path: Path) -> Iterator[tuple[str, str]]:
    """(text, label) from one `text<TAB>label` file with a header, tweets cleaned."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)  # header
        for row in reader:
            if len(row) >= 2:
                text = " ".join(_TWEET_NOISE.sub(" ", row[0]).split())
                if text:
                    yield text, row[1].strip()


def fingerprint(*folders: Path) -> str:
    """A hash of every file under the folders: Rasa retrains a component when it changes."""
    return files_fingerprint([folder.resolve() for folder in folders], Path.cwd().resolve())

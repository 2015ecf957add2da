"""The end-to-end answers benchmark's data (bench/answers.py) holds what its table reports:
at least 80 questions per language in the held-out block, out-of-scope and hand-over ones
among them, every label one the assistant can give, no question shared between two blocks
(bench/data/answers/*/) or taken from the training data."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from bench.answers import FOLDER, LANGUAGES, OUT_OF_SCOPE, PERSON, read_questions

INTENTS = set(yaml.safe_load(Path("domain/core.yml").read_text("utf-8"))["intents"])
ARTICLES = {path.stem for path in Path("kb/en").glob("*.md")}


def block(name: str) -> list[dict]:
    return read_questions(sorted((FOLDER / name).glob("*.yml")))


@pytest.mark.parametrize(("name", "least"), [("dev", 40), ("test", 80), ("test-2", 80)])
def test_each_block_has_every_language_and_kind(name, least):
    questions = block(name)
    per_language = Counter(q["language"] for q in questions)
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= least, per_language
    for language in LANGUAGES:
        mine = [q for q in questions if q["language"] == language]
        assert sum(OUT_OF_SCOPE in q["accept"] for q in mine) >= 5, language
        assert sum(PERSON in q["accept"] for q in mine) >= 3, language


BLOCKS = sorted(path.name for path in FOLDER.iterdir() if path.is_dir())


def test_every_label_is_one_the_assistant_can_give():
    for question in [q for name in BLOCKS for q in block(name)]:
        assert question["accept"] and question["text"].strip(), question
        for label in question["accept"]:
            kind, _, name = label.partition(":")
            assert label in (PERSON, OUT_OF_SCOPE) or (kind == "intent" and name in INTENTS) \
                or (kind == "kb" and name in ARTICLES), (label, question["text"])


def test_no_question_is_in_both_blocks_or_in_the_training_data():
    def key(text: str) -> str:
        return " ".join(text.lower().split())

    blocks = {name: {key(q["text"]) for q in block(name)} for name in BLOCKS}
    assert {"dev", "test"} <= set(blocks)
    for one, other in combinations(BLOCKS, 2):
        assert not blocks[one] & blocks[other], (one, other)
    training = set()
    for path in Path("data/nlu").glob("*.yml"):
        for entry in yaml.safe_load(path.read_text("utf-8"))["nlu"]:
            training |= {key(line[2:]) for line in entry["examples"].splitlines()
                         if line.startswith("- ")}
    assert not set().union(*blocks.values()) & training


def test_the_benchmark_reads_what_the_assistant_did():
    from bench.answers import outcome

    def turn(*after):
        return [{"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"},
                 "intent_ranking": [{"name": "nlu_fallback"}, {"name": "check_balance"}]}},
                *after]

    # The short answer given from inside an action is read from the bot message's response.
    agreed = turn({"event": "action", "name": "action_answer_from_kb"},
                  {"event": "bot", "metadata": {"utter_action": "utter_check_balance"}},
                  {"event": "slot", "name": "kb_article", "value": None})
    assert outcome(agreed) == ("intent:check_balance", "check_balance")
    article = turn({"event": "action", "name": "action_answer"},
                   {"event": "bot", "metadata": {"utter_action": "utter_kb_answer"}},
                   {"event": "slot", "name": "kb_article", "value": "roaming"})
    assert outcome(article)[0] == "kb:roaming"
    handed = turn({"event": "action", "name": "action_answer_from_kb"},
                  {"event": "action", "name": "action_handoff"})
    assert outcome(handed)[0] == PERSON
    assert outcome(turn({"event": "action", "name": "utter_out_of_scope"}))[0] == OUT_OF_SCOPE

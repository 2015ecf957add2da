"""Turning a knowledge-base answer into the bot's reply."""

from __future__ import annotations

from teranga.knowledge_base.retriever import KbAnswer
from teranga.languages import endonym


def kb_reply(answer: KbAnswer, customer_language: str) -> tuple[str, dict[str, str]]:
    """The response to utter and its variables, for a confident answer."""
    chunk = answer.chunk
    # "answer", not "text": utter_message takes `text` as the message itself
    variables = {"title": chunk.title, "answer": chunk.text}
    if answer.answer_language == customer_language:
        return "utter_kb_answer", variables
    # The article's language by its own name ("... here it is in Français"), from
    # languages.yml.
    language = answer.answer_language or ""
    return "utter_kb_answer_other_language", {**variables,
                                              "article_language": endonym(language)}

"""Turning a knowledge-base answer into the bot's reply."""

from __future__ import annotations

from teranga.kb.retriever import KbAnswer

# Each language's own name, used when an answer is given in another language than the
# customer's ("... here it is in Français").
ENDONYMS = {"fr": "Français", "en": "English", "wo": "Wolof", "sw": "Kiswahili", "ha": "Hausa"}


def kb_reply(answer: KbAnswer, customer_language: str) -> tuple[str, dict[str, str]]:
    """The response to utter and its variables, for a confident answer."""
    chunk = answer.chunk
    # "answer", not "text": utter_message takes `text` as the message itself
    variables = {"title": chunk.title, "answer": chunk.text}
    if answer.answer_language == customer_language:
        return "utter_kb_answer", variables
    language = answer.answer_language or ""
    return "utter_kb_answer_other_language", {**variables,
                                              "article_language": ENDONYMS.get(language, language)}

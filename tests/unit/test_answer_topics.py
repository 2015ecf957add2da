"""The topics within which an article may replace an intent's answer
(teranga/knowledge_base/topics.py's TOPICS)."""

from __future__ import annotations

from pathlib import Path

import yaml

from teranga.knowledge_base.topics import INTENT_ARTICLES, TOPICS, in_topic


def test_every_intent_answered_by_action_answer_has_a_topic():
    rules = yaml.safe_load(Path("data/rules.yml").read_text("utf-8"))["rules"]
    answered = {rule["steps"][0]["intent"] for rule in rules
                if {"action": "action_answer"} in rule["steps"]}
    assert answered and answered == set(TOPICS)


def test_each_topic_holds_its_intents_own_article_and_only_articles_that_exist():
    articles = {path.stem for path in Path("kb").glob("*/*.md")}
    for intent, topic in TOPICS.items():
        assert topic <= articles, (intent, topic - articles)
        if intent in INTENT_ARTICLES:
            assert INTENT_ARTICLES[intent] in topic


def test_another_intents_article_is_out_of_the_topic():
    assert not in_topic("check_balance", "airtime-recharge")  # "check my credit": no top-up
    assert in_topic("check_balance", "check-balance")
    assert in_topic("send_money", "international-transfer")
    assert in_topic("network_problem", "roaming")
    assert not in_topic("greet", "check-balance") and not in_topic(None, "check-balance")

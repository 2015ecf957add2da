"""Which knowledge-base articles answer the questions of each intent: its own article, and
the articles on the same subject that may answer them more specifically."""

from __future__ import annotations

# The article that answers each intent's questions.
INTENT_ARTICLES = {
    "check_balance": "check-balance", "buy_data_bundle": "tariffs-data-bundles",
    "recharge_airtime": "airtime-recharge", "send_money": "sunucash-send-money-fees",
    "withdraw_cash": "sunucash-withdraw", "transfer_failed": "failed-transfer",
    "reset_pin": "reset-pin", "lost_or_stolen_sim": "lost-stolen-sim", "sim_swap": "sim-swap",
    "network_problem": "network-problems", "agency_hours_location": "agency-hours-locations",
}

# The articles that may answer each service intent's questions more specifically than its
# short response: its own article (INTENT_ARTICLES) and the articles on the same subject that
# no intent has. Another intent's own article is in a topic only where both intents are about
# the same thing (a lost SIM and a new SIM). An article in no topic (a complaint, the call
# rates, becoming an agent, a new article nobody placed) is given only when the knowledge base
# is confident on its own (its calibrated threshold), never in place of an intent's answer.
_SIM_CARD = ("lost-stolen-sim", "sim-swap", "puk-code", "esim", "line-registration")
TOPICS: dict[str, frozenset[str]] = {intent: frozenset(articles) for intent, articles in {
    "check_balance": ("check-balance", "data-usage-tips", "loyalty-points", "sunucash-limits"),
    "buy_data_bundle": ("tariffs-data-bundles", "data-usage-tips", "subscriptions-vas",
                        "roaming", "internet-settings-apn"),
    "recharge_airtime": ("airtime-recharge", "airtime-advance", "credit-transfer"),
    "send_money": ("sunucash-send-money-fees", "international-transfer", "sunucash-limits",
                   "wrong-number-transfer", "credit-transfer", "sunucash-pay-bills",
                   "sunucash-open-account"),
    "withdraw_cash": ("sunucash-withdraw", "sunucash-limits"),
    "transfer_failed": ("failed-transfer", "wrong-number-transfer", "refunds-wrong-charges"),
    "reset_pin": ("reset-pin", "puk-code", "fraud-warnings"),
    "lost_or_stolen_sim": _SIM_CARD,
    "sim_swap": _SIM_CARD,
    "network_problem": ("network-problems", "internet-settings-apn", "roaming"),
    "unexpected_charge": ("refunds-wrong-charges", "subscriptions-vas"),
    "agency_hours_location": ("agency-hours-locations", "customer-service-contact"),
}.items()}


def in_topic(intent: str | None, article_id: str) -> bool:
    """The article answers a question about the intent's subject (TOPICS)."""
    return article_id in TOPICS.get(intent or "", ())

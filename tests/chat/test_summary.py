"""The topic and the guesses a ticket carries come from the substantive messages."""

from __future__ import annotations

from bot.chat.summary import asked_about, merge_guesses


def test_asked_about_joins_the_shoppers_words_in_order() -> None:
    assert asked_about(["Wie bekomme ich die Versandkosten zurück?", "  und  wann?  "]) == (
        "Wie bekomme ich die Versandkosten zurück? · und wann?")
    assert asked_about([]) == ""
    assert asked_about(["refund?", "refund?"]) == "refund?"


def test_a_long_topic_keeps_the_first_and_the_newest_message() -> None:
    texts = ["first question about refunds " * 3, "middle " * 40, "newest about shipping"]
    line = asked_about(texts, limit=120)
    assert len(line) <= 120
    assert line.startswith("first question") and line.endswith("newest about shipping")
    assert "middle" not in line
    assert len(asked_about(["x" * 500], limit=100)) <= 100


def test_guesses_keep_each_entrys_best_score_over_the_conversation() -> None:
    merged = merge_guesses([
        [("refund-shipping-costs", 0.71), ("refund-timeline", 0.55)],
        [("account-gdpr-data", 0.36), ("refund-timeline", 0.60)],
    ])
    assert merged == [("refund-shipping-costs", 0.71), ("refund-timeline", 0.60),
                      ("account-gdpr-data", 0.36)]
    assert merge_guesses([]) == []

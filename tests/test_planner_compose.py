"""Composing offline answers: the sentences and table rows a KB answer quotes, and amounts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crmassist.agent.planner import compose

POLICY = """This policy sets who may approve a discount off list price.

## Approval limits

| Discount off list | Who approves | How |
|---|---|---|
| **up to 10%** | the **sales rep** | rep's own decision |
| **above 10% up to 20%** | the **sales manager** | approval recorded in the CRM |
| **above 20%** | the **VP of Sales** | through the deal desk |

The limit applies to the total discount on the deal, not per line.
"""

RETURNS = """Every return needs an RMA number.

## Return windows

| Item | Return window | Condition |
|---|---|---|
| Purifiers and Office Dispensers | **30 days** from delivery | complete |
| Consumables | **60 days** from delivery | unopened |

After the return window, a faulty unit is repaired under warranty.
"""


def article(text: str) -> list[dict[str, str]]:
    return [{"text": text, "title": "Policy", "cite": "[KB-1]"}]


def test_a_table_row_reads_on_its_own_with_its_column_names() -> None:
    lines = compose.best_sentences(
        "what is the return window for a dispenser?", article(RETURNS)
    ).sentences
    row = "Item: Purifiers and Office Dispensers; Return window: 30 days from delivery; "
    assert f"{row}Condition: complete. [KB-1]" in lines
    assert not any(line.startswith("Return windows") for line in lines)  # a heading


def test_a_number_asked_about_picks_the_row_whose_range_holds_it() -> None:
    lines = compose.best_sentences("who may approve a 15% discount?", article(POLICY)).sentences
    assert any("above 10% up to 20%" in line and "sales manager" in line for line in lines)
    assert not any("VP of Sales" in line for line in lines)


def test_stemmed_terms_match_plural_and_inflected_words() -> None:
    lines = compose.best_sentences("dispensers", article(RETURNS), limit=1).sentences
    assert lines[0].startswith("Item: Purifiers and Office Dispensers")


PHRASES = compose.Phrases(Path(__file__).resolve().parent.parent / "prompts")


def test_amounts_keep_their_cents_and_take_the_askers_currency_word() -> None:
    assert PHRASES.money("en", "384.75", "USD") == "384.75 USD"
    assert PHRASES.money("en", 76000, "USD") == "76,000 USD"
    assert PHRASES.money("zh", 213000, "CNY") == "213,000元"
    rows = [["Dana", 703348.8], ["Grace", 144801.0]]
    assert compose.table(["owner", "sum"], rows).splitlines()[2:] == [
        "| Dana | 703,348.80 |",
        "| Grace | 144,801.00 |",
    ]


ESCALATION = """An urgent ticket is one where the customer has no water.
The first-response target is 1 hour, 24/7.

| Time since ticket created | Who acts | Action |
|---|---|---|
| 0 min | system | the on-call engineer is paged |
| 45 min, no first response yet | support lead | takes over |
| 60 min, no first response | service manager | SLA breached |
"""


def test_column_names_on_every_row_do_not_outweigh_the_sentence_that_answers() -> None:
    question = "what is the first response time for urgent tickets?"
    lines = compose.best_sentences(question, article(ESCALATION), limit=2).sentences
    assert "The first-response target is 1 hour, 24/7. [KB-1]" in lines
    assert not any("min" in line for line in lines)


def test_the_whole_answer_keeps_the_sentence_that_answers_beside_the_rows() -> None:
    question = "what is the first response time for urgent tickets?"
    lines = compose.best_sentences(question, article(ESCALATION), limit=3).sentences
    assert "The first-response target is 1 hour, 24/7. [KB-1]" in lines


PRIORITIES = """Every support ticket gets a priority that sets its first-response target.
A first response means an engineer has reviewed the ticket and contacted you.

| Priority | Meaning | First response |
|---|---|---|
| Urgent | no water, active leak | 1 hour |
| High | one unit down | 4 hours |
| Normal | degraded performance | 1 business day |
"""


def test_a_question_naming_a_column_reads_that_column_of_the_row_it_names() -> None:
    question = "first response target for a high prio ticket"
    lines = compose.best_sentences(question, article(PRIORITIES), limit=2).sentences
    assert "Priority: High; Meaning: one unit down; First response: 4 hours. [KB-1]" in lines
    assert not any("Urgent" in line or "Normal" in line for line in lines)


def test_a_column_only_partly_named_does_not_count() -> None:
    [row] = [p for p in compose._passages(ESCALATION) if p.matched.startswith("0 min")]
    wanted = compose._TERMS.terms("what is the first response time for urgent tickets?")
    assert compose._named_columns(row, wanted) == set()  # "Time since ticket created"
    first = next(p for p in compose._passages(PRIORITIES) if p.matched.startswith("High"))
    assert compose._named_columns(first, wanted) == compose._TERMS.terms("first response")


LEAK = """Error E2 means the leak sensor has detected water.

## Step 1 – Make the site safe
1. **Shut off the inlet** valve.
2. Unplug the unit. Keep sockets away from water.
3. Put towels under the cabinet.

## Step 2 – Restart
1. Dry the sensor pads.
2. Plug the unit back in.
"""


def test_a_how_to_question_gets_the_first_procedure_whole_and_in_order() -> None:
    extract = compose.best_sentences("how do I fix error E2?", article(LEAK))
    assert extract.markdown().splitlines() == [
        "- Error E2 means the leak sensor has detected water. [KB-1]",
        "",
        "1. Shut off the inlet valve. [KB-1]",
        "2. Unplug the unit. Keep sockets away from water. [KB-1]",
        "3. Put towels under the cabinet. [KB-1]",
    ]


def test_chinese_how_to_questions_get_the_procedure_and_how_is_it_does_not() -> None:
    assert compose.best_sentences("E2 漏水怎么处理", article(LEAK)).steps
    assert not compose.best_sentences("E2 传感器怎么样", article(LEAK)).steps


def test_how_often_is_not_a_how_to_question() -> None:
    extract = compose.best_sentences("how often does the sensor fail?", article(LEAK))
    assert extract.steps == [] and len(extract.sentences) == 3  # steps may still be quoted


def test_dates_are_written_in_the_askers_language_with_the_year_only_when_needed() -> None:
    today = date(2026, 11, 20)
    assert PHRASES.day("en", date(2026, 11, 24), today) == "Tuesday 24 November"
    assert PHRASES.day("zh", "2026-11-24", today) == "11月24日（周二）"
    assert PHRASES.day("zh", "2025-02-14T10:00:00Z", today) == "2025年2月14日（周五）"
    assert PHRASES.day("en", None, today) == "no date"


def test_stored_codes_are_labelled_and_unknown_codes_stay_as_stored() -> None:
    assert PHRASES.label("zh", "stage", "negotiation") == "谈判"
    assert PHRASES.label("zh", "channel", "call") == "通话"
    assert PHRASES.label("en", "stage", "closed_won") == "closed won"
    assert PHRASES.label("zh", "stage", "custom-stage") == "custom-stage"
    assert PHRASES.columns("zh", ["owner", "sum"]) == ["负责人", "金额"]


def test_every_label_group_has_the_same_codes_in_every_language() -> None:
    en, zh = PHRASES.labels["en"], PHRASES.labels["zh"]
    assert set(en) == set(zh)
    for group in ("channel", "stage", "lifecycle", "priority", "ticket_status", "tier", "risk"):
        assert set(en[group]) == set(zh[group]), group


DESCALING = """The Kettle K2 descaler removes limescale from the Kettle K2 heating element.
Use the Kettle K2 sachet; other descalers void the Kettle K2 warranty.
Plan on 20 minutes for the whole cycle.
Repeat it every 3 months in hard-water areas.
A replacement Kettle K2 sachet costs USD 12.
Empty the Kettle K2 and let it cool before you start.
Pour the dissolved sachet into the Kettle K2 and switch it on.
The Kettle K2 lamp blinks while the cycle runs.
Rinse the Kettle K2 with fresh water when the lamp goes out.
"""

DESCALING_ZH = """K2 水壶除垢剂可去除加热元件上的水垢。
请使用 K2 原装除垢包，其他除垢剂会导致 K2 保修失效。
整个除垢过程约需 20 分钟。
硬水地区每 3 个月除垢一次。
K2 除垢包单价 12 美元。
"""


def kettle(text: str) -> list[dict[str, str]]:
    return [{"text": text, "title": "Descaling the Kettle K2", "cite": "[KB-9]"}]


@pytest.mark.parametrize(
    ("text", "question", "answer"),
    [
        (DESCALING, "how long will a K2 treatment take?", "20 minutes"),
        (DESCALING, "how often is K2 upkeep due?", "every 3 months"),
        (DESCALING, "what do K2 refills cost?", "USD 12"),
        (DESCALING_ZH, "K2 除垢要多久", "20 分钟"),
        (DESCALING_ZH, "K2 多长时间除一次垢", "每 3 个月"),
        (DESCALING_ZH, "K2 除垢包多少钱", "12 美元"),
    ],
)
def test_the_line_with_the_kind_of_quantity_asked_for_answers_in_other_words(
    text: str, question: str, answer: str
) -> None:
    """No answering English line shares a word with its question, and the opening line
    names the product asked about: the quantity of the kind asked for decides."""
    lines = compose.best_sentences(question, kettle(text), limit=1).sentences
    assert answer in lines[0]


def test_answer_types_read_question_words_not_topics() -> None:
    from crmassist.agent.planner.answer_types import asked_types

    assert {t.name for t in asked_types("how long is the warranty")} == {"duration", "quantity"}
    assert {t.name for t in asked_types("what's the max temperature")} >= {"temperature"}
    assert {t.name for t in asked_types("水压最低要多少")} >= {"pressure", "quantity"}
    assert asked_types("who approves the discount request") != ()
    assert asked_types("reset the unit after a power cut") == ()


def test_a_number_of_days_is_singular_for_one() -> None:
    assert [PHRASES.days("en", n) for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert PHRASES.days("zh", 1) == "1天"
    line = PHRASES.say(
        "en",
        "brief_last_contact",
        channel="call",
        date="Thursday",
        days=PHRASES.days("en", 1),
        id="I1",
    )
    assert "1 day ago" in line


FAQ = """**How are invoices delivered?**
By e-mail to the billing contact, as a PDF.

**What are the payment terms?**
**30 days net** for businesses with approved credit. Other customers pay at order.
"""


def test_a_question_line_is_quoted_with_the_line_that_answers_it() -> None:
    lines = compose.best_sentences("payment terms for businesses", article(FAQ), limit=1)
    assert lines.sentences == [
        "What are the payment terms? 30 days net for businesses with approved credit. [KB-1]"
    ]

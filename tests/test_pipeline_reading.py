"""Reading pipeline questions into the typed query's arguments, and wording the answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crmassist.agent.planner.compose import Phrases, period_name, pipeline_answer
from crmassist.agent.planner.pipeline_reading import (
    Vocabulary,
    completed,
    is_follow_up,
    normalised,
    only_regroups,
    read_pipeline,
    refine,
    speaks_of_deals,
    top_n,
    wants_winner,
)
from crmassist.domain.periods import parse_period

TODAY = date(2026, 11, 20)
WORDS = Vocabulary(
    regions=["China", "EMEA"],
    industries=["Hospitality", "Food & Beverage"],
    products=["AquaPure Pro 500", "FlowGuard Industrial"],
    owners=["Dana Whitfield", "<PERSON_1a2b>"],
    teams=["Enterprise West"],
    accounts=["Acme Corporation"],
)
PHRASES = Phrases(Path(__file__).resolve().parent.parent / "prompts")


def read(text: str) -> dict[str, Any]:
    return read_pipeline(text, WORDS, TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("which deals over 50k in negotiation slipped this quarter?",
         {"stages": ["negotiation"], "min_amount": "50000", "slipped": True,
          "close_period": "this quarter"}),
        ("pipeline by stage", {"group_by": "stage"}),
        ("weighted forecast by owner", {"group_by": "owner", "metric": "weighted_sum"}),
        ("how many deals did we win last quarter",
         {"stages": ["closed_won"], "close_period": "last quarter", "metric": "count"}),
        ("total value of my open deals under $20,000",
         {"open_only": True, "max_amount": "20000", "metric": "sum", "mine": "me"}),
        ("本季度谈判阶段超过5万的商机",
         {"stages": ["negotiation"], "min_amount": "50000", "close_period": "本季度"}),
        ("top 5 deals in China", {"regions": ["China"], "limit": 5, "sort": "amount_desc"}),
        ("total amount of won deals closed in Q3 2017",
         {"stages": ["closed_won"], "metric": "sum", "close_period": "q3 2017"}),
        ("how many deals did we lose in the second quarter of 2017",
         {"stages": ["closed_lost"], "metric": "count",
          "close_period": "the second quarter of 2017"}),
        ("which rep won the most revenue in Q4",
         {"stages": ["closed_won"], "metric": "sum", "group_by": "owner", "close_period": "q4"}),
        ("top 5 accounts by won amount",
         {"stages": ["closed_won"], "metric": "sum", "group_by": "account", "limit": 5}),
        ("哪个销售赢单金额最高", {"stages": ["closed_won"], "metric": "sum", "group_by": "owner"}),
        ("won deals last qtr", {"stages": ["closed_won"], "close_period": "last quarter"}),
        ("lost in 2q 2017", {"stages": ["closed_lost"], "close_period": "q2 2017"}),
        ("avg deal size in negotation", {"metric": "average", "stages": ["negotiation"]}),
        ("totl revenu from won deals", {"metric": "sum", "stages": ["closed_won"]}),
        ("win rate by value in H1 2017", {"metric": "win_rate_value", "close_period": "h1 2017"}),
        ("赢单率 2017年", {"metric": "win_rate", "close_period": "2017年"}),
        ("average sales cycle of won deals", {"metric": "sales_cycle", "stages": ["closed_won"]}),
        ("median deal in 2017", {"metric": "median", "close_period": "2017"}),
        ("smallest won deal", {"metric": "min", "stages": ["closed_won"]}),
        ("deals between 10k and 1.2m", {"min_amount": "10000", "max_amount": "1200000.0"}),
        ("100k+ deals", {"min_amount": "100000"}),
        ("10万以上的赢单", {"min_amount": "100000", "stages": ["closed_won"]}),
        ("deals created in 2017 that closed in 2018",
         {"created_period": "2017", "close_period": "2018",
          "stages": ["closed_won", "closed_lost"]}),
        ("how many deals were created last month",
         {"created_period": "last month", "metric": "count"}),
        ("how much did Dana Whitfield win", {"owner_names": ["Dana Whitfield"], "metric": "sum",
                                             "stages": ["closed_won"]}),
        ("what did <PERSON_1a2b> lose in 2017?",
         {"owner_names": ["<PERSON_1a2b>"], "stages": ["closed_lost"], "close_period": "2017"}),
        ("my team's won deals", {"stages": ["closed_won"], "mine": "my_team"}),
        ("我的赢单", {"stages": ["closed_won"], "mine": "me"}),
        ("won Food & Beverage deals for AquaPure Pro 500 in EMEA",
         {"stages": ["closed_won"], "industries": ["Food & Beverage"],
          "products": ["AquaPure Pro 500"], "regions": ["EMEA"]}),
        ("open pipeline for Acme Corporation by month",
         {"open_only": True, "account_names": ["Acme Corporation"], "group_by": "close_month",
          "sort": "group_asc"}),
        ("closed deals in 2017", {"stages": ["closed_won", "closed_lost"], "close_period": "2017"}),
        ("deals closing next month", {"close_period": "next month"}),
        ("which team lost the most deals", {"stages": ["closed_lost"], "group_by": "team",
                                            "metric": "count"}),
        ("按地区统计去年12月的赢单金额",
         {"group_by": "region", "close_period": "去年12月", "metric": "sum",
          "stages": ["closed_won"]}),
        # English glued to Chinese, Chinese counts, chances, closes still to come
        ("Q1的won deals总额", {"close_period": "q1", "stages": ["closed_won"], "metric": "sum"}),
        ("lost的商机有几个", {"stages": ["closed_lost"], "metric": "count"}),
        ("赢单最多的前五个行业", {"stages": ["closed_won"], "group_by": "industry", "limit": 5,
                                  "metric": "sum"}),
        ("deals with a win probability of 80% or more", {"min_probability": 80}),
        ("概率低于30%的商机", {"max_probability": 30}),
        ("deals at 40% probability", {"min_probability": 40, "max_probability": 40}),
        ("deals expected to close this month", {"close_period": "this month", "open_only": True}),
        ("deals still open after their close date", {"slipped": True}),
        ("下个月要签约的商机", {"close_period": "下个月", "open_only": True}),
        ("compare regions by won amount", {"group_by": "region", "stages": ["closed_won"],
                                           "metric": "sum"}),
    ],
)  # fmt: skip
def test_reading(text: str, expected: dict[str, Any]) -> None:
    assert read(text) == expected


def test_a_name_that_is_both_a_team_and_a_region_is_the_one_its_word_says() -> None:
    words = Vocabulary(regions=["APAC", "EMEA"], teams=["APAC"])
    assert read_pipeline("APAC团队的商机", words, TODAY) == {"team_names": ["APAC"]}
    assert read_pipeline("deals in the APAC region", words, TODAY) == {"regions": ["APAC"]}
    both = read_pipeline("APAC deals", words, TODAY)
    assert both == {"team_names": ["APAC"], "regions": ["APAC"]}


def test_chinese_counts_in_top_n() -> None:
    assert [top_n(t) for t in ("前三个客户", "前十名", "前12", "前二十个")] == [3, 10, 12, 20]


def test_periods_read_from_questions_are_ones_the_tool_reads_again() -> None:
    for text in ("won deals last qtr", "lost in 2q 2017", "2017年3月输单", "won in Dec '17"):
        label = read(text)["close_period"]
        assert parse_period(label, TODAY) is not None, label


def test_amounts_are_never_read_as_years() -> None:
    assert read("deals over 2000") == {"min_amount": "2000"}
    assert read("won over 2000 in 2017") == {
        "min_amount": "2000",
        "close_period": "2017",
        "stages": ["closed_won"],
    }


def test_shorthand_and_typos() -> None:
    assert normalised("Won opps last qtr, avg amt") == "won deals last quarter, average amount"
    assert normalised("negotation quater") == "negotiation quarter"
    assert normalised("ask <PERSON_1a2b> about it") == "ask <PERSON_1a2b> about it"


@pytest.mark.parametrize(
    ("text", "winner"),
    [
        ("which rep won the most in Q4?", True),
        ("who lost the most deals", True),
        ("哪个行业赢单最多", True),
        ("top 5 accounts by won amount", False),
        ("won deals by owner", False),
        ("what is the largest deal", False),
    ],
)
def test_superlatives_ask_for_a_winner(text: str, winner: bool) -> None:
    assert wants_winner(text) is winner


def test_follow_ups_refine_the_previous_question() -> None:
    first = completed(read("total amount of won deals closed in Q3 2017"))
    assert is_follow_up("only the ones over 100k") and is_follow_up("只看谈判阶段")
    assert is_follow_up("and by owner?") and is_follow_up("按负责人呢？")
    assert not is_follow_up("pipeline by stage")
    narrower = refine(first, read("only the ones over 100k"))
    assert narrower == {**first, "min_amount": "100000"}
    grouped = refine(narrower, read("and by owner?"))
    assert grouped["group_by"] == "owner" and grouped["min_amount"] == "100000"
    assert refine(first, read("只看谈判阶段"))["stages"] == ["negotiation"]
    assert "open_only" not in refine({"open_only": True}, read("only negotiation"))


def test_a_request_that_only_regroups_refines_the_last_question() -> None:
    assert only_regroups(read("按负责人分组")) and only_regroups(read("by owner"))
    assert not only_regroups(read("won deals by owner")) and not only_regroups({})


def test_a_list_of_deals_leads_with_its_total() -> None:
    assert completed({"stages": ["closed_won"]})["metric"] == "sum"
    assert completed({"group_by": "stage"}) == {"group_by": "stage"}
    assert completed({}) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deals that should close in january", {"close_period": "january"}),
        ("which deals are closing this quarter", {"close_period": "this quarter"}),
        ("open opportunities past the close date", {"slipped": True}),
        ("deals not closed yet in EMEA", {"regions": ["EMEA"], "open_only": True}),
        ("my not-yet-closed deals", {"mine": "me", "open_only": True}),
        ("how many euros are in my unclosed deals",
         {"metric": "sum", "open_only": True, "mine": "me"}),
        ("count of deals by close month",
         {"metric": "count", "group_by": "close_month", "sort": "group_asc"}),
        ("计划下季度成交的商机", {"close_period": "下季度"}),
        ("超过成交日期仍未关闭的商机", {"slipped": True}),
        ("上季度成交了几单",
         {"close_period": "上季度", "stages": ["closed_won"], "metric": "count"}),
        ("closed deals last year",
         {"close_period": "last year", "stages": ["closed_won", "closed_lost"]}),
    ],
)  # fmt: skip
def test_closing_is_a_date_unless_the_deal_is_closed(text: str, expected: dict[str, Any]) -> None:
    """ "Close" and 预计成交 speak of the close date; "closed" and 成交了 of the stage."""
    assert read(text) == expected


@pytest.mark.parametrize(
    ("start", "end", "en", "zh"),
    [
        ("2017-07-01", "2017-09-30", "Q3 2017", "2017年第三季度"),
        ("2017-01-01", "2017-12-31", "2017", "2017年"),
        ("2017-07-01", "2017-12-31", "H2 2017", "2017年下半年"),
        ("2017-12-01", "2017-12-31", "December 2017", "2017年12月"),
        ("2017-12-03", "2017-12-31", "2017-12-03 to 2017-12-31", "2017-12-03至2017-12-31"),
    ],
)
def test_periods_are_named_by_the_calendar(start: str, end: str, en: str, zh: str) -> None:
    assert period_name(start, end, "en") == en
    assert period_name(start, end, "zh") == zh


def _result(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "columns": ["id", "deal", "account", "stage", "amount", "currency", "close_date"],
        "rows": [[f"O{n}", "d", "a", "closed_won", 1000.0, "USD", "2017-08-01"] for n in range(25)],
        "deal_count": 1257,
        "metric": "sum",
        "totals": [{"currency": "USD", "value": 2982255.0, "deals": 1257}],
        "group_count": None,
        "query": {"stages": ["closed_won"], "metric": "sum", "close_from": "2017-07-01",
                  "close_to": "2017-09-30"},
    }  # fmt: skip
    return {**result, **changes}


def test_the_answer_leads_with_the_number() -> None:
    answer = pipeline_answer(PHRASES, "en", _result(), winner=False).splitlines()
    assert answer[0] == "Won in Q3 2017: USD 2,982,255 across 1,257 deals."
    assert answer.count("…and 1,237 more deals.") == 1
    assert len([line for line in answer if line.startswith("| O")]) == 20
    zh = pipeline_answer(PHRASES, "zh", _result(), winner=False).splitlines()[0]
    assert zh == "2017年第三季度赢单：USD 2,982,255，共1,257个商机。"


def test_the_table_speaks_the_askers_language() -> None:
    zh = pipeline_answer(PHRASES, "zh", _result(), winner=False).splitlines()
    assert zh[1] == "| 编号 | 商机 | 客户 | 阶段 | 金额 | 币种 | 预计成交日 |"
    assert zh[3].startswith("| O0 | d | a | 赢单 | 1,000 | USD |")
    en = pipeline_answer(PHRASES, "en", _result(), winner=False).splitlines()
    assert en[3].startswith("| O0 | d | a | closed won | 1,000 | USD |")


def test_a_superlative_names_the_winner_first() -> None:
    grouped = _result(
        columns=["owner", "currency", "deals", "sum"],
        rows=[["Darcel Schlecht", "USD", 167, 1153214.0], ["Vicki Laflamme", "USD", 120, 9.0e5]],
        group_count=2,
        query={"stages": ["closed_won"], "metric": "sum", "group_by": "owner",
               "close_from": "2017-10-01", "close_to": "2017-12-31"},
    )  # fmt: skip
    head = pipeline_answer(PHRASES, "en", grouped, winner=True).splitlines()[0]
    assert head == "Darcel Schlecht won the most in Q4 2017: USD 1,153,214 (167 deals)."
    zh = pipeline_answer(PHRASES, "zh", grouped, winner=True).splitlines()[0]
    assert zh == "2017年第四季度赢单金额最高的是Darcel Schlecht：USD 1,153,214（167个商机）。"


def test_win_rates_say_what_they_are_of() -> None:
    rate = _result(
        metric="win_rate",
        totals=[{"currency": None, "value": 44.47, "deals": 5615, "won": 2497, "closed": 5615}],
        query={"metric": "win_rate", "close_from": "2017-01-01", "close_to": "2017-12-31"},
    )
    head = pipeline_answer(PHRASES, "en", rate, winner=False).splitlines()[0]
    assert head == "All deals in 2017: win rate 44.5% (2,497 won of 5,615 closed deals)."


def test_how_long_is_a_sales_cycle_only_about_closing_deals() -> None:
    assert read("滤芯多久更换一次") == {}  # a service question, not a pipeline one
    assert read("赢单平均多久成交")["metric"] == "sales_cycle"


@pytest.mark.parametrize(
    ("text", "deals"),
    [
        ("what deals does Acme have", True),
        ("Acme's forecast", True),
        ("how much did we win with Acme this year", True),
        ("我们在西湖酒店有哪些商机", True),
        ("is Acme comparing us with a competitor?", False),
        ("results of the Acme site survey", False),
        ("what did Acme's plant manager ask about the installation?", False),
    ],
)
def test_speaks_of_deals(text: str, deals: bool) -> None:
    assert speaks_of_deals(text, WORDS, TODAY) is deals


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("top 5 accounts", 5),
        ("best 3 customers", 3),
        ("the 10 biggest deals", 10),
        ("前8名客户", 8),
    ],
)
def test_top_n(text: str, n: int) -> None:
    assert top_n(text) == n

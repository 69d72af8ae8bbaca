"""The offline planner's reading of requests: intents, customers, arguments, EN and ZH."""

from __future__ import annotations

from datetime import date

import pytest

from crmassist.agent.planner.understanding import (
    IntentModel,
    find_mention,
    log_arguments,
    named_phrases,
    task_arguments,
)
from crmassist.domain.enums import Channel
from crmassist.settings import Settings

TODAY = date(2026, 11, 20)
INTENTS = IntentModel.load(Settings().prompts_dir)
LEXICON = ["Acme Corporation", "Harbor Lights Hotel", "杭州西湖国际酒店", "<PERSON_ab12>"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how do I fix error E3?", "search_knowledge"),
        ("what is the warranty on the FlowGuard pump?", "search_knowledge"),
        ("净水器漏水怎么办", "search_knowledge"),
        ("prepare me for my meeting with Acme", "customer_overview"),
        ("tell me about Harbor Lights", "customer_overview"),
        ("介绍一下杭州西湖国际酒店", "customer_overview"),
        ("what happened with Acme last week?", "search_interactions"),
        ("what did we promise <PERSON_ab12>?", "search_interactions"),
        ("上个月和西湖酒店沟通了什么", "search_interactions"),
        ("and their open tickets?", "open_tickets"),
        ("log a call with Acme: they want the quote by Friday", "log_interaction"),
        ("I just called Maria, she confirmed the visit", "log_interaction"),
        ("draft a follow-up email to her", "draft_follow_up"),
        ("给王芳起草一封跟进邮件", "draft_follow_up"),
        ("which deals over 50k in negotiation slipped this quarter?", "pipeline_query"),
        ("pipeline by stage", "pipeline_query"),
        ("本季度谈判阶段超过5万的商机", "pipeline_query"),
        ("who are my high-value customers?", "customer_segments"),
        ("which customers are at risk of churning?", "churn_risk"),
        ("remind me to call Acme next Tuesday", "create_task"),
        ("提醒我下周二给王芳回电话", "create_task"),
        ("what are my tasks this week?", "list_tasks"),
        ("help", "help"),
    ],
)
def test_intents(text: str, intent: str) -> None:
    assert INTENTS.classify(text) == intent


@pytest.mark.parametrize("text", ["asdf qwer", "the", "🙂", "lorem ipsum dolor"])
def test_nonsense_is_not_guessed(text: str) -> None:
    assert INTENTS.classify(text) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("prep me for acme", "Acme Corporation"),
        ("what happened with Acmee last week", "Acme Corporation"),
        ("tell me about harbor lights", "Harbor Lights Hotel"),
        ("上个月和西湖酒店沟通了什么", "杭州西湖国际酒店"),
        ("draft an email to <PERSON_ab12>", "<PERSON_ab12>"),
    ],
)
def test_mentions(text: str, name: str) -> None:
    mention = find_mention(text, LEXICON)
    assert mention is not None and mention.name == name


@pytest.mark.parametrize("text", ["what are my tasks this week?", "how do I fix error E3?"])
def test_no_mention(text: str) -> None:
    assert find_mention(text, LEXICON) is None


def test_named_phrases_for_customers_outside_the_lexicon() -> None:
    assert named_phrases("tell me about Blue River Hotels") == ["Blue River Hotels"]
    assert named_phrases("介绍一下上海某某公司") == ["上海某某公司"]
    assert named_phrases("prep me for my call with Maria about Acme") == ["Maria", "Acme"]


def test_one_shared_word_is_no_mention_when_the_text_names_someone_else() -> None:
    lexicon = [*LEXICON, "Marina Bay Offices Pte Ltd"]
    assert find_mention("prepare me for my meeting with Marina Bay Offices", lexicon)
    assert find_mention("prepare me for my meeting with Portland City Offices", lexicon) is None
    mention = find_mention("prep me for my call with Maria about Acme", LEXICON)
    assert mention is not None and mention.name == "Acme Corporation"


def test_log_arguments() -> None:
    reading = log_arguments(
        "log a call with Acme: Maria confirmed the site visit, follow up next Tuesday", TODAY
    )
    assert reading.channel is Channel.CALL
    assert reading.summary == "Maria confirmed the site visit, follow up next Tuesday"
    assert reading.follow_up == "next Tuesday"
    met = log_arguments("Met the hotel GM yesterday about the spa dispensers", TODAY)
    assert met.channel is Channel.MEETING and met.when == "yesterday" and met.follow_up is None
    zh = log_arguments("记录一下：今天和王芳通了电话，下周二回访", TODAY)
    assert zh.channel is Channel.CALL and zh.follow_up is not None


def test_task_arguments() -> None:
    assert task_arguments("remind me to call Acme next Tuesday", TODAY) == {
        "title": "Call Acme",
        "due": "2026-11-24",
    }
    assert task_arguments("提醒我下周二给王芳回电话", TODAY)["due"] == "2026-11-24"
    assert task_arguments("remind me to update the forecast", TODAY) == {
        "title": "Update the forecast"
    }

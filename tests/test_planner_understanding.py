"""The offline planner's reading of requests: intents, customers, arguments, EN and ZH;
and what it does when it is unsure (asks back with choices instead of guessing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from crmassist.agent.planner.compose import Phrases
from crmassist.agent.planner.intents import NONE, IntentClassifier, Reading
from crmassist.agent.planner.model import Clarification, Planner, Turn
from crmassist.agent.planner.pipeline_reading import Vocabulary
from crmassist.agent.planner.understanding import (
    Mention,
    asks_a_question,
    asks_only_for_a_language,
    commanded_intent,
    find_mention,
    intents_without_their_words,
    is_fragment,
    language_asked,
    log_arguments,
    named_phrases,
    names_an_article,
    spelled_as,
    stage_argument,
    task_arguments,
    tier_argument,
)
from crmassist.domain.enums import Channel
from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder
from crmassist.settings import Settings

TODAY = date(2026, 11, 20)
PROMPTS = Settings().prompts_dir
LEXICON = ["Acme Corporation", "Harbor Lights Hotel", "杭州西湖国际酒店", "<PERSON_ab12>"]
TOOLS = {
    "search_knowledge", "find_customer", "customer_overview", "search_interactions",
    "log_interaction", "draft_follow_up", "pipeline_query", "customer_segments", "churn_risk",
    "create_task", "list_tasks",
}  # fmt: skip


@pytest.fixture(scope="module")
def intents(tmp_path_factory: pytest.TempPathFactory) -> IntentClassifier:
    """One cache per test session (shared with tests/test_intents.py): built once."""
    cache = Path(tmp_path_factory.getbasetemp()) / "intent-cache-shared"
    return IntentClassifier.build(PROMPTS, E5Encoder(), E5_MODEL, cache, bar=0.5)


def planner(intents: IntentClassifier) -> Planner:
    return Planner(intents, Phrases(PROMPTS), LEXICON, Vocabulary(regions=["China", "EMEA"]))


def turn(request: str, **fields: object) -> Turn:
    lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in request) else "en"
    values: dict[str, object] = {
        "request": request, "lang": lang, "today": TODAY, "user_id": "U001",
        "account_id": None, "contact_id": None, "calls": [],
    }  # fmt: skip
    return Turn(**(values | fields))  # type: ignore[arg-type]


@pytest.mark.slow
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
        ("他们的工单呢", "open_tickets"),
        ("log a call with Acme: they want the quote by Friday", "log_interaction"),
        ("I just called Maria, she confirmed the visit", "log_interaction"),
        ("draft a follow-up email to her", "draft_follow_up"),
        ("draft an email to her", "draft_follow_up"),
        ("给王芳起草一封跟进邮件", "draft_follow_up"),
        ("which deals over 50k in negotiation slipped this quarter?", "pipeline_query"),
        ("pipeline by stage", "pipeline_query"),
        ("本季度谈判阶段超过5万的商机", "pipeline_query"),
        ("只看谈判阶段", "pipeline_query"),
        ("who are my high-value customers?", "customer_segments"),
        ("which customers are at risk of churning?", "churn_risk"),
        ("remind me to call Acme next Tuesday", "create_task"),
        ("提醒我下周二给王芳回电话", "create_task"),
        ("what are my tasks this week?", "list_tasks"),
        ("how much revenue will Acme bring over the coming year?", "customer_value"),
        ("客户价值预测排行", "customer_value"),
        ("when did Harbor Lights start to look like churning, and why?", "lifecycle_history"),
        ("哪些客户这个季度变成了忠诚客户", "lifecycle_history"),
        ("what about last month?", "search_interactions"),
        ("help", "help"),
    ],
)
def test_intents(intents: IntentClassifier, text: str, intent: str) -> None:
    assert intents.classify(text) == intent


@pytest.mark.slow
@pytest.mark.parametrize("text", ["asdf qwer", "🙂", "lorem ipsum dolor", "what's the weather?"])
def test_nonsense_is_not_guessed(intents: IntentClassifier, text: str) -> None:
    assert intents.classify(text) is None
    assert planner(intents).next_step(turn(text), TOOLS) == Phrases(PROMPTS).say(
        "en", "not_understood"
    )


class Unsure(IntentClassifier):
    """The real classifier and its labels, with fixed unsure readings for some texts: what
    the planner does with them is under test here, not the model."""

    def __init__(self, real: IntentClassifier, readings: dict[str, Reading]) -> None:
        super().__init__(list(real.specs.values()), real.fitted, real.encoder, bar=0.5)
        self.readings = readings

    def read(self, text: str) -> Reading:
        return self.readings.get(text) or super().read(text)


@pytest.mark.slow
def test_unsure_readings_are_asked_back_with_choices_that_rerun(
    intents: IntentClassifier,
) -> None:
    """Below the bar the planner asks back with the likeliest readings (not `none`); the
    chosen one then runs as asked, in either language."""
    ranked = (("churn_risk", 0.41), ("customer_segments", 0.3), (NONE, 0.2), ("help", 0.09))
    readings = {q: Reading(ranked, 0.5) for q in ("should I worry about anyone?", "我该担心谁")}
    unsure = planner(Unsure(intents, readings))
    asked = unsure.next_step(turn("should I worry about anyone?"), TOOLS)
    assert isinstance(asked, Clarification)
    assert [c["intent"] for c in asked.choices] == ["churn_risk", "customer_segments", "help"]
    assert all(c["message"] == "should I worry about anyone?" for c in asked.choices)
    assert asked.choices[0]["label"] == intents.label("churn_risk", "en")
    assert asked.text == (
        "I am not sure what you mean. Did you mean churn risk, customer value tiers or "
        "what I can do?"
    )
    picked = unsure.next_step(turn("should I worry about anyone?", chosen="churn_risk"), TOOLS)
    assert picked == ("churn_risk", {"limit": 5})

    zh = unsure.next_step(turn("我该担心谁"), TOOLS)
    assert isinstance(zh, Clarification)
    assert zh.choices[1]["label"] == intents.label("customer_segments", "zh")
    assert zh.text.startswith("我不太确定您的意思。您是想看流失风险、")


@pytest.mark.slow
def test_nothing_likely_is_declined_not_asked_back(intents: IntentClassifier) -> None:
    vague = planner(Unsure(intents, {"hmm": Reading(((NONE, 0.45), ("help", 0.05)), 0.5)}))
    assert vague.next_step(turn("hmm"), TOOLS) == Phrases(PROMPTS).say("en", "not_understood")


@pytest.mark.slow
def test_a_knowledge_reading_of_a_question_about_deals_runs_the_pipeline(
    intents: IntentClassifier,
) -> None:
    """Two things the pipeline filters or measures by, and a word for deals: no article
    holds that, however close its embedding lands to a how-to question."""
    ranked = (("search_knowledge", 0.7), ("pipeline_query", 0.2), (NONE, 0.1))
    asked = "what money is tied up in my not-yet-closed opps"
    read_as_kb = planner(Unsure(intents, {asked: Reading(ranked, 0.5)}))
    step = read_as_kb.next_step(turn(asked), TOOLS)
    assert isinstance(step, tuple) and step[0] == "pipeline_query"
    assert step[1]["mine"] == "me" and step[1]["open_only"] is True
    price = "what is the list price of the Pro 500 for my customers"  # no word for deals
    step = planner(Unsure(intents, {price: Reading(ranked, 0.5)})).next_step(turn(price), TOOLS)
    assert step == ("search_knowledge", {"query": price})


@pytest.mark.slow
def test_an_unsure_follow_up_leans_on_the_previous_request(intents: IntentClassifier) -> None:
    """ "what about last month?" after a question about notes continues that question."""
    ranked = (("pipeline_query", 0.36), ("search_interactions", 0.34), ("list_tasks", 0.3))
    unsure = planner(Unsure(intents, {"and the month before?": Reading(ranked, 0.5)}))
    follow_up = turn("and the month before?", previous="what happened with Acme last week?")
    reading = unsure._read(follow_up)
    assert unsure._read(turn("and the month before?")).intent is None  # alone: unsure
    assert reading.best == "search_interactions"


@pytest.mark.slow
def test_a_chosen_reading_runs_its_tool(intents: IntentClassifier) -> None:
    step = planner(intents).next_step(
        turn("Acme", chosen="customer_overview", account_id="A001"), TOOLS
    )
    assert step == ("find_customer", {"name": "Acme Corporation"})
    tickets = planner(intents).next_step(turn("and their open tickets?", account_id="A001"), TOOLS)
    assert tickets == ("customer_overview", {"account_id": "A001"})


@pytest.mark.slow
def test_a_knowledge_answer_needs_an_article_about_the_question(
    intents: IntentClassifier,
) -> None:
    """ "Why is Acme a champion?" is no question about pumps: an article that shares none
    of its terms (Acme aside) is not quoted as the answer."""
    pump = {
        "record_id": "KB-0005", "cite": "[KB-0005]", "title": "Pump overheating (E5)",
        "text": "Pump overheating (E5)\nThe pump stops when it overheats. Let it cool down.",
    }  # fmt: skip
    calls = [("search_knowledge", {"query": "q"}, [pump], False)]
    off_topic = turn("why is Acme a champion?", calls=calls)
    step = planner(intents).next_step(off_topic, TOOLS)
    assert not (isinstance(step, str) and "KB-0005" in step)
    on_topic = turn("how do I fix the pump overheating?", calls=calls)
    answer = planner(intents).next_step(on_topic, TOOLS)
    assert isinstance(answer, str) and "[KB-0005]" in answer


class FixedReading(IntentClassifier):
    """The real classifier's intents and labels, with one reading fixed: what the planner
    does with an unsure reading, whatever the model makes of a wording."""

    def __init__(self, real: IntentClassifier, ranked: tuple[tuple[str, float], ...]) -> None:
        super().__init__(list(real.specs.values()), real.fitted, real.encoder, real.bar)
        self.ranked = ranked

    def read(self, text: str) -> Reading:
        return Reading(self.ranked, self.bar)


@pytest.mark.slow
def test_an_unsure_reading_is_settled_by_an_article_that_holds_the_question(
    intents: IntentClassifier,
) -> None:
    """Below the bar with the knowledge base among the likely readings, the articles are
    searched: one holding most of the question's terms answers; otherwise, or when the
    question has a single term, the question is asked back without that reading."""
    unsure = (("open_tickets", 0.40), ("search_knowledge", 0.35), ("find_customer", 0.15))
    reader = Planner(FixedReading(intents, unsure), Phrases(PROMPTS), LEXICON, Vocabulary())
    question = "the cold tap only gives warm water"
    assert reader.next_step(turn(question), TOOLS) == ("search_knowledge", {"query": question})
    cooling = {
        "record_id": "KB-0016", "cite": "[KB-0016]", "title": "Dispenser not cooling",
        "text": "Dispenser not cooling\nWarm water from the cold tap: check the COLD switch.",
    }  # fmt: skip
    found = [("search_knowledge", {"query": question}, [cooling], False)]
    answer = reader.next_step(turn(question, calls=found), TOOLS)
    assert isinstance(answer, str) and "[KB-0016]" in answer
    elsewhere = {**cooling, "text": "Invoices\nInvoices are due within 30 days."}
    missed = [("search_knowledge", {"query": question}, [elsewhere], False)]
    asked = reader.next_step(turn(question, calls=missed), TOOLS)
    assert isinstance(asked, Clarification)
    assert "search_knowledge" not in [c["intent"] for c in asked.choices]
    one_term = [("search_knowledge", {"query": "cold?"}, [cooling], False)]
    assert isinstance(reader.next_step(turn("cold?", calls=one_term), TOOLS), Clarification)


@pytest.mark.slow
def test_a_deal_stage_makes_a_customer_ranking_a_pipeline_question(
    intents: IntentClassifier,
) -> None:
    """The value tiers rank customers by orders; ranked by deals won, it is the pipeline's."""
    tiers = (("customer_segments", 0.9), ("pipeline_query", 0.05))
    reader = Planner(FixedReading(intents, tiers), Phrases(PROMPTS), LEXICON, Vocabulary())
    step = reader.next_step(turn("top 3 customers by revenue from won deals"), TOOLS)
    assert isinstance(step, tuple) and step[0] == "pipeline_query"
    assert step[1]["stages"] == ["closed_won"] and step[1]["group_by"] == "account"
    plain = reader.next_step(turn("who are our most valuable customers"), TOOLS)
    assert isinstance(plain, tuple) and plain[0] == "customer_segments"


@pytest.mark.slow
def test_the_article_naming_the_asked_code_answers(intents: IntentClassifier) -> None:
    """Ranked second, the article that names the code asked about answers, even from a
    chunk whose words are only in its title; the one about another code does not."""
    other = {
        "record_id": "KB-0003", "cite": "[KB-0003]", "title": "Fixing alarm E3 (high TDS)",
        "text": "Fixing alarm E3 (high TDS)\nTo fix alarm E3, flush the membrane first.",
    }  # fmt: skip
    asked = {
        "record_id": "KB-0002", "cite": "[KB-0002]", "title": "Alarm E2: leak detected",
        "text": "Close the inlet valve and unplug the unit. E2 clears once the tray is dry.",
    }  # fmt: skip
    calls = [("search_knowledge", {"query": "q"}, [other, asked], False)]
    question = "how do I fix alarm E2"
    step = planner(intents).next_step(turn(question, calls=calls, chosen="search_knowledge"), TOOLS)
    assert isinstance(step, str) and "[KB-0002]" in step and "[KB-0003]" not in step


@pytest.mark.slow
def test_a_customer_question_is_answered_from_the_note_that_holds_it(
    intents: IntentClassifier,
) -> None:
    """Read as a knowledge-base question, a question naming a customer is checked against
    every note the answer would show, not only the two ranked first: the third note here
    holds the answer, and it leads."""
    article = {
        "record_id": "KB-0006", "cite": "[KB-0006]", "title": "AquaSense Cloud",
        "text": "AquaSense Cloud\nThe dashboard lists every paired device. Pair a device first.",
    }  # fmt: skip
    notes = [
        {"record_id": f"I0000{n}", "cite": f"[I0000{n}]", "snippet": text, "text": text}
        for n, text in enumerate(
            [
                "Call — Acme Corporation, 2026-11-02\nBudget call. Finance signs in January.",
                "Email — Acme Corporation, 2026-10-28\nSent the revised quote for the skids.",
                "Meeting — Acme Corporation, 2026-10-20\nAquaSense demo. They want every "
                "purifier on one dashboard: 40 devices in all.",
            ],
            1,
        )
    ]
    found = [{"account_id": "A001", "account_name": "Acme Corporation", "score": 100.0}]
    calls = [
        ("search_knowledge", {"query": "q"}, [article], False),
        ("find_customer", {"name": "Acme Corporation"}, found, False),
        ("search_interactions", {"query": "q", "account_id": "A001"}, notes, False),
    ]
    question = "how many devices did acme want on the aquasense dashboard?"
    step = planner(intents).next_step(turn(question, calls=calls, chosen="search_knowledge"), TOOLS)
    assert isinstance(step, str) and "[KB-0006]" not in step
    assert step.index("[I00003]") < step.index("[I00001]")
    assert "40 devices" in step


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("prep me for acme", "Acme Corporation"),
        ("what happened with Acmee last week", "Acme Corporation"),
        ("tell me about harbor lights", "Harbor Lights Hotel"),
        ("上个月和西湖酒店沟通了什么", "杭州西湖国际酒店"),
        ("draft an email to <PERSON_ab12>", "<PERSON_ab12>"),
        ("Acme的quote进展到哪了", "Acme Corporation"),  # Latin glued to Chinese
        ("下周拜访杭州西湖国际酒店，给我准备一下", "杭州西湖国际酒店"),  # 给我: no name
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
    assert named_phrases("给我们看看最新的报价") == []  # a pronoun is nobody's name
    assert named_phrases("prep me for my call with Maria about Acme") == ["Maria", "Acme"]


def test_one_shared_word_is_no_mention_when_the_text_names_someone_else() -> None:
    lexicon = [*LEXICON, "Marina Bay Offices Pte Ltd"]
    assert find_mention("prepare me for my meeting with Marina Bay Offices", lexicon)
    assert find_mention("prepare me for my meeting with Portland City Offices", lexicon) is None
    mention = find_mention("prep me for my call with Maria about Acme", LEXICON)
    assert mention is not None and mention.name == "Acme Corporation"


def test_words_that_fit_two_customers_alike_are_looked_up_as_written() -> None:
    """ "harbour" fits Harbor Lights Hotel and Blue Harbor Marina Resort alike: the lookup
    gets the word, finds both and asks which; more of one name's words pick that one."""
    lexicon = [*LEXICON, "Blue Harbor Marina Resort"]
    alike = find_mention("any news from harbour this month?", lexicon)
    assert alike is not None and alike.name == "harbour"
    blue = find_mention("blue harbor renewal status", lexicon)
    assert blue is not None and blue.name == "Blue Harbor Marina Resort"
    lights = find_mention("harbor lights renewal status", lexicon)
    assert lights is not None and lights.name == "Harbor Lights Hotel"


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


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("what did Kevin say about the plant 2 budget", True),
        ("Acme的PO金额是多少", True),
        ("上次给鼓楼医院报的价格有效期到哪天", True),
        ("is the FlowGuard quote still open?", True),
        ("Called Kevin, he asked when we can install", False),
        ("和西湖酒店通话，他们问报价多少", False),  # reported speech is a report
        ("log a call with Acme: what's next? they want 40 units", False),  # says "log"
        ("Met Maria, budget approved", False),
        ("pump makes a grinding noise at start-up - what should the tech check", True),
        ("filter light stays on after the swap, why", True),
        ("Visited Lars, when the board approves they sign", False),  # "when" subordinates
        ("Called Priya: what a relief, they renewed", False),  # an exclamation
    ],
)
def test_a_question_is_told_from_a_report(text: str, question: bool) -> None:
    assert asks_a_question(text) is question


def test_ruling_a_reading_out_makes_no_other_more_certain() -> None:
    reading = Reading((("log_interaction", 0.6), ("search_interactions", 0.3), ("x", 0.1)), 0.5)
    kept = reading.without(("log_interaction",))
    assert kept.best == "search_interactions" and kept.confidence == pytest.approx(0.3)
    assert kept.intent is None  # asked back, not answered with borrowed confidence
    assert reading.without(("log_interaction", "search_interactions", "x")) == reading


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("who moved to at-risk in October?", "at_risk"),
        ("accounts that became at risk", "at_risk"),
        ("哪些客户变成了有流失风险", "at_risk"),
        ("when did Acme churn?", "churned"),
        ("西湖酒店是什么时候流失的", "churned"),
        ("which accounts turned loyal", "loyal"),
        ("新增的忠诚客户", "loyal"),
        ("leads created this week", "lead"),
        ("how did this customer's stage change?", None),
        ("珠江啤酒厂的客户阶段", None),
    ],
)
def test_stage_argument(text: str, stage: str | None) -> None:
    assert stage_argument(text) == stage


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("how did the review with Acme go?", set()),
        ("Harbor Lights的CLV预测", {"customer_value"}),
        ("when did the brewery turn into a loyal account", {"lifecycle_history"}),
        ("ping me about Acme at 9", {"set_reminder"}),
        ("send her a mail about the visit", {"draft_follow_up"}),
        ("给王芳写封邮件", {"draft_follow_up"}),
        ("give me a nudge in 2 hours about the Acme quote", {"set_reminder"}),
        ("半小时后叫一下我", {"set_reminder"}),
        ("give me a nudge about the Acme quote", set()),
    ],
)
def test_an_intent_needs_a_word_for_what_its_tool_acts_on(text: str, kept: set[str]) -> None:
    cued = {"lifecycle_history", "customer_value", "set_reminder", "draft_follow_up"}
    assert cued - set(intents_without_their_words(text)) == kept


NOTE = {
    "record_id": "I00001", "cite": "[I00001]", "source_type": "interaction",
    "snippet": "Call — Acme Corporation with <PERSON_ab12>, 2026-11-10 Budget review: the "
    "budget unfreezes in January; the committee meets on 12 January.",
}  # fmt: skip


@pytest.mark.slow
def test_an_unsure_question_naming_a_customer_is_answered_from_notes_that_hold_it(
    intents: IntentClassifier,
) -> None:
    """Read as nothing certain, a question about one customer is looked up in that
    customer's notes; it is answered only when a note holds its words, else asked back."""
    ranked = (("customer_overview", 0.4), ("open_tickets", 0.35), ("help", 0.25))
    held = "when does Acme's budget unfreeze, and when does the committee meet?"
    missing = "did Acme mention the parrot at the zoo?"
    unsure = planner(Unsure(intents, {held: Reading(ranked, 0.5), missing: Reading(ranked, 0.5)}))
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    first = unsure.next_step(turn(held, calls=found), TOOLS)
    assert first[0] == "search_interactions" and first[1]["account_id"] == "A001"
    searched = [*found, ("search_interactions", first[1], [NOTE], False)]
    answer = unsure.next_step(turn(held, calls=searched), TOOLS)
    assert isinstance(answer, str) and "[I00001]" in answer and "12 January" in answer
    asked = unsure.next_step(
        turn(missing, calls=[*found, ("search_interactions", {}, [NOTE], False)]), TOOLS
    )
    assert isinstance(asked, Clarification)


@pytest.mark.slow
def test_an_unsure_request_for_a_customer_brief_gets_the_overview(
    intents: IntentClassifier,
) -> None:
    """Not a question, one customer named, the overview among the likely readings: the
    overview, never a guessed write (logging was likely too)."""
    ranked = (("customer_overview", 0.4), ("log_interaction", 0.35), ("search_interactions", 0.25))
    no_overview = (("log_interaction", 0.45), ("search_interactions", 0.45), ("help", 0.1))
    brief, other = "prep notes for Acme before the call", "Acme call sheet"
    readings = {brief: Reading(ranked, 0.5), other: Reading(no_overview, 0.5)}
    unsure = planner(Unsure(intents, readings))
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    step = unsure.next_step(turn(brief, calls=found), TOOLS)
    assert step == ("customer_overview", {"account_id": "A001"})
    assert isinstance(unsure.next_step(turn(other, calls=found), TOOLS), Clarification)


@pytest.mark.slow
def test_the_named_customers_own_notes_answer_when_they_hold_one_of_its_words(
    intents: IntentClassifier,
) -> None:
    """Notes paraphrase: Acme's note holds one of five words of the question ("budget"),
    under the bar for notes of any customer, yet as that customer's own notes it answers."""
    ranked = (("customer_overview", 0.4), ("open_tickets", 0.35), ("help", 0.25))
    paraphrased = "when will finance people finally release Acme's budget?"
    unsure = planner(Unsure(intents, {paraphrased: Reading(ranked, 0.5)}))
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    searched = [*found, ("search_interactions", {"account_id": "A001"}, [NOTE], False)]
    answer = unsure.next_step(turn(paraphrased, calls=searched), TOOLS)
    assert isinstance(answer, str) and "[I00001]" in answer


@pytest.mark.slow
def test_a_pipeline_reading_with_nothing_of_the_pipeline_looks_in_the_notes_first(
    intents: IntentClassifier,
) -> None:
    sure = (("pipeline_query", 0.8), ("search_interactions", 0.1), ("help", 0.1))
    asked = "is Acme talking to a rival supplier?"
    counted = "how many deals does Acme have?"
    fixed = planner(Unsure(intents, {q: Reading(sure, 0.5) for q in (asked, counted)}))
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    first = fixed.next_step(turn(asked, calls=found), TOOLS)
    assert first[0] == "search_interactions"
    quote = {**NOTE, "snippet": NOTE["snippet"] + " They are talking to a rival supplier."}
    searched = [*found, ("search_interactions", first[1], [quote], False)]
    assert "[I00001]" in fixed.next_step(turn(asked, calls=searched), TOOLS)
    unheld = [*found, ("search_interactions", first[1], [NOTE], False)]
    assert fixed.next_step(turn(asked, calls=unheld), TOOLS)[0] == "pipeline_query"
    assert fixed.next_step(turn(counted, calls=found), TOOLS)[0] == "pipeline_query"


def test_a_request_quoting_an_article_title_names_it() -> None:
    titles = ["Price list", "安装要求", "FlowGuard Industrial commissioning checklist"]
    assert names_an_article("how do I handle this: Price list?", titles)
    assert names_an_article("what does the flowguard industrial comissioning checklist say", titles)
    assert names_an_article("安装要求是什么", titles)
    assert not names_an_article("what happened with Acme last week?", titles)
    assert not names_an_article("hi", titles)  # not found inside "...checklist"
    assert not names_an_article("price", titles)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("给Acme的Maria写一封英文跟进邮件", "en"),
        ("draft it in English please", "en"),
        ("write the follow-up into Chinese", "zh"),
        ("用中文写一封邮件", "zh"),
        ("draft a follow-up to Acme", None),
    ],
)
def test_a_language_the_request_asks_for(text: str, language: str | None) -> None:
    assert language_asked(text) == language


@pytest.mark.slow
def test_a_draft_request_passes_its_words_for_the_contact_and_its_language(
    intents: IntentClassifier,
) -> None:
    """The tool picks the account's contact of that name out of the words."""
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    asked = turn("给Acme Corporation的Maria写一封英文跟进邮件", calls=found)
    assert planner(intents).next_step(asked, TOOLS | {"draft_follow_up"}) == (
        "draft_follow_up",
        {"account_id": "A001", "contact": asked.request, "language": "en"},
    )


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("which accounts stopped ordering from us", "lapsed"),  # "stopped" holds "top"
        ("好久不下单的客户有哪些", "lapsed"),
        ("high-value客户名单", "high-value"),  # an English word glued to Chinese
        ("our top accounts by spend", "high-value"),
        ("promising customers to grow", "potential"),
        ("customer value tiers", None),
    ],
)
def test_the_value_tier_a_request_names(text: str, tier: str | None) -> None:
    assert tier_argument(text) == tier


@pytest.mark.slow
def test_a_customer_named_in_a_tie_is_the_one_the_conversation_is_about(
    intents: IntentClassifier,
) -> None:
    """ "log a call: arjun confirmed …" after a question about Maple Leaf: an Arjun at
    another customer ties on the name, but the conversation's customer is meant."""
    request = "log a call: <PERSON_ab12> confirmed the install for monday"
    tie = [
        {"account_id": "A031", "account_name": "Maple Leaf Pharma", "score": 100.0},
        {"account_id": "A039", "account_name": "Philadelphia Children's Museum", "score": 95.0},
    ]
    found = [("find_customer", {"name": "<PERSON_ab12>"}, tie, False)]
    in_context = turn(request, calls=found, account_id="A031")
    assert planner(intents)._account(in_context, "log_interaction") == "A031"
    cold = planner(intents)._account(turn(request, calls=found), "log_interaction")
    assert cold is not None and cold.startswith("!") and "Maple Leaf Pharma (A031)" in cold


def test_a_person_after_with_does_not_hide_the_customer_named() -> None:
    """ "before my call with dana": a colleague's pseudonym names a person, not another
    customer, so the customer the words name stands."""
    text = "give me the rundown on acme corp before my call with <PERSON_9f00>"
    assert find_mention(text, LEXICON) == Mention("Acme Corporation", 100.0)


@pytest.mark.parametrize(
    ("form", "text", "expected"),
    [
        # a fragment: a few everyday words that ask or order something
        (is_fragment, "how much", True), (is_fragment, "多少钱？", True),
        (is_fragment, "log it", True), (is_fragment, "why?", True),
        (is_fragment, "thanks", False), (is_fragment, "好的", False),
        (is_fragment, "banana", False), (is_fragment, "how old is the universe exactly", False),
        (is_fragment, "what's the weather?", False),
        # the same again, in another language
        (asks_only_for_a_language, "用中文再说一遍", True),
        (asks_only_for_a_language, "in English please", True),
        (asks_only_for_a_language, "translate that into Chinese", True),
        (asks_only_for_a_language, "写一封英文邮件", False),
        (asks_only_for_a_language, "what did acme say in english", False),
        (asks_only_for_a_language, "again please", False),
    ],
)  # fmt: skip
def test_the_form_of_a_request(form: Callable[[str], bool], text: str, expected: bool) -> None:
    assert form(text) is expected


@pytest.mark.slow
def test_a_fragment_read_as_nothing_i_do_is_asked_back_not_declined(
    intents: IntentClassifier,
) -> None:
    ranked = ((NONE, 0.9), ("pipeline_query", 0.05), ("help", 0.03), ("search_knowledge", 0.02))
    fragment = planner(Unsure(intents, {"how many": Reading(ranked, 0.5)}))
    asked = fragment.next_step(turn("how many"), TOOLS)
    assert isinstance(asked, Clarification)
    assert [c["intent"] for c in asked.choices] == ["pipeline_query", "search_knowledge"]
    thanks = planner(Unsure(intents, {"thanks": Reading(ranked, 0.5)}))
    assert thanks.next_step(turn("thanks"), TOOLS) == Phrases(PROMPTS).say("en", "not_understood")


@pytest.mark.slow
def test_an_unsure_request_naming_a_contact_looks_the_person_up(
    intents: IntentClassifier,
) -> None:
    text = "where does <PERSON_ab12> work these days"
    ranked = (("find_customer", 0.4), (NONE, 0.3), ("customer_overview", 0.2), ("help", 0.1))
    unsure = planner(Unsure(intents, {text: Reading(ranked, 0.5)}))
    assert unsure.next_step(turn(text), TOOLS) == ("find_customer", {"name": "<PERSON_ab12>"})
    ranking = (("customer_segments", 0.6), ("find_customer", 0.3), ("help", 0.1))
    ranked_as_tiers = planner(Unsure(intents, {text: Reading(ranking, 0.5)}))
    assert ranked_as_tiers.next_step(turn(text), TOOLS)[0] == "find_customer"


def test_a_look_up_passes_the_name_without_the_command() -> None:
    from crmassist.agent.planner.model import _strip_command

    assert _strip_command("search customers: dairy") == "dairy"
    assert _strip_command("look up the account named Blue Harbor?") == "Blue Harbor"
    assert _strip_command("搜一下软件园") == "软件园"


@pytest.mark.slow
def test_a_pipeline_question_about_a_customer_named_in_part_filters_on_it(
    intents: IntentClassifier,
) -> None:
    text = "open opportunities at acme"
    reads = Unsure(intents, {text: Reading((("pipeline_query", 0.9),), 0.5)})
    words = Vocabulary(accounts=["Acme Corporation", "Harbor Lights Hotel"])
    step = Planner(reads, Phrases(PROMPTS), LEXICON, words).next_step(turn(text), TOOLS)
    assert step == (
        "pipeline_query",
        {"open_only": True, "account_names": ["Acme Corporation"], "metric": "sum"},
    )


@pytest.mark.slow
def test_the_last_request_is_answered_again_in_the_language_asked(
    intents: IntentClassifier,
) -> None:
    kb = Unsure(intents, {"E2怎么处理": Reading((("search_knowledge", 0.9),), 0.5)})
    again = turn("in English please", previous="E2怎么处理")
    assert planner(kb).next_step(again, TOOLS) == ("search_knowledge", {"query": "E2怎么处理"})
    article = {
        "record_id": "KB-0002", "cite": "[KB-0002]", "title": "Alarm E2: leak detected",
        "text": "Close the inlet valve and unplug the unit. E2 clears once the tray is dry.",
    }  # fmt: skip
    found = replace(again, calls=[("search_knowledge", {"query": "E2怎么处理"}, [article], False)])
    answer = planner(kb).next_step(found, TOOLS)
    assert isinstance(answer, str)
    assert answer.startswith(Phrases(PROMPTS).say("en", "kb_intro"))


@pytest.mark.slow
def test_a_knowledge_follow_up_is_asked_with_the_question_before_it(
    intents: IntentClassifier,
) -> None:
    first = "what does alarm E5 mean on a pump"
    readings = {q: Reading((("search_knowledge", 0.9),), 0.5) for q in (first, "多久能恢复")}
    kb = planner(Unsure(intents, readings))
    leaning = kb.next_step(turn("多久能恢复", previous=first), TOOLS)
    assert leaning == ("search_knowledge", {"query": f"{first}\n多久能恢复"})
    pointing = "and how long does that take"
    readings[pointing] = Reading((("search_knowledge", 0.9),), 0.5)
    assert kb.next_step(turn(pointing, previous=first), TOOLS) == (
        "search_knowledge",
        {"query": f"{first}\n{pointing}"},
    )
    fresh = "what is the warranty on E5 pumps"
    readings[fresh] = Reading((("search_knowledge", 0.9),), 0.5)
    new_topic = kb.next_step(turn(fresh, previous=first), TOOLS)
    assert new_topic == ("search_knowledge", {"query": fresh})


def test_typos_of_the_articles_words_are_read_as_those_words() -> None:
    titles = {"warranty", "dispenser", "pressure", "aquasense"}
    assert spelled_as("warrenty on the office dispensr?", titles) == (
        "warranty on the office dispenser?"
    )
    assert spelled_as("AquaSense offline", titles) == "AquaSense offline"  # known as written
    assert spelled_as("Acme wants a quote", titles) == "Acme wants a quote"  # everyday words


@pytest.mark.slow
def test_a_question_about_a_customer_that_no_deal_answers_is_looked_up_in_its_notes(
    intents: IntentClassifier,
) -> None:
    asked = "when does the Acme budget unfreeze, how much is in it?"
    sure = Reading((("pipeline_query", 0.9),), 0.5)
    words = Vocabulary(accounts=["Acme Corporation"])
    fixed = Planner(Unsure(intents, {asked: sure}), Phrases(PROMPTS), LEXICON, words)
    none = {"deal_count": 0, "rows": [], "columns": ["id"], "query": {}}
    ran = [("pipeline_query", {}, none, False)]
    assert fixed.next_step(turn(asked, calls=ran), TOOLS) == (
        "find_customer",
        {"name": "Acme Corporation"},
    )
    found = [*ran, ("find_customer", {}, [{"account_id": "A001", "score": 100}], False)]
    assert fixed.next_step(turn(asked, calls=found), TOOLS) == (
        "search_interactions",
        {"query": asked, "k": 6, "account_id": "A001"},
    )
    noted = [*found, ("search_interactions", {}, [NOTE], False)]
    assert "[I00001]" in fixed.next_step(turn(asked, calls=noted), TOOLS)
    refused = [*found, ("search_interactions", {}, "role may not search interactions", True)]
    answer = fixed.next_step(turn(asked, calls=refused), TOOLS)
    assert isinstance(answer, str) and "[I00001]" not in answer and "may not" not in answer


def test_a_code_after_about_names_a_ticket_not_a_customer() -> None:
    assert named_phrases("log that I called keystone about T0170, all fine") == []
    assert named_phrases("meeting with Portland City Offices") == ["Portland City Offices"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("create a task: call Acme back", "create_task"),
     ("给西湖酒店加个备注：周五上门", "log_interaction"),
     ("log a call: Maria wants a quote", "log_interaction"),
     ("log it", None), ("what did I log about Acme yesterday", None),
     ("how do I add a task", None)],
)  # fmt: skip
def test_a_request_that_opens_by_naming_its_tool(text: str, intent: str | None) -> None:
    assert commanded_intent(text) == intent


@pytest.mark.slow
def test_a_request_that_names_its_tool_runs_it(intents: IntentClassifier) -> None:
    text = "add a to-do: send Acme the revised quote"
    misread = planner(Unsure(intents, {text: Reading((("search_knowledge", 0.6),), 0.5)}))
    found = [("find_customer", {"name": "Acme"}, [{"account_id": "A001", "score": 100}], False)]
    step = misread.next_step(turn(text, calls=found), TOOLS)
    assert step[0] == "create_task"

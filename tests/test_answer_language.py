"""Every answer entirely in the asker's language: for each kind of answer the offline
planner gives, a Chinese question's answer has no English word and an English question's
no Chinese, once data is taken out (citations, ids, record text the tools returned, names).
Real sample CRM, real index, real planner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmassist.agent.assistant import Reply
from crmassist.domain.enums import Channel, LifecycleStage, Priority, Stage, TicketStatus
from crmassist.domain.models import Base
from crmassist.runtime import Runtime
from tests.agent_support import sample_runtime, who

pytestmark = pytest.mark.slow

_CITATION = re.compile(r"\[[^\]]*\]")
_ID = re.compile(r"\b[A-Z]{1,3}-?[0-9a-f]*\d[0-9a-f]*\b")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CODES = {
    e.value
    for enum in (Channel, Stage, Priority, TicketStatus, LifecycleStage)
    for e in enum  # type: ignore[attr-defined]
} | {"high-value", "potential", "regular", "lapsed", "high", "medium", "low"}
"""Stored codes are words the planner must put in the asker's language, never data."""


_PIECES = re.compile(r"(?<=[.!?。！？；;])\s*|\n+|\s*\|\s*|:\s+|：")


def _text_type(kind: sa.types.TypeEngine[object]) -> bool:
    """A text column, also one encrypted at rest (the session reads it decrypted)."""
    impl = kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind
    return isinstance(impl, sa.String)


def record_text(rt: Runtime) -> list[str]:
    """Everything an answer may quote as data: every text of every record (and its
    sentences, lines and table cells), names included; stored codes excluded. Longest
    first, so a sentence goes before the words inside it."""
    texts: set[str] = set()
    with rt.sessions() as session:
        for mapper in Base.registry.mappers:
            columns = [c for c in mapper.columns if _text_type(c.type)]
            if not columns:
                continue
            for row in session.execute(sa.select(*columns)):
                texts |= {v for v in row if isinstance(v, str)}
    pieces = set(texts)
    for text in texts:
        pieces |= {p.strip(' -*#.,()（）“”"') for p in _PIECES.split(text.replace("**", ""))}
        pieces.add(re.split(r"(?<=[.!?。！？])\s*", text.strip(), maxsplit=1)[0][:120])
    kept = (p for p in pieces if len(p) >= 2 and p.lower() not in _CODES)
    return sorted(kept, key=len, reverse=True)


def leftover(answer: str, data: list[str]) -> str:
    """The answer without citations, ids and data: only the planner's own words."""
    text = answer
    for piece in data:
        text = text.replace(piece, " ")
    text = _CITATION.sub(" ", text)
    return _ID.sub(" ", text)


# (user, question) for every kind of answer, in Chinese and in English.
ZH = [
    ("U007", "你能做什么"),
    ("U007", "净水器漏水怎么办"),
    ("U007", "介绍一下杭州西湖国际酒店"),
    ("U007", "他们有哪些未关闭的工单"),
    ("U007", "上个月和杭州西湖国际酒店沟通了什么"),
    ("U007", "记录一下：今天和杭州西湖国际酒店通了电话，对方想要报价，下周二回访"),
    ("U007", "给杭州西湖国际酒店起草一封跟进邮件"),
    ("U007", "哪些客户有流失风险"),
    ("U007", "客户价值分层"),
    ("U007", "提醒我下周二给杭州西湖国际酒店回电话"),
    ("U007", "我下周的任务"),
    ("U007", "查找客户 西湖"),
]
EN = [
    ("U001", "what can you do?"),
    ("U001", "how do I fix error E3?"),
    ("U001", "prep me for my meeting with Acme"),
    ("U001", "and their open tickets?"),
    ("U001", "what happened with Acme last month?"),
    ("U001", "log a call with Acme: they want the quote by Friday, follow up next Tuesday"),
    ("U001", "draft a follow-up email to Acme"),
    ("U001", "which customers are at risk of churning?"),
    ("U001", "show me the value tiers"),
    ("U001", "remind me to call Acme next Tuesday"),
    ("U001", "my tasks next week"),
    ("U001", "find customer Acme"),
]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = sample_runtime(tmp_path_factory.mktemp("language"))
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def data(rt: Runtime) -> list[str]:
    return record_text(rt)


def _conversation(rt: Runtime, cases: list[tuple[str, str]]) -> list[tuple[str, Reply]]:
    replies, conversation = [], None
    for user, question in cases:
        reply = rt.assistant().ask(who(rt, user), question, conversation)
        conversation = reply.conversation_id
        replies.append((question, reply))
    return replies


def test_a_chinese_question_gets_no_english_words(rt: Runtime, data: list[str]) -> None:
    for question, reply in _conversation(rt, ZH):
        words = _ENGLISH_WORD.findall(leftover(reply.answer, data))
        assert not words, f"{question!r} -> {words}\n{reply.answer}"


def test_an_english_question_gets_no_chinese(rt: Runtime, data: list[str]) -> None:
    for question, reply in _conversation(rt, EN):
        found = _CJK.findall(leftover(reply.answer, data))
        assert not found, f"{question!r} -> {''.join(found)}\n{reply.answer}"


def test_the_checker_catches_english_codes_and_words_left_in_a_chinese_answer() -> None:
    data = ["杭州西湖国际酒店", "Hospitality"]
    clean = "杭州西湖国际酒店（Hospitality）[A043]：生命周期阶段：客户 [N-1a2b3c]"
    assert not _ENGLISH_WORD.findall(leftover(clean, data))
    assert _ENGLISH_WORD.findall(leftover("已记录与杭州西湖国际酒店的call [N-1]", data))
    assert _ENGLISH_WORD.findall(leftover("阶段 negotiation，close 2026-12-01", data))


def test_prompts_hold_a_chinese_label_for_every_code() -> None:
    from crmassist.agent.planner.compose import Phrases

    phrases = Phrases(Path(__file__).resolve().parent.parent / "prompts")
    for enum, group in ((Channel, "channel"), (Stage, "stage"), (Priority, "priority")):
        for code in enum:  # type: ignore[attr-defined]
            assert not _ENGLISH_WORD.search(phrases.label("zh", group, code.value)), code

"""Reading a request without a language model: which customer, which arguments. Which
intent is `intents.py`'s job (a classifier over sentence embeddings).

Deterministic by construction: the same request, context and lexicon always give the
same reading.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from crmassist.crm.customers import MIN_SCORE, normalise, similarity
from crmassist.domain.enums import Channel
from crmassist.domain.language import zipf
from crmassist.domain.periods import parse_day
from crmassist.privacy.entities import TOKEN_PATTERN
from crmassist.retrieval.glossary import glossary, is_everyday

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


# --- customers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    name: str
    """The known name (account, or a contact's pseudonym) the text refers to."""
    score: float


_STOPWORDS = re.compile(
    r"\b(the|a|an|with|for|about|at|to|of|and|their|our|my|me|last|next|this|week|month|"
    r"quarter|year|call|meeting|email|draft|log|what|happened|did|we|promise|tell|prep|"
    r"customer|account|deal|deals|tickets?|open|remind|i|is|are|on|in|by|please)\b",
    re.IGNORECASE,
)


def find_mention(text: str, lexicon: list[str], threshold: float = 82.0) -> Mention | None:
    """The known customer or contact name the text mentions best (exact tokens first)."""
    for token in TOKEN_PATTERN.finditer(text):
        if token.group() in lexicon:
            return Mention(token.group(), 100.0)
    content = _STOPWORDS.sub(" ", TOKEN_PATTERN.sub(" ", text))
    words = _SCRIPT_RUN.findall(normalise(content))
    held = {n: _matched(words, n) for n in lexicon if not TOKEN_PATTERN.fullmatch(n)}
    # a pseudonym after "with" is a person: "call with dana" does not veto "acme corp"
    named = [p for p in named_phrases(text) if not TOKEN_PATTERN.fullmatch(p)]
    best: Mention | None = None
    best_rank = (0.0, 0)
    for name, matched in held.items():
        score = _mention_score(content, name, matched)
        rank = (score, len(matched))  # more of its words: "blue harbor"
        if score >= threshold and rank > best_rank and _named(name, named):
            best, best_rank = Mention(name, score), rank
    if best is not None and (shared := _shared_words(words, best.name, held)):
        return Mention(shared, best.score)
    return best


def _shared_words(words: list[str], name: str, held: dict[str, set[str]]) -> str | None:
    """The text's words for `name` when they fit another known name just as well ("harbor"
    for Harbor Lights Hotel and Blue Harbor Marina Resort): the customer is looked up by
    those words, so the lookup finds both and asks which one. `held`: each name's words
    found in the text."""
    matched = held[name]
    if not matched or _CJK.search(name):
        return None
    if not any(other != name and found == matched for other, found in held.items()):
        return None
    return " ".join(w for w in words if any(fuzz.ratio(n, w) >= 85 for n in matched))


def _name_words(name: str) -> list[str]:
    """The words of a Latin name that identify it: four letters or more, if it has such."""
    core = normalise(name).split()
    return [w for w in core if len(w) >= 4] or core


def _matched(words: list[str], name: str) -> set[str]:
    """The identifying words of `name` that the text's `words` hold (a few typos allowed)."""
    return {n for n in _name_words(name) if any(fuzz.ratio(n, w) >= 85 for w in words)}


def _named(name: str, phrases: list[str]) -> bool:
    """A name sharing one word with the text is not meant when the text names someone else:
    "meeting with Portland City Offices" does not mention "Marina Bay Offices"."""
    return not phrases or any(similarity(phrase, name) >= MIN_SCORE for phrase in phrases)


_NAMED_AFTER = re.compile(
    r"\b(?:about|with|for|at|on|regarding|to)\s+"
    r"(?P<en>(?:[A-Z][\w&'.-]*|<[A-Z_]+_[0-9a-f]{4,64}>)(?:\s+[A-Z][\w&'.-]*){0,4})"
    r"|(?:介绍一下|关于|和|与|给)(?![我你您他她它咱])(?P<zh>[\u4e00-\u9fff]{2,12}?)"
    r"(?:的|沟通|有|是|吗|？|\?|$)"
)


def named_phrases(text: str) -> list[str]:
    """Capitalised names after "about/with/for" (or Chinese ones after 关于/和): what the
    user calls a customer, for a lookup when it matches nothing the asker may see. A
    pseudonym counts: the model gate may mask an unknown name ("Acmee Corp"), and the
    lookup gets its value back inside the tool. A code ("about T0170", "for E2") names a
    ticket or an alarm, not a customer."""
    phrases = [(m.group("en") or m.group("zh")).strip() for m in _NAMED_AFTER.finditer(text)]
    return [p for p in phrases if not _CODE_ONLY.fullmatch(p.rstrip(".,;:!?"))]


_CODE_ONLY = re.compile(r"[A-Z]{1,3}-?\d{1,6}")


def _mention_score(text: str, name: str, held: set[str]) -> float:
    """`held`: the name's identifying words found in the text (`_matched`)."""
    core = normalise(name)
    if not core:
        return 0.0
    if _CJK.search(name):
        return _cjk_mention_score(text, core) if _CJK.search(text) else 0.0
    name_words = _name_words(name)
    matched = [n for n in name_words if n in held]
    if not matched:
        return 0.0  # no word of the name is in the text: "her" is not "Fisheries"
    score = 70.0 + 30.0 * len(matched) / len(name_words)
    return max(score, 88.0) if matched[0] == name_words[0] else score


_SCRIPT_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[^\W\u3400-\u4dbf\u4e00-\u9fff]+")
"""Words, with Chinese and Latin apart where mixed text glues them: "acme的meeting"."""
_GENERIC_ZH = re.compile(r"有限公司|集团|公司|酒店|医院|学校|中心|国际|大")


def _cjk_mention_score(text: str, core: str) -> float:
    """Chinese names are shortened by dropping characters ("西湖酒店" for 杭州西湖国际酒店):
    the name's characters found in order in the text must cover half of it, including two
    of its distinctive (non-generic) characters."""
    name = core.replace(" ", "")
    common = LCSseq.similarity(name, text)
    distinctive = _GENERIC_ZH.sub("", name)
    if len(name) < 2 or LCSseq.similarity(distinctive, text) < min(2, len(distinctive)):
        return 0.0
    return 70.0 + 30.0 * common / len(name)


# --- arguments ---------------------------------------------------------------------------------

_CHANNELS = (
    (r"\b(call(ed)?|phone[d]?|rang|spoke)\b|电话|通话|致电", Channel.CALL),
    (r"\b(met|meeting|visit(ed)?|on[- ]site|lunch)\b|会议|见面|拜访|上门", Channel.MEETING),
    (r"\b(e-?mail(ed)?|wrote to)\b|邮件", Channel.EMAIL),
    (r"\b(chat(ted)?|slack|wechat|whatsapp|message[d]?)\b|微信|聊天", Channel.CHAT),
)
_LOG_PREFIX = re.compile(
    r"^\s*(please\s+)?(log|record|note down|add a note)( (a|the|this|an))?"
    r"( (call|meeting|email|chat|note|visit))?( (with|for|to|on))?\s*"
    r"|^\s*记录一下[:：]?\s*|^\s*记录[:：]?\s*",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"(follow[- ]?up|call (?:her|him|them) back|check in|remind me|跟进|回访|回电话?)"
    r"(?P<rest>[^.。;；]*)",
    re.IGNORECASE,
)


@dataclass
class LogReading:
    summary: str
    channel: Channel
    follow_up: str | None = None
    when: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def log_arguments(text: str, today: date) -> LogReading:
    """Summary, channel, when and an optional follow-up day from "log a call with ..."."""
    prefix = _LOG_PREFIX.match(text)
    named = prefix.group(5) if prefix and prefix.group(5) else ""
    channel = next(
        (c for p, c in _CHANNELS if re.search(p, named or text, re.IGNORECASE)), Channel.NOTE
    )
    summary = _LOG_PREFIX.sub("", text, count=1).lstrip(" :：-—")
    head, colon, rest = summary.partition(":")
    if colon and len(head) <= 60 and rest.strip():  # "Acme: Maria confirmed ..." -> the note
        summary = rest.strip()
    summary = summary[:1].upper() + summary[1:] if summary else text
    follow_up = None
    if m := _FOLLOW_UP.search(text):
        before = re.split(r"[,，;；。.:：]", text[: m.start()])[-1]  # "下周二回访"
        for phrase in (m.group("rest"), before):
            if parse_day(phrase, today):
                follow_up = phrase.strip()
                break
    when = "yesterday" if re.search(r"\byesterday\b|昨天", text, re.IGNORECASE) else None
    return LogReading(summary=summary, channel=channel, follow_up=follow_up, when=when)


_REMIND = re.compile(
    r"^\s*(please\s+)?(remind me to|remind me|create a task( to)?|add a task[:：]?|"
    r"set a reminder to|提醒我|创建任务[:：]?|添加待办[:：]?)\s*",
    re.IGNORECASE,
)
_DUE_PHRASES = re.compile(
    r"\s*\b(on|by|next|this|tomorrow|in \d+ (days?|weeks?)|end of (the )?(week|month))\b.*$"
    r"|\s*(下周|明天|后天|周[一二三四五六日天]|星期|\d+天后|月底).*$",
    re.IGNORECASE,
)


def task_arguments(text: str, today: date) -> dict[str, str]:
    """Title and due phrase from "remind me to call Acme next Tuesday"."""
    rest = _REMIND.sub("", text, count=1)
    due = parse_day(rest, today)
    title = _DUE_PHRASES.sub("", rest).strip(" ,.，。") if due else rest.strip(" ,.，。")
    args = {"title": (title[:1].upper() + title[1:]) or text}
    if due:
        args["due"] = due.isoformat()
    return args


def reminder_arguments(text: str) -> dict[str, str]:
    """What and when from "remind me to call Acme on Tuesday at 9": the tool reads the
    time from `when` in the user's time zone."""
    from crmassist.scheduler.reminders import TIME_PHRASE

    rest = _REMIND.sub("", text, count=1)
    what = TIME_PHRASE.sub("", _DUE_PHRASES.sub("", rest)).strip(" ,.，。:：")
    return {"text": (what[:1].upper() + what[1:]) or text, "when": rest}


_LATIN_WORD = r"(?<![a-z])(?:{})(?![a-z])"  # a whole Latin word, even glued to Chinese
_TIERS = (  # lapsed first: "stopped ordering" is not "top"; whole English words only
    (_LATIN_WORD.format(r"lapsed|dormant|inactive|stopped (?:ordering|buying)|"
                        r"no longer (?:order|buy)[a-z]*")
     + r"|沉睡|流失的|不(?:再)?(?:订货|下单|采购)", "lapsed"),
    (_LATIN_WORD.format(r"high[- ]value|most valuable|best|top") + r"|高价值", "high-value"),
    (_LATIN_WORD.format(r"potential|promising") + r"|潜力", "potential"),
    (_LATIN_WORD.format(r"regular") + r"|普通", "regular"),
)  # fmt: skip


def tier_argument(text: str) -> str | None:
    return next((t for p, t in _TIERS if re.search(p, text, re.IGNORECASE)), None)


_STAGES = (  # most specific first: "流失风险" is at risk, "流失" alone is churned
    (r"at[- ]?risk|risky|endangered|(?:有)?流失风险|风险客户|有风险", "at_risk"),
    (r"churn(?:ed)?|lost (?:as )?(?:a )?customers?|stopped buying|已流失|流失|不再购买", "churned"),
    (r"loyal|repeat buyers?|忠诚", "loyal"),
    (r"opportunit(?:y|ies)|商机", "opportunity"),
    (r"\blead\b|\bleads\b|线索", "lead"),
    (r"became (?:a )?customers?|new customers?|成为客户|转为客户|新客户", "customer"),
)


def stage_argument(text: str) -> str | None:
    """The lifecycle stage a request asks about ("who moved to at-risk", "何时流失的")."""
    return next((s for p, s in _STAGES if re.search(p, text, re.IGNORECASE)), None)


_CUES = {
    # An intent whose tool acts on one kind of thing needs a word for that thing: without
    # one, "how did the Acme review go?" is not a lifecycle question however it embeds.
    "lifecycle_history": _LATIN_WORD.format("stages?|leads?")
    + r"|lifecycle|life[- ]cycle|churn|loyal|at[- ]?risk|bec[oa]me|turn(?:ed)? into|turned|"
    r"moved|convert|生命周期|阶段|流失|忠诚|转为|成为|变成|转成",
    "customer_value": _LATIN_WORD.format("clv|ltv")
    + r"|value|worth|lifetime|spend|价值|值多少|消费|贡献",
    "set_reminder": r"remind|reminder|alert me|ping me|nudge me|提醒|闹钟|叫我",
    "draft_follow_up": _LATIN_WORD.format("mail")
    + r"|draft|write|compose|e-?mail|follow[- ]?up|letter|message|reply|"
    r"起草|写|邮件|跟进|回复|消息",
}


def intents_without_their_words(text: str) -> list[str]:
    """Intents the request has no word for (see `_CUES`): ruled out of its reading. A clock
    time or a delay is a reminder's own word ("give me a nudge in 3 hours")."""
    from crmassist.scheduler.reminders import has_time_of_day

    return [
        name
        for name, cue in _CUES.items()
        if not re.search(cue, text, re.IGNORECASE)
        and not (name == "set_reminder" and has_time_of_day(text))
    ]


def names_an_article(text: str, titles: list[str]) -> bool:
    """The request quotes a knowledge-base article's title (a few typos allowed). The title
    must fit in the request: `partial_ratio` aligns the shorter string inside the longer, so
    a request shorter than a title ("hi") would be found inside it ("...checklist")."""
    lowered = normalise(text)
    return any(
        4 <= len(core := normalise(title)) <= len(lowered)
        and fuzz.partial_ratio(core, lowered) >= 92
        for title in titles
    )


_LANGUAGES_ASKED = (
    (r"\b(?:in|into) english\b|英文|英语", "en"),
    (r"\b(?:in|into) (?:chinese|mandarin)\b|中文|汉语|华语", "zh"),
)


def language_asked(text: str) -> str | None:
    """The language the request asks for ("in English", "写一封英文邮件"), if it names one."""
    return next((lang for p, lang in _LANGUAGES_ASKED if re.search(p, text, re.I)), None)


_RESTATING = re.compile(
    r"\b(?:again|repeat|translated?|translation|say|said|same|answer|reply|that|it|this)\b"
    r"|再说|重复|翻译|一遍|再来|同样|回答|这个|刚才",
    re.IGNORECASE,
)
_RESTATING_WORDS = 6


def asks_only_for_a_language(text: str) -> bool:
    """The request asks for the last answer again in another language and nothing else
    ("用中文再说一遍", "in English please", "translate that into Chinese"): what is left
    without the language and the words for saying again is everyday words or nothing."""
    if language_asked(text) is None:
        return False
    rest = _RESTATING.sub(
        " ", re.sub("|".join(p for p, _ in _LANGUAGES_ASKED), " ", text, flags=re.I)
    )
    return _few_everyday_words(rest, _RESTATING_WORDS)


def _few_everyday_words(text: str, at_most: int) -> bool:
    """`text` is at most `at_most` words, all of them everyday ones: it names no topic."""
    words = list(glossary().words(text))
    return len(words) <= at_most and all(is_everyday(w) for w in words)


_UNKNOWN_ZIPF = 2.0
"""An English word rarer than this (Zipf) is most likely a typo ("warrenty" 1.3, "dispensr"
0), unless the knowledge base itself uses it ("AquaSense")."""
_TYPO_RATIO = 85


def spelled_as(text: str, known: Collection[str]) -> str:
    """`text` with each unknown English word of five letters or more replaced by the
    `known` word (lower case) it is one or two letters off: "warrenty on the office
    dispensr" reads "warranty on the office dispenser" against the articles' titles."""

    def fix(match: re.Match[str]) -> str:
        word = match.group().lower()
        if word in known or zipf(word, "en") >= _UNKNOWN_ZIPF:
            return match.group()
        found = process.extractOne(word, known, scorer=fuzz.ratio, score_cutoff=_TYPO_RATIO)
        return str(found[0]) if found else match.group()

    return re.sub(r"(?<![A-Za-z])[A-Za-z]{5,}(?![A-Za-z])", fix, text)


_POINTING_BACK = re.compile(
    r"\b(?:that|this|it|its|those|these|them|they|such)\b|它|这个|那个|这种|那种|这些|那些|上述",
    re.IGNORECASE,
)


def points_back(text: str) -> bool:
    """The request refers to something said before ("the response target for that")."""
    return bool(_POINTING_BACK.search(text))


def is_chinese(text: str) -> bool:
    return len(_CJK.findall(text)) >= 2


# --- the request's mood ------------------------------------------------------------------------

_QUESTION_MARK = re.compile(r"[?？]\s*$")
_QUESTION_EN = re.compile(
    r"^\s*(?:what|what's|whats|when|where|which|who|whom|whose|why|how|is|are|was|were|did|"
    r"does|do|has|have|had|will|would|should|could|can|any|anything)\b",
    re.IGNORECASE,
)
_QUESTION_CLAUSE_EN = re.compile(
    r"(?:[,;:.!?]|\s[-–—])\s*(?:what(?!\s+an?\b)|where|which|who|whom|whose|why|how)\b",
    re.IGNORECASE,
)
"""A question after a report: "urgent ticket, nobody answered in 50 min - who takes over".
Not "when" (", when the budget is approved they sign") nor "what a" (an exclamation)."""
_QUESTION_ZH = re.compile(
    r"吗\s*$|呢\s*$|什么|多少|几[个号点天次月年时位台支家]|哪[个天些里家位儿]|为什么|为啥|怎么|怎样|"
    r"谁|是否|有没有|是不是|能不能|会不会"
)
_REPORTED = re.compile(r"\b(?:asked|wondered|wanted to know|inquired)\b|问|询问|想知道|咨询")
"""Reported speech: "客户问什么时候能安装" reports a question, it does not ask one."""
_EXPLICIT_LOG = re.compile(
    r"\b(?:log|record|note down|add a note|write down|jot down)\b|记录|记一下|记下|备注一下",
    re.IGNORECASE,
)


_FRAGMENT_WORDS = 3


def is_fragment(text: str) -> bool:
    """A request of a few everyday words that still asks or orders something ("how much",
    "多少？", "log it"): it names no topic to decline, so it is asked back about. "What's
    the weather?" names one; "thanks" or "ok" asks nothing."""
    ordered = bool(_EXPLICIT_LOG.search(text))
    if not (ordered or asks_a_question(text)):
        return False
    return _few_everyday_words(_EXPLICIT_LOG.sub(" ", text), _FRAGMENT_WORDS)


_POLITE = r"(?:please\s+|pls\s+|can you\s+|could you\s+|请|帮我|麻烦)?"
_FOR_WHOM = r"(?:(?:给|为)[^，,：:\s]{1,15}?)?"
_COMMANDS = (
    ("log_interaction",
     r"(?:log|record|note down|jot down|add a note)\b"
     r"|记录一下|记一下|记下|备注一下|加个备注|添加备注"),
    ("create_task",
     r"(?:add|create|make|set up|new)\s+(?:a\s+|an\s+)?(?:to-?do|task)\b"
     r"|新建任务|创建任务|建个任务|加个待办|添加待办|加个任务"),
)  # fmt: skip
_COMMANDED = [
    (intent, re.compile(rf"^\s*{_POLITE}{_FOR_WHOM}(?:{cue})", re.IGNORECASE))
    for intent, cue in _COMMANDS
]


def commanded_intent(text: str) -> str | None:
    """The tool a request opens by naming, then says what for ("log a call: ...", "add a
    to-do: ...", "给珠江啤酒厂加个备注：..."): the user said what to do, so it is done, not
    guessed from how the rest of the sentence embeds. "log it" says nothing to log."""
    for intent, cue in _COMMANDED:
        if (opened := cue.search(text)) and _says_something(text[opened.end() :]):
            return intent
    return None


def _says_something(rest: str) -> bool:
    """What follows the command is a report, not "it": a few words of its own."""
    return len(re.findall(r"[A-Za-z0-9]+", rest)) >= 3 or len(_CJK.findall(rest)) >= 4


def asks_a_question(text: str) -> bool:
    """A question about the record, not a report to log: "what did Acme decide?",
    "西湖酒店报价发了多少钱". A request that says "log" or "记录" is a log whatever its form."""
    if _EXPLICIT_LOG.search(text):
        return False
    if _QUESTION_MARK.search(text) or _QUESTION_EN.search(text):
        return True
    if _QUESTION_CLAUSE_EN.search(text) and not _REPORTED.search(text):
        return True
    return bool(_QUESTION_ZH.search(text)) and not _REPORTED.search(text)

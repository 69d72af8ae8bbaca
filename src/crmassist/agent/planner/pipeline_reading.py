"""Reading a pipeline question into the typed query's arguments, without a language model.

A small typed parser, English and Chinese, in passes over the question: shorthand and
typos are normalised against the parser's own vocabulary ("negotation" -> "negotiation",
"qtr" -> "quarter", "2q" -> "q2"); amounts are read and taken out ("over 100k", "1.2m",
"5万以上"), so a number is never also read as a year; then periods (domain.periods: close
date, or created date after "created"/"新建"), the measure ("win rate", "median",
"total"...), stages from their everyday words ("won", "lost", "open", "谈判"), names the
CRM knows (owners, teams, regions, industries, products, accounts, passed in), "my" and
"my team", the grouping ("by owner", "per region", "按地区") and superlatives or top-N
("which rep won the most" -> by owner, highest first, one winner shown first).

Only what the text says goes into the arguments; nothing is assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz, process

from crmassist.crm.customers import normalise
from crmassist.domain.periods import parse_period
from crmassist.privacy.entities import TOKEN_PATTERN


@dataclass(frozen=True)
class Vocabulary:
    """Names the asker may see, for reading filters: pseudonyms stand in for people."""

    regions: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    """Knowledge-base titles the asker may read: a request naming one is about it."""


# --- normalising: shorthand and typos ----------------------------------------------------------

_SHORTHAND = (
    (r"\bqtrs?\b|\bqrtr\b|\bquater\b", "quarter"),
    (r"\b([1-4])q\b", r"q\1"),
    (r"\b([1-4])(?:st|nd|rd|th) quarter\b", r"q\1"),
    (r"\bavg\b", "average"),
    (r"\brevs?\b", "revenue"),
    (r"\bamt\b", "amount"),
    (r"\bopps?\b|\bopportunit(?:y|ies)\b", "deals"),
    (r"\byrs?\b", "year"),
    (r"\bmos\b", "months"),
    (r"#\s*of\b", "number of"),
    (r"\bw/l\b|\bwin/loss\b", "win rate"),
    (r"\bppl\b", "people"),
)
_WORDS = frozenset(
    (
        "negotiation",
        "negotiating",
        "proposal",
        "proposals",
        "qualification",
        "qualified",
        "prospecting",
        "prospects",
        "close",
        "closes",
        "closed",
        "closing",
        "won",
        "lost",
        "open",
        "average",
        "median",
        "total",
        "revenue",
        "amount",
        "deals",
        "quarter",
        "quarterly",
        "month",
        "monthly",
        "year",
        "weighted",
        "forecast",
        "minimum",
        "maximum",
        "largest",
        "biggest",
        "smallest",
        "highest",
        "lowest",
        "number",
        "account",
        "accounts",
        "customer",
        "customers",
        "industry",
        "region",
        "regions",
        "product",
        "products",
        "owner",
        "owners",
        "salesperson",
        "team",
        "teams",
        "stage",
        "stages",
        "created",
        "between",
        "under",
        "above",
        "over",
        "million",
        "thousand",
        "pipeline",
        "probability",
        "cycle",
        "which",
        "during",
        "december",
        "november",
        "october",
        "september",
        "august",
        "february",
        "january",
    )
)


_SCRIPT_SEAM = re.compile(r"(?<=[\u3400-\u9fff])(?=[A-Za-z])|(?<=[A-Za-z])(?=[\u3400-\u9fff])")
_LATIN_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]+[0-9]+)(?=[\u3400-\u9fff])")
"""Where Chinese meets Latin letters ("Q4的open pipeline", "slipped的商机"): Chinese
characters are word characters to `\b`, so English words glued to them match nothing."""


def spaced(text: str) -> str:
    """A space wherever Chinese and Latin letters meet, as mixed-language writing often
    omits it, and after a code glued to Chinese ("Q4的"); other digits stay glued ("12月",
    "2017年")."""
    return _LATIN_CODE.sub(r"\1 ", _SCRIPT_SEAM.sub(" ", text))


def normalised(text: str) -> str:
    """Lower case, English words set apart from Chinese, shorthand spelled out, English
    typos fixed against the vocabulary above (words of five letters or more, one or two
    letters off). Pseudonyms are kept as they are."""
    text = spaced(text)
    out, done = [], 0
    for token in [*TOKEN_PATTERN.finditer(text), None]:
        end = token.start() if token else len(text)
        piece = text[done:end].lower()
        for pattern, replacement in _SHORTHAND:
            piece = re.sub(pattern, replacement, piece)
        out.append(re.sub(r"[a-z]{5,}", _corrected, piece))
        if token:
            out.append(token.group())
            done = token.end()
    return "".join(out)


def _corrected(match: re.Match[str]) -> str:
    word = match.group()
    if word in _WORDS:
        return word
    found = process.extractOne(word, _WORDS, scorer=fuzz.ratio, score_cutoff=86)
    return str(found[0]) if found else word


# --- amounts ----------------------------------------------------------------------------------

_NUMBER = r"(?:[$€£¥]\s*)?\d[\d,]*(?:\.\d+)?\s*(?:k|m|mm|mn|bn|million|thousand|万|千|百万|亿)?"
_UNIT = {"k": 1_000, "thousand": 1_000, "千": 1_000, "m": 10**6, "mm": 10**6, "mn": 10**6,
         "million": 10**6, "百万": 10**6, "万": 10_000, "bn": 10**9, "亿": 10**8}  # fmt: skip
_BETWEEN = re.compile(
    rf"(?:between|from)\s+(?P<low>{_NUMBER})\s*(?:and|to|-)\s*(?P<high>{_NUMBER})"
    rf"|(?P<low2>{_NUMBER})\s*(?:-|–|to|至|到)\s*(?P<high2>{_NUMBER})"
)
_LOWER = r"over|above|more than|greater than|bigger than|larger than|at least|min(?:imum)?|>=?"
_UPPER = r"under|below|less than|smaller than|at most|up to|max(?:imum)?|<=?"
_LOWER_ZH = "超过|大于|高于|不低于|至少"
_UPPER_ZH = "低于|小于|不超过|不高于|少于"
_UPPER_AFTER = ("以下", "or less", "or lower", "and below")
"""Words after a number that make it an upper bound ("10万以下", "50% or less")."""
_BOUND = re.compile(
    rf"(?P<op>{_LOWER}|{_UPPER}|{_LOWER_ZH}|{_UPPER_ZH})\s*"
    rf"(?P<num>{_NUMBER})(?:\s*(?:eur|usd|gbp|cny|rmb|元|欧元|美元))?"
    rf"|(?P<num2>{_NUMBER})\s*(?:eur|usd|gbp|cny|rmb|元|欧元|美元)?\s*"
    r"(?P<post>\+|以上|以下|or more|or less)"
)


def _amount(text: str) -> Decimal | None:
    m = re.fullmatch(r"(?:[$€£¥]\s*)?(\d[\d,]*(?:\.\d+)?)\s*([a-z万千百亿]*)", text.strip())
    if not m or (m.group(2) and m.group(2) not in _UNIT):
        return None
    return Decimal(m.group(1).replace(",", "")) * _UNIT.get(m.group(2), 1)


def _amounts(text: str, args: dict[str, Any]) -> str:
    """Amount bounds into `args`; the text without them."""
    if m := _BETWEEN.search(text):
        low, high = (
            _amount(m.group("low") or m.group("low2")),
            _amount(m.group("high") or m.group("high2")),
        )
        if low is not None and high is not None and _looks_like_money(m.group(0)):
            args["min_amount"], args["max_amount"] = str(min(low, high)), str(max(low, high))
            return text[: m.start()] + " " + text[m.end() :]
    for m in list(_BOUND.finditer(text))[::-1]:
        value = _amount(m.group("num") or m.group("num2"))
        if value is None:
            continue
        op = (m.group("op") or m.group("post") or "").lower()
        args["max_amount" if _is_upper(op) else "min_amount"] = str(value)
        text = text[: m.start()] + " " + text[m.end() :]
    return text


_CHANCE = r"probabilit(?:y|ies)|likelihood|chances?|odds|赢率|概率|可能性|成功率"
_POST = r"\+|以上|以下|or more|or less|or higher|or lower|and (?:up|above|over|below)"
_PERCENT = rf"(?:(?P<op>{_LOWER}|{_UPPER}|{_LOWER_ZH}|{_UPPER_ZH})\s*)?(?P<num>\d{{1,3}})\s*%"
_PROBABILITY = re.compile(
    rf"(?:(?:win|close|closing)\s+)?(?:{_CHANCE})(?:\s+(?:of|is|at|was))?\s*{_PERCENT}"
    rf"\s*(?P<post>{_POST})?"
    rf"|{_PERCENT.replace('?P<', '?P<b_')}\s*(?P<b_post>{_POST})?\s*(?:win\s+|close\s+)?"
    rf"(?:{_CHANCE})(?:\s*(?P<b_after>{_POST}))?"
)


def _probabilities(text: str, args: dict[str, Any]) -> str:
    """A percentage beside a word for a deal's chance ("probability over 50%", "赢率50%以上",
    "80%+ likelihood") bounds the deal's probability; the text without it (赢率 there is a
    filter, not the win-rate measure). A bare percentage is that probability exactly."""
    m = _PROBABILITY.search(text)
    if m is None:
        return text
    found = {k.removeprefix("b_"): v for k, v in m.groupdict().items() if v}
    value = min(int(found["num"]), 100)
    bound = (found.get("op") or found.get("post") or found.get("after") or "").lower()
    if not bound:
        args["min_probability"] = args["max_probability"] = value
    elif _is_upper(bound):
        args["max_probability"] = value
    else:
        args["min_probability"] = value
    return text[: m.start()] + " " + text[m.end() :]


def _is_upper(bound: str) -> bool:
    """The word before or after a number bounds it from above ("under", "低于", "以下")."""
    return bool(re.fullmatch(_UPPER, bound)) or bound in (*_UPPER_ZH.split("|"), *_UPPER_AFTER)


def _looks_like_money(phrase: str) -> bool:
    """ "10k-50k" is money; "2016-2017" is not (a range of years)."""
    return bool(re.search(r"[kmb万千亿$€£¥]|\d{5,}|between", phrase)) or not re.search(
        r"\b(?:19|20)\d{2}\b", phrase
    )


# --- periods ----------------------------------------------------------------------------------

_CREATED = re.compile(
    r"(?:created|opened|added|entered|new|started|originated|创建|新建|新增|录入)\W*(?:\w+\W+){0,3}$"
)


def _periods(text: str, today: date, args: dict[str, Any]) -> str:
    """Up to two periods: one for the close date, one for the created date."""
    for _ in range(2):
        period = parse_period(text, today)
        if period is None:
            break
        start = text.find(period.label)
        key = "created_period" if _CREATED.search(text[:start]) else "close_period"
        if key in args:
            break
        args[key] = period.label
        text = text[:start] + " " + text[start + len(period.label) :]
    return text


# --- measures, stages, groups -----------------------------------------------------------------

_MEASURES = (
    (r"win[ -]?rate|win[ -]?ratio|close[ -]?rate|hit[ -]?rate|conversion"
     r"|赢率|赢单率|成交率|胜率|转化率", "win_rate"),
    (r"sales cycle|cycle (?:time|length)|days to close|time to close|how long\b.*\bclose|"
     r"销售周期|成交周期|(?:成交|签单|关单|赢单)\S{0,4}多久|多久\S{0,4}(?:成交|签单|关单|赢单)",
     "sales_cycle"),
    (r"\bweighted\b|\bforecast|加权|预测", "weighted_sum"),
    (r"\bmedian\b|中位", "median"),
    (r"\baverage\b|\bmean\b|\btypical\b|平均|均值", "average"),
    (r"\b(?:total|sum|revenue|value|worth|how much|amount|bookings|sales volume|turnover)\b"
     r"|金额|总额|收入|营收|多少钱|业绩|销售额|总值|合计", "sum"),
    (r"\bhow many (?:dollars|bucks|euros|pounds|usd|eur|gbp|yuan|rmb)\b", "sum"),
    (r"\bhow many\b|\bcount\b|\bnumber of\b|多少个|几个|数量|多少单|多少笔|几单|多少商机", "count"),
    (r"多少", "sum"),
)  # fmt: skip
PIPELINE_MEASURES = frozenset(
    {"win_rate", "win_rate_value", "sales_cycle", "weighted_sum", "median"}
)
"""Measures nothing but the pipeline has: a question asking for one is a pipeline question."""
_BY_VALUE = re.compile(r"\bby (?:value|amount|revenue|money)\b|按金额|金额口径|以金额")
_EXTREMES = (
    (r"\b(?:largest|biggest|max(?:imum)?|highest|top)\s+(?:[a-z]+\s+)?(?:deal|amount)\b"
     r"|最大的?(?:一笔|单|商机)?", "max"),
    (r"\b(?:smallest|min(?:imum)?|lowest)\s+(?:[a-z]+\s+)?(?:deal|amount)\b"
     r"|最小的?(?:一笔|单|商机)?", "min"),
)  # fmt: skip
_DUE_TO_CLOSE = (
    r"\b(?:supposed|expected|due|scheduled|slated|set|going|likely)\s+to\s+close\b|\bwill close\b"
    r"|(?:将会?|要|会)\s*(?:成交|关单|签单|签约)"
)
"""A close still to come: those deals are open. Not 预计成交 or 计划成交: that is the
close-date field's own name (预计成交日), said of any deal."""
_CLOSE_DATE_ZH = re.compile(
    rf"{_DUE_TO_CLOSE}|(?:预计|预期|计划|能)\s*(?:成交|关单|签单)|成交(?:日期|时间|日)"
)
"""成交 as the close date, not a won deal: 预计成交 (expected to close), 成交日期."""
_STAGES = (
    (r"\bnegotiat\w*|谈判|议价", ["negotiation"]),
    (r"\bproposals?\b|\bquot(?:e|es|ed|ing)\b|报价|方案", ["proposal"]),
    (r"\bprospect\w*|初步接触|潜在|线索", ["prospecting"]),
    (r"\bqualif\w*|资格|需求确认", ["qualification"]),
    (r"\bclosed[ _-]?won\b|\bwon\b|\bwins?\b|\bwinning\b|\bbooked\b|\bsigned\b|赢单|赢了|赢得|"
     r"赢|成交|签单|拿下", ["closed_won"]),
    (r"\bclosed[ _-]?lost\b|\blost\b|\blos(?:e|es|ing|s|ses)\b|输单|丢单|失单|输掉|丢了|输了|输",
     ["closed_lost"]),
)  # fmt: skip
_CLOSED = re.compile(
    r"(?<!not[ -])(?<!not yet[ -])(?<!not-yet-)\bclosed\b|已关闭|已结束|(?<!未)关闭的"
)
_OPEN = re.compile(
    r"\bopen\b|\bactive\b|\bin progress\b|\blive\b|\bunclosed\b|\bnot[ -](?:yet[ -])?closed\b"
    r"|\bworking on\b|\bin play\b|\bpending\b"
    r"|进行中|未关闭|在跟|未成交|在途|跟进中|还没关|没关|未关"
)
_SLIPPED = re.compile(
    r"\b(?:slipped|slipping|overdue|past due|missed)\b"
    r"|\b(?:past|after|beyond) (?:their |its |the )?(?:expected )?close(?: date)?\b"
    r"|延期|逾期|推迟|(?:过了|超过|超出)\S{0,3}成交日期"
)
_DIMENSIONS = (
    (r"reps?|sales ?(?:reps?|people|persons?|man|men)|salespeople|salesperson|sellers?|owners?|"
     r"agents?|account managers?|persons?|people|销售员|销售|负责人|业务员|谁", "owner"),
    (r"teams?|managers?|groups?|团队|小组|组", "team"),
    (r"regions?|territor(?:y|ies)|areas?|countr(?:y|ies)|geos?|markets?|地区|区域|大区|市场",
     "region"),
    (r"industr(?:y|ies)|sectors?|verticals?|行业", "industry"),
    (r"accounts?|customers?|clients?|compan(?:y|ies)|客户|公司", "account"),
    (r"products?|items?|skus?|product lines?|产品", "product"),
    (r"months?|monthly|月份|月", "close_month"),
    (r"quarters?|quarterly|季度", "close_quarter"),
    (r"stages?|phases?|阶段", "stage"),
)  # fmt: skip
_CLOSE_DATE = r"(?:(?:expected\s+)?clos(?:e|ing)\s+(?:date\s+)?)"
"""What may stand between a cue and a date dimension: "by close quarter"."""
_GROUP_CUE = (
    r"\bby\b|\bper\b|\beach\b|\bacross\b|\bbroken down by\b|\bsplit by\b|\bcompar(?:e|ing)\b"
    r"|按|各|每个?|分|对比|比较"
)
_WHICH_CUE = r"\bwhich\b|\bwhat\b|\bwho\b|哪个|哪位|哪些|哪家|哪一个|哪一位|谁"
_MOST = re.compile(
    r"\b(?:most|highest|best|biggest|largest|top|leading|greatest|more)\b|最多|最高|最好|最大|第一|最强"
)
_LEAST = re.compile(r"\b(?:least|lowest|fewest|worst|smallest)\b|最少|最低|最差|最小")
_COUNT_ZH = r"\d{1,3}|[一二两三四五六七八九十]{1,3}"
_TOP_N = re.compile(
    r"\b(?:top|best|biggest|largest)\s*(\d{1,3})\b|\b(\d{1,3})\s+(?:biggest|largest|best|top)\b"
    rf"|前\s*({_COUNT_ZH})"
)
_DEALS = re.compile(r"\bdeals?\b|商机")
_DEAL_NOUN = re.compile(rf"{_DEALS.pattern}|\b(?:number|count)\b|单数|个数|多少单|几单|笔数")
_MINE = re.compile(r"\b(?:my|mine|i)\b(?!\s+team)|我的(?!团队)|我(?=赢|输|成交|签)")
_MY_TEAM = re.compile(r"\b(?:my|our) team\b|我(?:的|们的?)团队|本团队|我们组")


@dataclass
class _Reading:
    text: str
    today: date
    vocabulary: Vocabulary
    args: dict[str, Any] = field(default_factory=dict)


def read_pipeline(text: str, vocabulary: Vocabulary, today: date) -> dict[str, Any]:
    """The `pipeline_query` tool's arguments for a question."""
    reading = _Reading(normalised(text), today, vocabulary)
    _read_names(reading, text)
    reading.text = _probabilities(reading.text, reading.args)
    reading.text = _amounts(reading.text, reading.args)
    reading.text = _periods(reading.text, today, reading.args)
    _read_measure(reading)
    _read_stages(reading)
    _read_group(reading)
    _read_owner_scope(reading)
    return reading.args


def completed(args: dict[str, Any]) -> dict[str, Any]:
    """A list of deals leads with their total and count: its measure is the sum."""
    if args and not {"metric", "group_by"} & set(args):
        return {**args, "metric": "sum"}
    return args


def _read_measure(r: _Reading) -> None:
    for pattern, metric in _MEASURES:
        if m := re.search(pattern, r.text):
            if metric == "win_rate" and _BY_VALUE.search(r.text):
                metric = "win_rate_value"
            r.args["metric"] = metric
            if metric in ("win_rate", "win_rate_value", "sales_cycle"):
                r.text = r.text[: m.start()] + " " + r.text[m.end() :]  # "win" is no stage here
            return
    for pattern, metric in _EXTREMES:
        if re.search(pattern, r.text) and not re.search(_WHICH_CUE, r.text):
            r.args["metric"] = metric
            return


def _read_stages(r: _Reading) -> None:
    text = _CLOSE_DATE_ZH.sub(" ", r.text)
    stages = [s for pattern, found in _STAGES if re.search(pattern, text) for s in found]
    if not stages and _CLOSED.search(r.text) and not re.search(r"\bclos(?:e|ing)\b", r.text):
        stages = ["closed_won", "closed_lost"]
    if stages and r.args.get("metric") not in ("win_rate", "win_rate_value"):
        r.args["stages"] = stages
    if _SLIPPED.search(r.text):
        r.args["slipped"] = True
    elif (_OPEN.search(r.text) or re.search(_DUE_TO_CLOSE, r.text)) and not stages:
        r.args["open_only"] = True


_PIPELINE_WORDS = re.compile(
    r"\b(?:pipeline|forecast|quota|opps?|opportunit(?:y|ies)|win rate|won|lost)\b"
    r"|管道|预测|赢单|输单|赢率|成交"
)


def names_deals(text: str) -> bool:
    """The request has a word for deals or the pipeline itself ("opps", "商机")."""
    lowered = normalised(text)  # "opps" is spelled out as "deals" here
    return bool(_PIPELINE_WORDS.search(lowered) or _DEALS.search(lowered))


def speaks_of_deals(text: str, vocabulary: Vocabulary, today: date) -> bool:
    """Whether anything in the request is the pipeline's: a measure, filter or grouping
    the parser reads, or a word only deals have. "Is Mojave comparing us against a
    competitor?" has none, however close its embedding lands to a pipeline question."""
    lowered = text.lower()
    return bool(
        read_pipeline(text, vocabulary, today)
        or _DEAL_NOUN.search(lowered)
        or _PIPELINE_WORDS.search(lowered)
    )


def top_n(text: str) -> int | None:
    """How many the request asks for: "top 5", "the 3 biggest", "前10名"."""
    top = _TOP_N.search(text)
    return _count(next(g for g in top.groups() if g)) if top else None


_DIGITS_ZH = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}


def _count(written: str) -> int:
    """ "5", "三", "十", "十二", "二十": a count as digits or Chinese numerals below 100."""
    if written.isdigit():
        return int(written)
    tens, _, ones = written.partition("十")
    if not _:
        return _DIGITS_ZH[written]
    return (_DIGITS_ZH[tens] if tens else 1) * 10 + (_DIGITS_ZH[ones] if ones else 0)


def _read_group(r: _Reading) -> None:
    """ "by owner" groups; "which rep ... most" groups, highest first, the winner shown;
    "top 5 accounts" keeps five; "top 5 deals" lists the five largest deals."""
    limit = top_n(r.text)
    dimension = _dimension(r.text, _GROUP_CUE) or _dimension(r.text, _WHICH_CUE)
    if dimension is None and (limit is not None or re.search(r"\btop\b", r.text)):
        top = rf"\btop(?:\s*\d{{1,3}})?\b|前\s*(?:{_COUNT_ZH})\s*(?:个|名|位|家)?"
        dimension = _dimension(r.text, top)
    if dimension is None:
        if limit:
            r.args.update(limit=limit, sort="amount_desc")
        return
    r.args["group_by"] = dimension
    if dimension in ("close_month", "close_quarter") and not (limit or _ranked(r.text)):
        r.args["sort"] = "group_asc"
        return
    if _LEAST.search(r.text):
        r.args["sort"] = "value_asc"
    if limit:
        r.args["limit"] = limit
    if "metric" not in r.args and _ranked(r.text):
        r.args["metric"] = "count" if _DEAL_NOUN.search(r.text) else "sum"


def wants_winner(text: str) -> bool:
    """ "Which rep won the most", "哪个销售赢单金额最高": one group asked for, shown first."""
    lowered = normalised(text)
    return bool(
        re.search(_WHICH_CUE, lowered)
        and _ranked(lowered)
        and (_dimension(lowered, _WHICH_CUE) or _dimension(lowered, _GROUP_CUE))
        and not _TOP_N.search(lowered)
    )


def _ranked(text: str) -> bool:
    return bool(_MOST.search(text) or _LEAST.search(text) or _TOP_N.search(text))


def _dimension(text: str, cue: str) -> str | None:
    """The dimension named right after a cue ("by rep", "which region", "按地区")."""
    for cue_match in re.finditer(cue, text):
        after = text[cue_match.end() : cue_match.end() + 40]
        for pattern, dimension in _DIMENSIONS:
            if re.match(
                rf"\s*(?:the\s+|of\s+|one\s+|\d+\s+)?{_CLOSE_DATE}?(?:{pattern})(?![a-z])", after
            ):
                return dimension
        if cue_match.group() in ("who", "谁"):
            return "owner"
    return None


def _read_owner_scope(r: _Reading) -> None:
    if _MY_TEAM.search(r.text):
        r.args["mine"] = "my_team"
    elif _MINE.search(r.text) and "owner_names" not in r.args:
        r.args["mine"] = "me"


# --- names the CRM knows ----------------------------------------------------------------------


def _read_names(r: _Reading, original: str) -> None:
    """Owners (pseudonyms or names), teams, regions, industries, products and accounts
    named in the text; matched names are taken out so their words are not read again."""
    v = r.vocabulary
    found = {
        "owner_names": _people(original, v.owners),
        "team_names": _phrases(r.text, v.teams),
        "regions": _phrases(r.text, v.regions),
        "industries": _phrases(r.text, v.industries),
        "products": _products(r.text, v.products),
        "account_names": _phrases(r.text, v.accounts),
    }
    _one_kind_each(r.text, found)
    for key, names in found.items():
        if names:
            r.args[key] = names
            for name in names:
                r.text = re.sub(re.escape(spaced(name.lower())), " ", r.text)
    r.text = TOKEN_PATTERN.sub(" ", r.text)


_KIND_WORDS = {
    "team_names": r"teams?|团队|小组|组",
    "regions": r"regions?|territor(?:y|ies)|areas?|地区|区域|大区",
}


def _one_kind_each(text: str, found: dict[str, list[str]]) -> None:
    """A name that is both a team and a region ("APAC") is the one its neighbour word
    says ("APAC团队", "the APAC region"); with no such word it stays both."""
    teams, regions = found["team_names"], found["regions"]
    for name in [t for t in teams if t.lower() in {r.lower() for r in regions}]:
        near = re.escape(spaced(name.lower()))
        for kind, other in (("team_names", "regions"), ("regions", "team_names")):
            word = _KIND_WORDS[kind]
            if re.search(rf"{near}\s*(?:{word})(?![a-z])|(?<![a-z])(?:{word})\s*{near}", text):
                found[other] = [n for n in found[other] if n.lower() != name.lower()]
                break


def _people(text: str, owners: list[str]) -> list[str]:
    tokens = [t.group() for t in TOKEN_PATTERN.finditer(text) if t.group() in owners]
    if tokens:
        return tokens
    words = normalise(text).split()
    named = []
    for owner in owners:
        parts = normalise(owner).split()
        if len(parts) >= 2 and all(any(fuzz.ratio(part, w) >= 88 for w in words) for part in parts):
            named.append(owner)
    return named


def _phrases(text: str, names: list[str]) -> list[str]:
    """Names written out in the text (any case; Chinese without word boundaries)."""
    found = []
    for name in names:
        lowered = spaced(name.lower())
        boundary = rf"(?<![a-z0-9]){re.escape(lowered)}(?![a-z0-9])"
        if len(lowered) >= 2 and re.search(boundary, text):
            found.append(name)
    return [n for n in found if not any(n != o and n.lower() in o.lower() for o in found)]


def _products(text: str, products: list[str]) -> list[str]:
    """A product by its full name, its code ("IG-900") or its distinctive words."""
    exact = _phrases(text, products)
    if exact:
        return exact
    words = set(re.findall(r"[a-z0-9-]{3,}|[\u4e00-\u9fff]{2,}", text))
    scored = []
    for product in products:
        own = [w for w in re.findall(r"[a-z0-9-]{3,}", product.lower()) if w not in _WORDS]
        coded = [w for w in own if re.search(r"\d", w)]
        if coded and set(coded) & words:
            scored.append((3, product))
        elif (hits := len([w for w in own if len(w) >= 6 and w in words])) >= 1:
            scored.append((hits, product))
    best = max((s for s, _ in scored), default=0)
    return [p for s, p in scored if s == best] if best else []


def refine(previous: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """A follow-up's reading ("only the ones over 100k", "只看谈判阶段", "and by owner?")
    applied to the previous question's arguments: what it names replaces or adds."""
    merged = {**previous, **update}
    if "stages" in update or update.get("open_only"):
        merged.pop("open_only", None) if "stages" in update else merged.pop("stages", None)
    if "group_by" in update and "limit" not in update:
        merged.pop("limit", None)
    return merged


_FOLLOW_UP = re.compile(
    r"^\s*(?:and|only|just|now|what about|how about|same|those|these|them|then|but|"
    r"instead|also|ok|okay|仅|只|那|再|其中|这些|那些|换成|改成)|呢\s*[?？]?\s*$",
    re.IGNORECASE,
)


_REGROUPING = frozenset({"group_by", "limit", "sort"})


def only_regroups(reading: dict[str, Any]) -> bool:
    """A reading that says how to show deals but not which ("按负责人分组", "by owner",
    "top 5"): after a pipeline question it regroups that question's deals."""
    return bool(reading) and set(reading) <= _REGROUPING


def is_follow_up(text: str) -> bool:
    """Text that refines the last question rather than asking a new one: it starts like a
    follow-up ("only", "and", "now", "只看") or ends like one ("按负责人呢?")."""
    return bool(_FOLLOW_UP.search(text.strip()))

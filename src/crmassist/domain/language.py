"""The language of a text, told the way articles' `lang` defaults on import."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from typing import Any

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def detect_lang(text: str) -> str:
    """ "zh" when over a tenth of the characters are CJK, else "en"."""
    return "zh" if len(CJK.findall(text)) > len(text) * 0.1 else "en"


def without_accents(text: str) -> str:
    """ "Sofía" -> "Sofia": letters without their combining marks."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def jieba() -> Any:
    """The jieba module (Chinese word segmentation), imported on first use with its
    dictionary-loading messages kept out of the console; its dictionaries still load lazily."""
    import jieba as module

    module.setLogLevel(logging.WARNING)
    return module


@functools.lru_cache(maxsize=65536)
def zipf(word: str, lang: str) -> float:
    """How common `word` is in `lang` ("en", "zh") on wordfreq's Zipf scale: 0 for a word
    its bundled lists have never seen, about 7 for "the"."""
    from wordfreq import zipf_frequency

    if lang == "zh":
        jieba()  # wordfreq cuts Chinese with jieba: quiet before its dictionary loads
    return float(zipf_frequency(word, lang))

"""The language of a text, told the way articles' `lang` defaults on import."""

from __future__ import annotations

import re
import unicodedata

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def detect_lang(text: str) -> str:
    """ "zh" when over a tenth of the characters are CJK, else "en"."""
    return "zh" if len(CJK.findall(text)) > len(text) * 0.1 else "en"


def without_accents(text: str) -> str:
    """ "Sofía" -> "Sofia": letters without their combining marks."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))

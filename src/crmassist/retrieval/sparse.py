"""BM25 sparse vectors, computed client-side so both store adapters index identical terms.

Built on qdrant-edge's `Bm25` with the multilingual tokenizer, which segments Chinese into
words. The engine applies IDF at query time (`Modifier.Idf` on the sparse vector), so:

- documents carry saturated, length-normalised term frequencies (`embed_document`);
- queries carry each distinct term once with weight 1.0 (`embed_query`), so a repeated or
  long query does not re-weight its own terms.

Score = sum over query terms of idf(term) * tf_weight(term, doc): classic BM25.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from qdrant_edge import Bm25, Bm25Config, TokenizerType
from qdrant_edge import SparseVector as EdgeSparseVector

from crmassist.retrieval.store import SparseVector

# The multilingual tokenizer drops tokens made only of digits ("1042" in "E-1042", ticket and
# order numbers). Gluing a letter to the front of such runs keeps them as searchable terms.
_BARE_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?=[0-9])")
_NUMBER_MARK = "n"
# Part codes are written hyphenated in articles ("CB-20") and glued in questions ("cb20"):
# each is indexed in both forms, so either spelling matches the other.
_PART_CODE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2,})-?([0-9]{2,})(?![0-9])")


def normalize(text: str) -> str:
    """NFKC (full-width ０-９/Ａ-Ｚ as ASCII), part codes in both spellings, and bare numbers
    made visible to the tokenizer."""
    text = _PART_CODE.sub(r"\1-\2 \1\2", unicodedata.normalize("NFKC", text))
    return _BARE_DIGITS.sub(_NUMBER_MARK, text)


class Bm25Encoder:
    """Text to BM25 sparse vectors; documents and queries are weighted differently on purpose.

    `avg_len` (tokens per document) only shifts length normalisation; changing it, like
    changing the tokenizer, means re-indexing.
    """

    def __init__(self, avg_len: float | None = None) -> None:
        config = Bm25Config(tokenizer=TokenizerType.Multilingual, avg_len=avg_len)
        self._bm25 = Bm25(config)

    def embed_documents(self, texts: Iterable[str]) -> list[SparseVector]:
        return [_convert(self._bm25.embed_document(normalize(text))) for text in texts]

    def embed_query(self, text: str) -> SparseVector:
        return _convert(self._bm25.embed_query(normalize(text)))

    def terms(self, text: str) -> set[int]:
        """The distinct terms search would match on (stemmed, stop words dropped), hashed."""
        return set(self._bm25.embed_query(normalize(text)).indices)


def _convert(vector: EdgeSparseVector) -> SparseVector:
    return SparseVector(indices=list(vector.indices), values=list(vector.values))

"""Token-aware chunking, measured in the embedding model's own tokens.

Characters are a poor unit here: MiniLM truncates at 256 tokens and Chinese costs about
one token per character, so a character budget that suits English overflows in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraphs, lines, then sentence ends in English and Chinese, then clauses, then words.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ", ""]


class Chunker:
    def __init__(
        self, token_length: Callable[[str], int], chunk_tokens: int, overlap_tokens: int
    ) -> None:
        if overlap_tokens >= chunk_tokens:
            raise ValueError("chunk overlap must be smaller than the chunk size")
        self._token_length = token_length
        self._chunk_tokens = chunk_tokens
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            length_function=token_length,
            separators=SEPARATORS,
            keep_separator="end",
            strip_whitespace=True,
        )

    def split(self, text: str) -> list[str]:
        text = text.strip()
        if not text:
            return []
        if self._token_length(text) <= self._chunk_tokens:  # most notes: one chunk, no search
            return [text]
        return self._splitter.split_text(text)

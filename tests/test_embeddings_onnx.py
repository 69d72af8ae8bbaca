"""The onnx embedding backends: fp32 gives the torch model's vectors and token counts from a
graph exported once and cached, and torch where onnx cannot run (with a warning); int8's
vectors are close but not the same, so the index records it."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from crmassist.retrieval.embeddings import (
    OnnxEncoder,
    OnnxUnavailable,
    SentenceTransformerEncoder,
    build_encoder,
    onnx_encoder,
    resolve_model_path,
)
from crmassist.retrieval.store import open_store
from crmassist.settings import Settings

MODEL = "all-MiniLM-L6-v2"
TEXTS = [
    "Customer reports the FlowGuard purifier leaking under the sink.",
    "客户投诉净水器漏水，要求上门维修",
    "ok",
    "Renewal call: " + "pricing and service terms discussed at length " * 60,  # > 256 tokens
]


@pytest.fixture(scope="module")
def cache() -> Path:
    """The shared cache: the graph is exported once per machine, as in use."""
    return Settings().resolved_cache_dir


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(MODEL)


@pytest.fixture(scope="module")
def onnx(cache: Path) -> OnnxEncoder:
    return onnx_encoder(MODEL, cache)


def test_onnx_vectors_are_the_torch_vectors(
    onnx: OnnxEncoder, torch_encoder: SentenceTransformerEncoder
) -> None:
    ours, theirs = onnx.embed_documents(TEXTS), torch_encoder.embed_documents(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert np.sum(ours * theirs, axis=1).min() > 0.9999  # batched, padded, truncated alike
    assert float(onnx.embed_query(TEXTS[0]) @ torch_encoder.embed_query(TEXTS[0])) > 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_onnx_counts_tokens_and_limits_like_torch(
    onnx: OnnxEncoder, torch_encoder: SentenceTransformerEncoder
) -> None:
    assert [onnx.token_length(t) for t in TEXTS] == [torch_encoder.token_length(t) for t in TEXTS]
    assert onnx.token_length(TEXTS[-1]) > onnx.max_tokens == torch_encoder.max_tokens == 256
    assert onnx.dimension == torch_encoder.dimension


def test_the_exported_graph_is_reused(
    onnx: OnnxEncoder, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graphs = sorted((cache / "onnx").glob("*.onnx"))
    with caplog.at_level(logging.WARNING):
        build_encoder(MODEL, cache, backend="onnx").embed_query("again")
    assert "exporting" not in caplog.text
    assert sorted((cache / "onnx").glob("*.onnx")) == graphs


def test_without_onnxruntime_it_warns_and_runs_on_torch(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with caplog.at_level(logging.WARNING):
        encoder = build_encoder(MODEL, cache, backend="onnx")
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert "onnxruntime is not installed" in caplog.text


def test_a_layout_onnx_does_not_reproduce_is_refused_before_exporting(tmp_path: Path) -> None:
    model = shutil.copytree(resolve_model_path(MODEL), tmp_path / "with-dense")
    modules = json.loads((model / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "models.Dense"})
    (model / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(OnnxUnavailable, match="Dense"):
        onnx_encoder(str(model), tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_cache_it_cannot_write_warns_and_runs_on_torch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING):
        encoder = build_encoder(MODEL, blocked / "cache", backend="onnx")
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert "could not be exported" in caplog.text


def test_int8_vectors_are_close_but_other_so_the_index_records_the_backend(
    cache: Path,
    torch_encoder: SentenceTransformerEncoder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    int8 = build_encoder(MODEL, cache, backend="onnx-int8")
    cosine = np.sum(int8.embed_documents(TEXTS) * torch_encoder.embed_documents(TEXTS), axis=1)
    assert cosine.min() > 0.95 and cosine.max() < 0.99999
    monkeypatch.delenv("CRMASSIST_QDRANT_URL", raising=False)
    built = open_store(Settings(data_dir=tmp_path, embedding_backend="onnx"))
    built.ensure_collection(int8.dimension)
    built.close()
    for backend, changed in (("torch", False), ("onnx", False), ("onnx-int8", True)):
        store = open_store(Settings(data_dir=tmp_path, embedding_backend=backend))
        assert store.model_changed() is changed, backend
        store.close()

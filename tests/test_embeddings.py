"""embeddings: the bundled model behind the Embedder interface, its precisions and batching."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.integration  # every test here runs the bundled model (or a saved copy of it)

TEXTS = [
    "The statement was issued by the foreign ministers after the meeting in Brussels.",
    "Short one.",
    "Ministers condemned the launches and called for the resumption of talks without preconditions.",
    "Python is an interpreted, interactive, object-oriented programming language.",
    "Short two.",
    "It incorporates modules, exceptions, dynamic typing, very high level dynamic data types, and classes.",
    "A third sentence of middling length about indexes.",
] * 3


def test_length_batches_cover_every_text_once_with_equal_token_counts(real_embedder):
    real_embedder.batch_size = 4
    try:
        batches = real_embedder.length_batches(TEXTS)
    finally:
        real_embedder.batch_size = 64
    counts = real_embedder.token_counts(TEXTS)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(TEXTS)))
    for batch in batches:
        assert 1 <= len(batch) <= 4
        assert len(set(counts[batch].tolist())) == 1


def test_long_texts_go_in_batches_of_bounded_tokens(real_embedder, monkeypatch):
    import embeddings.sentence_transformer as module

    monkeypatch.setattr(module, "MAX_BATCH_TOKENS", 40)
    texts = ["word " * 30] * 5 + ["short text"] * 9  # 32 tokens each (with the two special ones), 4 each
    counts = real_embedder.token_counts(texts)
    batches = real_embedder.length_batches(texts)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(texts)))
    assert all(int(counts[b].sum()) <= 40 for b in batches)
    assert [len(b) for b in batches if counts[b[0]] > 30] == [1] * 5
    assert [len(b) for b in batches if counts[b[0]] < 30] == [9]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_text_gets_the_same_vector_whatever_it_is_batched_with(precision):
    from embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(precision=precision)
    together = embedder.embed_documents(TEXTS)
    apart = np.concatenate([embedder.embed_documents(TEXTS[i : i + 3]) for i in range(0, len(TEXTS), 3)])
    alone = np.stack([embedder.embed_documents([t])[0] for t in TEXTS[:7]])
    # Padded batches moved bf16 vectors by up to 7e-4; without padding only float summation
    # order can differ (bf16 here gave identical bits, fp32 ~1e-8).
    assert np.abs(together - apart).max() <= 1e-6
    assert np.abs(together[:7] - alone).max() <= 1e-6
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_bf16_vectors_stay_close_to_fp32(real_embedder):
    from embeddings import SentenceTransformerEmbedder

    fp32 = real_embedder.embed_documents(TEXTS[:7])
    bf16 = SentenceTransformerEmbedder(precision="bf16").embed_documents(TEXTS[:7])
    assert (fp32 * bf16).sum(axis=1).min() > 0.999


def test_queries_and_documents_share_the_space(real_embedder):
    document = real_embedder.embed_documents([TEXTS[0]])[0]
    assert np.allclose(real_embedder.embed_query(TEXTS[0]), document, atol=1e-5)
    assert real_embedder.embed_documents([]).shape == (0, 384)


def test_precision_is_checked():
    from embeddings import SentenceTransformerEmbedder, resolve_precision
    from qa.errors import InputError

    with pytest.raises(InputError, match="precision must be"):
        resolve_precision("fp8")
    with pytest.raises(InputError, match="int8 is embeddings.OnnxInt8Embedder"):
        SentenceTransformerEmbedder(precision="int8")
    assert resolve_precision("auto") in ("fp32", "bf16")


QUESTIONS = [
    "What is NATO?",
    "How do I make a Python script executable on Unix, with a shebang line at the top of the file?",
    "Why?",
    "Which ministers condemned the launches and what did they call for?",
]


def test_onnx_question_vectors_are_the_torch_ones():
    from embeddings import SentenceTransformerEmbedder
    from embeddings.onnx_runtime import OnnxQueryEncoder

    torch_vectors = SentenceTransformerEmbedder(precision="fp32", query_backend="torch").embed_queries(QUESTIONS)
    encoder = OnnxQueryEncoder()
    together = encoder.encode(QUESTIONS)  # one padded batch: the attention mask must hide padding
    alone = np.stack([encoder.encode([q])[0] for q in QUESTIONS])
    assert together.shape == (len(QUESTIONS), 384) and together.dtype == np.float32
    assert np.abs(together - torch_vectors).max() < 1e-5
    assert np.abs(together - alone).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_questions_go_through_onnx_unless_torch_is_asked_for(real_embedder):
    from embeddings import SentenceTransformerEmbedder
    from qa.errors import InputError

    assert real_embedder.query_encoder is not None
    assert SentenceTransformerEmbedder(query_backend="torch").query_encoder is None
    question = real_embedder.embed_query(QUESTIONS[0])
    assert np.allclose(question, real_embedder.query_encoder.encode([QUESTIONS[0]])[0])
    with pytest.raises(InputError, match="query_backend must be one of"):
        SentenceTransformerEmbedder(query_backend="gpu")


@pytest.fixture(scope="module")
def cls_pooling_model(tmp_path_factory):
    """A sentence-transformers model the ONNX export does not support (CLS pooling)."""
    from sentence_transformers import SentenceTransformer, models

    from embeddings import resolve_model_path

    bundled = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    model = SentenceTransformer(modules=[bundled[0], models.Pooling(384, pooling_mode="cls")], device="cpu")
    target = tmp_path_factory.mktemp("cls-model")
    model.save(str(target))
    return target


def test_a_model_the_export_cannot_take_falls_back_to_torch(cls_pooling_model, tmp_path, monkeypatch, caplog):
    from embeddings import SentenceTransformerEmbedder
    from qa.errors import InputError

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    with caplog.at_level("WARNING"):
        embedder = SentenceTransformerEmbedder(str(cls_pooling_model), precision="fp32")
        vector = embedder.embed_query(QUESTIONS[0])
    assert embedder.query_encoder is None
    assert "encoded with torch" in caplog.text and "mean pooling" in caplog.text
    assert np.allclose(vector, embedder.embed_documents([QUESTIONS[0]])[0], atol=1e-5)
    with pytest.raises(InputError, match="mean pooling"):
        SentenceTransformerEmbedder(str(cls_pooling_model), query_backend="onnx").embed_query(QUESTIONS[0])


def test_an_interrupted_export_is_redone(tmp_path, monkeypatch):
    from embeddings.onnx_runtime import OnnxQueryEncoder, export_dir

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    partial = export_dir()
    partial.mkdir(parents=True)
    (partial / "model-fp32.onnx").write_bytes(b"half a file")  # no export.json: never finished
    vector = OnnxQueryEncoder().encode([QUESTIONS[0]])
    assert (partial / "export.json").exists()
    assert vector.shape == (1, 384)


def test_query_threads_are_checked_and_take_effect_when_the_encoder_reopens(real_embedder):
    from qa import InputError

    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError, match="threads must be a whole number"):
            real_embedder.set_query_threads(bad)
    before = real_embedder.embed_query("Which countries joined the statement?")
    real_embedder.set_query_threads(1)
    try:
        encoder = real_embedder.query_encoder
        assert encoder is not None and encoder._model.threads == 1
        assert np.allclose(real_embedder.embed_query("Which countries joined the statement?"), before, atol=1e-5)
    finally:  # back to ONNX Runtime's default for the rest of the session
        real_embedder._query_threads = None
        real_embedder._query_encoder = None

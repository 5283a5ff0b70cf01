"""Stored document encodings (stage encode): byte-stable files, the same search results, stale ones refused."""

import shutil

import numpy as np
import pytest
from conftest import TINY_DOCUMENT_SIDE

from kosparse.errors import KosparseError
from kosparse.evaluation.encodings import document_side_fingerprint, load_encodings, save_encoding
from kosparse.evaluation.retrieval import SparseRetriever, collection_key, document_matrix, evaluate_retriever
from kosparse.model.sparse_model import build_model


@pytest.fixture(scope="module")
def saved_model(splade_tiny, splade_tiny_idf, tmp_path_factory):
    folder = tmp_path_factory.mktemp("encodings") / "tiny"
    build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE).save(str(folder))
    return folder


def _encode(model_dir, texts, out):
    from kosparse.model.sparse_model import load_encoder

    out.mkdir(parents=True, exist_ok=True)
    matrix = document_matrix(load_encoder(model_dir), texts, 4)
    save_encoding(out / "en.safetensors", matrix, texts, document_side_fingerprint(model_dir))
    return matrix


def test_stored_vectors_round_trip_byte_identically_and_search_like_fresh_ones(saved_model, tiny_data, tmp_path):
    from kosparse.model.sparse_model import load_encoder

    documents, pairs, _ = tiny_data
    texts = [d["text"] for d in documents]
    matrix = _encode(saved_model, texts, tmp_path / "a")
    _encode(saved_model, texts, tmp_path / "b")
    assert (tmp_path / "a/en.safetensors").read_bytes() == (tmp_path / "b/en.safetensors").read_bytes()

    stored = load_encodings(tmp_path / "a", saved_model)
    assert list(stored) == [collection_key(texts)]
    loaded = stored[collection_key(texts)]
    assert np.array_equal(loaded.indptr, matrix.indptr) and np.array_equal(loaded.indices, matrix.indices)
    assert np.array_equal(loaded.data, matrix.data)

    model = load_encoder(saved_model)
    fresh = evaluate_retriever(SparseRetriever("fresh", model, 4), documents, {"test": pairs}, 10)
    from_store = evaluate_retriever(SparseRetriever("stored", model, encoded=stored), documents, {"test": pairs}, 10)
    assert from_store == fresh


def test_an_encoding_of_other_texts_or_another_document_side_is_refused(saved_model, tiny_data, tmp_path):
    from kosparse.model.sparse_model import load_encoder

    documents, pairs, _ = tiny_data
    texts = [d["text"] for d in documents]
    _encode(saved_model, texts[:-1], tmp_path / "enc")  # one document short: a stale collection
    stored = load_encodings(tmp_path / "enc", saved_model)
    retriever = SparseRetriever("stale", load_encoder(saved_model), encoded=stored)
    with pytest.raises(KosparseError, match="no stored encoding of this collection"):
        evaluate_retriever(retriever, documents, {"test": pairs}, 10)

    other = tmp_path / "other"
    shutil.copytree(saved_model, other)
    config = next(other.glob("document_0_*/tokenizer_config.json"))
    config.write_text(config.read_text(encoding="utf-8").replace("{", '{"padding_side": "right", ', 1))
    assert document_side_fingerprint(other) == document_side_fingerprint(saved_model), "a served copy re-saves this"
    weights = next(other.glob("document_0_*/model.safetensors"))
    weights.write_bytes(weights.read_bytes() + b" ")  # any change to the document side's files
    with pytest.raises(KosparseError, match="encoded by another document side"):
        load_encodings(tmp_path / "enc", other)
    with pytest.raises(KosparseError, match="no encoded collections"):
        load_encodings(tmp_path / "empty", saved_model)

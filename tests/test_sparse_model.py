import json

import numpy as np
import pytest
import torch
from conftest import TINY_DOCUMENT_SIDE, TINY_PAIRS, TRAIN_CFG

from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import SparseRetriever, document_matrix, evaluate_retriever, to_csr
from kosparse.model.sparse_model import build_model, drop_section, load_encoder, save_encoder
from kosparse.model.training import (
    CollapseError,
    check_train_config,
    retrieval_evaluator,
    train,
    training_examples,
)


def test_query_side_is_the_idf_table_looked_up_like_opensearch(splade_tiny, splade_tiny_idf):
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    idf = json.loads(splade_tiny_idf.read_text(encoding="utf-8"))
    query = "what is sparse retrieval retrieval"
    vector = model.encode_query([query], convert_to_tensor=True, convert_to_sparse_tensor=False)[0]
    # OpenSearch SPARSE_TOKENIZE: tokenise, decode each id, look the string up in idf.json
    tok = model.tokenizer
    expected = {tok.decode([i]): idf[tok.decode([i])] for i in tok(query, add_special_tokens=False)["input_ids"]}
    got = {tok.decode([i]): float(vector[i]) for i in torch.nonzero(vector).flatten().tolist()}
    assert got == pytest.approx(expected)


def test_document_side_starts_as_bm25_term_weights_of_its_own_tokens(splade_tiny, splade_tiny_idf):
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    text = TINY_PAIRS[0][1]
    vector = model.encode_document([text], convert_to_tensor=True, convert_to_sparse_tensor=False)[0]
    assert vector.shape[0] == len(model.tokenizer)
    own = {i for i in model.tokenizer(text)["input_ids"] if i not in model.tokenizer.all_special_ids}
    own -= {model.tokenizer.convert_tokens_to_ids(".")}  # punctuation never weighs
    assert set(torch.nonzero(vector).flatten().tolist()) == own  # the gate starts closed: no expansion
    assert (vector >= 0).all() and float(vector.max()) < 1.0  # BM25's saturated term frequency


def test_idf_that_does_not_match_the_tokenizer_is_rejected(splade_tiny, splade_tiny_idf, tmp_path):
    idf = json.loads(splade_tiny_idf.read_text(encoding="utf-8"))
    del idf["retrieval"]
    idf["모델"] = 1.0
    bad = tmp_path / "idf.json"
    bad.write_text(json.dumps(idf, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(KosparseError, match=r"idf\.json does not match the tokenizer .*1 tokens have no weight"):
        build_model(splade_tiny, bad, 64, **TINY_DOCUMENT_SIDE)


def test_missing_base_model_is_rejected(tmp_path, splade_tiny_idf):
    with pytest.raises(KosparseError, match="no base model here"):
        build_model(tmp_path / "nowhere", splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)


@pytest.mark.parametrize(
    ("key", "value"), [("batch_size", 0), ("batch_size", -2), ("max_steps", 1.5), ("learning_rate", "2e-5")]
)
def test_bad_train_settings_are_rejected_before_training(key, value):
    with pytest.raises(KosparseError, match=rf"train\.{key} = "):
        check_train_config({**TRAIN_CFG, key: value})


def test_training_steps_change_the_document_side_and_keep_the_best_checkpoint(
    splade_tiny, splade_tiny_idf, tiny_data, tmp_path
):
    documents, pairs, negatives = tiny_data
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    before = model.encode_document([documents[0]["text"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    query_before = model.encode_query([pairs[0]["query"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    dataset = training_examples(pairs, negatives, {d["id"]: d["text"] for d in documents}, 1)
    evaluator = retrieval_evaluator(pairs, documents, "validation", 8)
    summary = train(model, dataset, evaluator, TRAIN_CFG, str(tmp_path), 42, [d["text"] for d in documents[:4]])
    after = model.encode_document([documents[0]["text"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    query_after = model.encode_query([pairs[0]["query"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    assert summary["steps"] == 4
    assert summary["best_checkpoint_step"] in (0, 2, 4)  # step 0 (the anchor alone) is a candidate
    assert summary["step0_validation_ndcg@10"] <= summary["best_validation_ndcg@10"] <= 1.0
    assert torch.allclose(before, after) == (summary["best_checkpoint_step"] == 0)
    assert torch.equal(query_before, query_after), "the IDF query side is frozen"
    assert [s for s, _ in summary["probe_active_dims"]] == [2, 4]

    save_encoder(model, tmp_path / "saved")
    card = (tmp_path / "saved" / "README.md").read_text(encoding="utf-8")
    assert "### Training Logs" in card and "### Framework Versions" in card
    assert "### Training Time" not in card, "wall-clock lines would make equal weights save to different bytes"
    reloaded = load_encoder(tmp_path / "saved")
    reencoded = reloaded.encode_document([documents[0]["text"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    assert torch.equal(reencoded, after)


def test_drop_section_removes_one_heading_and_its_body_only():
    head, versions = "# Card\n### Training Logs\nrows\n", "### Framework Versions\n- torch\n"
    card = head + "### Training Time\n- **Total**: 1.2 minutes\n\n" + versions
    assert drop_section(card, "### Training Time") == head + versions
    assert drop_section(card, "### Absent") == card
    assert drop_section("x\n### Training Time\n- 3 minutes\n", "### Training Time") == "x\n"


def test_collapse_guard_stops_training_when_documents_go_all_zero(splade_tiny, splade_tiny_idf, tiny_data, tmp_path):
    documents, pairs, negatives = tiny_data
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    dataset = training_examples(pairs, negatives, {d["id"]: d["text"] for d in documents}, 1)
    evaluator = retrieval_evaluator(pairs, documents, "validation", 8)
    cfg = {**TRAIN_CFG, "document_regularizer_weight": 1.0e4, "regularizer_warmup_ratio": 0.01,
           "learning_rate": 5.0e-3, "max_steps": 20, "eval_steps": 20, "probe_steps": 1,
           "collapse_min_active_dims": 5.0}  # fmt: skip
    with pytest.raises(CollapseError, match=r"collapsed at step \d+.*Lower train\.document_regularizer_weight"):
        train(model, dataset, evaluator, cfg, str(tmp_path), 42, [d["text"] for d in documents[:4]])


def test_sparse_retriever_through_the_shared_harness(splade_tiny, splade_tiny_idf, tiny_data):
    documents, pairs, _ = tiny_data
    retriever = SparseRetriever("tiny", build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE), 8)
    result = evaluate_retriever(retriever, documents, {"test": pairs}, 100)
    assert result["en"]["test"]["queries"] == len(pairs)
    assert result["en"]["test"]["mrr@10"] > 0.5  # an English SPLADE model on English pairs
    assert retriever.doc_matrices[0].shape == (len(documents), len(retriever.model.tokenizer))
    assert np.all(retriever.doc_matrices[0].data > 0)


def test_no_training_examples_is_an_error(tiny_data):
    documents, pairs, _ = tiny_data
    with pytest.raises(KosparseError, match="no training examples"):
        training_examples(pairs, {}, {d["id"]: d["text"] for d in documents}, 1)


@pytest.mark.slow
def test_unreachable_base_model_id_offline_is_one_clear_error(monkeypatch, splade_tiny):
    from transformers import AutoTokenizer

    from kosparse.model.base_encoder import load_pretrained_mlm

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok = AutoTokenizer.from_pretrained(splade_tiny)
    with pytest.raises(KosparseError, match=r"base.name = 'klue/bert-base': could not load a masked-LM"):
        load_pretrained_mlm("klue/bert-base", tok)


def test_document_matrix_equals_one_encode_call_over_every_text(splade_tiny, splade_tiny_idf, tiny_data):
    documents, _, _ = tiny_data
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    # Full texts, prefixes of equal length (ties in the length order) and a batch size that leaves a remainder.
    texts = [d["text"] for d in documents] + [d["text"][:24] for d in documents] + [d["text"][-30:] for d in documents]
    expected = to_csr(model.encode_document(texts, batch_size=5, convert_to_sparse_tensor=True))
    got = document_matrix(model, texts, 5)
    assert got.shape == expected.shape == (len(texts), len(model.tokenizer))
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data), "vectors must not change with the batching"

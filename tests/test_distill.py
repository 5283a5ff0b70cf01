import pytest
import torch
from conftest import TINY_DOCUMENT_SIDE, TINY_PAIRS, TRAIN_CFG

from kosparse.errors import KosparseError
from kosparse.model.distill import (
    check_distill_config,
    distill_loss,
    sample_triples,
    teacher_labels,
    teacher_scores,
)
from kosparse.model.sparse_model import build_model
from kosparse.model.training import retrieval_evaluator, train, training_examples, training_triples
from kosparse.models import load_sentence_transformer

DISTILL_CFG = {
    "teacher": "google/embeddinggemma-300m", "max_length": 64, "batch_size": 4, "max_triples": 100,
    "loss": "margin_mse", "score_scale": 50.0, "kl_temperature": 5.0,
}  # fmt: skip


@pytest.mark.slow
def test_the_teacher_scores_every_positive_above_its_unrelated_negative(tiny_data):
    documents, pairs, negatives = tiny_data
    triples = training_triples(pairs, negatives, 1)
    teacher = load_sentence_transformer("google/embeddinggemma-300m", "distill.teacher", device="cpu")
    rows = teacher_scores(teacher, triples, {d["id"]: d["text"] for d in documents}, batch_size=3)
    assert [r["query_id"] for r in rows] == sorted(p["query_id"] for p in pairs)
    assert all(len(r["scores"]) == 2 and -1.0 <= min(r["scores"]) <= max(r["scores"]) <= 1.0 for r in rows)
    assert all(r["scores"][0] > r["scores"][1] for r in rows), rows
    again = teacher_scores(teacher, list(reversed(triples)), {d["id"]: d["text"] for d in documents}, batch_size=5)
    assert again == rows, "order and batch size must not change the scores (the stage output is byte-stable)"


def test_labels_are_scaled_teacher_scores_and_only_scored_queries_train(tiny_data):
    documents, pairs, negatives = tiny_data
    scored = {"q0": [0.8, 0.2], "q3": [0.5, 0.4]}
    rows = [{"query_id": q, "negative_ids": negatives[q], "scores": s} for q, s in scored.items()]
    labels = teacher_labels(rows, negatives, 1)
    dataset = training_examples(pairs, negatives, {d["id"]: d["text"] for d in documents}, 1, labels, 10.0)
    (split,) = dataset.values()
    assert split["query"] == [TINY_PAIRS[0][0], TINY_PAIRS[3][0]]
    assert split["label"] == [pytest.approx([8.0, 2.0]), pytest.approx([5.0, 4.0])]


def test_scores_for_other_negatives_than_training_uses_are_rejected(tiny_data):
    _, _, negatives = tiny_data
    stale = [{"query_id": "q0", "negative_ids": ["d5"], "scores": [0.8, 0.2]}]
    with pytest.raises(KosparseError, match=r"q0 cover negatives \['d5'\], but training uses \['d1'\].*stale"):
        teacher_labels(stale, negatives, 1)


def test_the_scored_subset_is_seeded_and_in_query_order(tiny_data):
    _, pairs, negatives = tiny_data
    triples = training_triples(pairs, negatives, 1)
    subset = sample_triples(triples, 3, seed=7)
    assert len(subset) == 3 and subset == sample_triples(triples, 3, seed=7)
    assert [t["query_id"] for t in subset] == sorted(t["query_id"] for t in subset)
    assert sample_triples(triples, 100, seed=7) == sorted(triples, key=lambda t: t["query_id"])


@pytest.mark.parametrize(
    "key, value",
    [("loss", "mse"), ("score_scale", 50), ("score_scale", -1.0), ("kl_temperature", 0.0), ("max_triples", 0)],
)
def test_bad_distill_settings_are_rejected(key, value):
    with pytest.raises(KosparseError, match=rf"distill\.{key} = "):
        check_distill_config({**DISTILL_CFG, key: value})


def test_a_teacher_that_is_not_a_sentence_transformers_folder_is_named_in_the_error(splade_tiny):
    with pytest.raises(KosparseError, match=r"distill\.teacher = .* is not a sentence-transformers folder"):
        load_sentence_transformer(str(splade_tiny), "distill.teacher")


@pytest.mark.parametrize("loss", ["margin_mse", "kl"])
def test_distillation_trains_the_document_side_with_either_loss(
    loss, splade_tiny, splade_tiny_idf, tiny_data, tmp_path
):
    documents, pairs, negatives = tiny_data
    labels = {p["query_id"]: [0.7, 0.1] for p in pairs}
    dataset = training_examples(pairs, negatives, {d["id"]: d["text"] for d in documents}, 1, labels, 50.0)
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    before = model.encode_document([documents[0]["text"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    evaluator = retrieval_evaluator(pairs, documents, "validation", 8)
    cfg = {**DISTILL_CFG, "loss": loss}
    summary = train(
        model, dataset, evaluator, TRAIN_CFG, str(tmp_path), 42, [d["text"] for d in documents[:4]], None,
        distill_loss(model, cfg),
    )  # fmt: skip
    after = model.encode_document([documents[0]["text"]], convert_to_tensor=True, convert_to_sparse_tensor=False)
    assert summary["steps"] == 4
    assert summary["step0_validation_ndcg@10"] <= summary["best_validation_ndcg@10"]
    # step 0 (the BM25 anchor alone) is a candidate: the model changed unless it won
    assert torch.allclose(before, after) == (summary["best_checkpoint_step"] == 0)

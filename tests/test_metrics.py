import math

import pytest

from kosparse.evaluation.metrics import mean_metrics, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_hand_computed():
    # relevant at ranks 2 and 4 of two relevant documents
    ranked = ["x", "a", "y", "b", "z"]
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(ranked, {"a", "b"}, 10) == pytest.approx(expected)
    assert ndcg_at_k(ranked, {"a", "b"}, 3) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a"], {"a"}, 10) == 1.0
    assert ndcg_at_k([], {"a"}, 10) == 0.0


def test_mrr_and_recall_hand_computed():
    ranked = [f"d{i}" for i in range(150)]
    assert mrr_at_k(ranked, {"d3"}, 10) == 0.25
    assert mrr_at_k(ranked, {"d10"}, 10) == 0.0
    assert recall_at_k(ranked, {"d5", "d50"}, 10) == 0.5
    assert recall_at_k(ranked, {"d5", "d50"}, 100) == 1.0
    assert recall_at_k(ranked, {"d5", "d120"}, 100) == 0.5


def test_mean_metrics_averages_over_queries():
    runs = [(["a", "b"], {"a"}), (["b", "a"], {"a"}), (["c"], {"a"})]
    result = mean_metrics(runs)
    assert result["queries"] == 3
    assert result["mrr@10"] == round((1 + 0.5 + 0) / 3, 4)
    assert result["recall@10"] == round(2 / 3, 4)
    assert result["ndcg@10"] == round((1 + 1 / math.log2(3)) / 3, 4)

"""Hybrid fusion as OpenSearch's normalization-processor does it (min_max + weighted arithmetic_mean)."""

import pytest
from conftest import TINY_PAIRS

from kosparse.data.analyzers import whitespace_tokens
from kosparse.evaluation.hybrid import (
    MIN_SCORE,
    CachedRetriever,
    HybridRetriever,
    arithmetic_mean,
    min_max,
    tuned_hybrid,
)
from kosparse.evaluation.retrieval import BM25Retriever


def test_min_max_scales_each_list_and_keeps_its_lowest_hit():
    assert min_max([(0, 10.0), (1, 5.0), (2, 0.0)]) == {0: 1.0, 1: 0.5, 2: MIN_SCORE}
    assert min_max([(4, 3.0), (5, 3.0)]) == {4: 1.0, 5: 1.0}
    assert min_max([]) == {}


def test_a_document_one_run_missed_is_averaged_over_the_runs_that_found_it():
    sparse = [(0, 9.0), (1, 3.0), (2, 1.0)]  # normalised 1.0, 0.25, 0.001
    bm25 = [(1, 20.0), (3, 10.0)]  # normalised 1.0, 0.001
    fused = dict(arithmetic_mean([sparse, bm25], [0.7, 0.3], k=10))
    assert fused[0] == pytest.approx(1.0)  # only the sparse run found it: its own score, its own weight
    assert fused[1] == pytest.approx(0.7 * 0.25 + 0.3 * 1.0)
    assert fused[3] == pytest.approx(MIN_SCORE)
    assert list(dict(arithmetic_mean([sparse, bm25], [0.7, 0.3], k=2))) == [0, 1]


def _char_bigrams(texts):
    return [[t[i : i + 2] for i in range(len(t) - 1)] for t in (x.lower() for x in texts)]


def test_a_cached_retriever_indexes_once_per_collection_and_answers_repeats_from_memory():
    inner = BM25Retriever("ws", whitespace_tokens)
    calls = []
    index = inner.index
    inner.index = lambda texts: (calls.append(len(texts)), index(texts))
    cached = CachedRetriever(inner)
    docs = [d for _, d in TINY_PAIRS]
    cached.index(docs)
    first = cached.search(["capital of france"], 3)
    cached.index(docs)
    assert cached.search(["capital of france"], 3) == first and calls == [len(docs)]


def test_the_hybrid_weight_is_chosen_on_validation_and_reported_on_test():
    documents = [{"id": f"d{i}", "text": d, "source": "en"} for i, (_, d) in enumerate(TINY_PAIRS)]
    pairs = [{"query_id": f"q{i}", "query": q, "positive_ids": [f"d{i}"], "source": "en"}
             for i, (q, _) in enumerate(TINY_PAIRS)]  # fmt: skip
    parts = [
        CachedRetriever(BM25Retriever("ws", whitespace_tokens)),
        CachedRetriever(BM25Retriever("bi", _char_bigrams)),
    ]
    hybrid = HybridRetriever("ws+bi", parts, [0.5, 0.5])
    per_query = {}
    weight, results, by_weight = tuned_hybrid(
        hybrid, documents, {"validation": pairs[:4], "test": pairs[4:]}, 5, [0.2, 0.5, 0.8], per_query=per_query
    )
    assert set(by_weight) == {0.2, 0.5, 0.8} and by_weight[weight] == max(by_weight.values())
    assert hybrid.weights == pytest.approx([weight, 1 - weight])
    assert set(results["en"]) == {"validation", "test"} and set(per_query["en"]["test"]) == {"q4", "q5", "q6", "q7"}

"""Hybrid search as OpenSearch runs it: a BM25 match and a neural_sparse query, min-max normalised, averaged.

OpenSearch's `normalization-processor` (search pipeline) normalises each
sub-query's hits with `min_max` and combines them with a weighted
`arithmetic_mean`; a document missing from one sub-query's hits is left out
of that sub-query's term *and* its weight. The functions here reproduce that
over the harness's top-k lists, so the fused ranking is the one a user's
hybrid query returns (docs/opensearch.md has the pipeline body).
"""

from __future__ import annotations

from collections.abc import Sequence

from kosparse.evaluation.retrieval import Hits, Retriever, collection_key, evaluate_retriever

# OpenSearch's min_max gives the lowest hit this instead of 0, so it still counts as found.
MIN_SCORE = 1.0e-3


def min_max(hits: Hits) -> dict[int, float]:
    """Each hit's score scaled to [MIN_SCORE, 1] within its own list (1.0 when all scores are equal)."""
    if not hits:
        return {}
    scores = [s for _, s in hits]
    low, high = min(scores), max(scores)
    if high == low:
        return {doc: 1.0 for doc, _ in hits}
    return {doc: max((s - low) / (high - low), MIN_SCORE) for doc, s in hits}


def arithmetic_mean(runs: Sequence[Hits], weights: Sequence[float], k: int) -> Hits:
    """Weighted mean of the normalised scores over the runs that found each document; top k."""
    normalised = [min_max(run) for run in runs]
    combined = {}
    for doc in {d for run in normalised for d in run}:
        present = [(w, run[doc]) for w, run in zip(weights, normalised, strict=True) if doc in run]
        total = sum(w for w, _ in present)
        combined[doc] = sum(w * s for w, s in present) / total if total else 0.0
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))[:k]


class CachedRetriever:
    """A retriever that indexes lazily and remembers every search: re-evaluating the same queries is free.

    Lets one encoding of the collection serve the plain evaluation and every
    hybrid weight tried afterwards.
    """

    def __init__(self, inner: Retriever):
        self.inner, self.name = inner, inner.name
        self.results: dict[tuple, list[Hits]] = {}
        self._collection, self._texts, self._indexed = "", [], ""

    def index(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._collection = collection_key(texts)

    def search(self, queries: Sequence[str], k: int) -> list[Hits]:
        key = (self._collection, tuple(queries), k)
        if key not in self.results:
            if self._indexed != self._collection:
                self.inner.index(self._texts)
                self._indexed = self._collection
            self.results[key] = self.inner.search(queries, k)
        return self.results[key]


class HybridRetriever:
    """Several retrievers fused like OpenSearch's normalization-processor (min_max + arithmetic_mean)."""

    def __init__(self, name: str, retrievers: Sequence[CachedRetriever], weights: Sequence[float]):
        self.name, self.retrievers, self.weights = name, list(retrievers), list(weights)

    def index(self, texts: Sequence[str]) -> None:
        for retriever in self.retrievers:
            retriever.index(texts)

    def search(self, queries: Sequence[str], k: int) -> list[Hits]:
        runs = [retriever.search(queries, k) for retriever in self.retrievers]
        return [arithmetic_mean(per_query, self.weights, k) for per_query in zip(*runs, strict=True)]


def tuned_hybrid(
    hybrid: HybridRetriever,
    documents: list[dict],
    pairs_by_split: dict[str, list[dict]],
    top_k: int,
    candidates: Sequence[float],
    text_of=lambda d: d["text"],
    per_query: dict | None = None,
) -> tuple[float, dict, dict[str, float]]:
    """The first retriever's weight (the others share the rest) chosen by mean validation nDCG@10.

    Only validation queries choose; test metrics are reported at the chosen
    weight. Returns (weight, results at that weight, validation nDCG@10 per candidate).
    """
    validation = {"validation": pairs_by_split["validation"]}
    by_weight = {}
    for weight in candidates:
        hybrid.weights = [weight] + [(1 - weight) / (len(hybrid.retrievers) - 1)] * (len(hybrid.retrievers) - 1)
        scores = evaluate_retriever(hybrid, documents, validation, top_k, text_of)
        by_weight[weight] = round(sum(s["validation"]["ndcg@10"] for s in scores.values()) / len(scores), 4)
    best = max(candidates, key=lambda w: (by_weight[w], -abs(w - 0.5)))
    hybrid.weights = [best] + [(1 - best) / (len(hybrid.retrievers) - 1)] * (len(hybrid.retrievers) - 1)
    return best, evaluate_retriever(hybrid, documents, pairs_by_split, top_k, text_of, per_query), by_weight

"""Ranking metrics with binary relevance (the definitions trec_eval / ir-measures use)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def mean_metrics(runs: Iterable[tuple[Sequence[str], set[str]]]) -> dict[str, float | int]:
    """Mean nDCG@10, MRR@10, Recall@10 and Recall@100 over (ranking, relevant set) pairs."""
    totals = {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@10": 0.0, "recall@100": 0.0}
    n = 0
    for ranked, relevant in runs:
        totals["ndcg@10"] += ndcg_at_k(ranked, relevant, 10)
        totals["mrr@10"] += mrr_at_k(ranked, relevant, 10)
        totals["recall@10"] += recall_at_k(ranked, relevant, 10)
        totals["recall@100"] += recall_at_k(ranked, relevant, 100)
        n += 1
    result: dict[str, float | int] = {name: round(value / n, 4) if n else 0.0 for name, value in totals.items()}
    result["queries"] = n
    return result

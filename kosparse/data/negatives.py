"""Hard negatives: BM25 (Kiwi morphemes) top-k per training query, positives excluded."""

from __future__ import annotations

from collections.abc import Callable

from kosparse.evaluation.retrieval import Retriever


def mine_hard_negatives(
    make_retriever: Callable[[], Retriever], documents: list[dict], pairs: list[dict], k: int
) -> list[dict]:
    """For each pair (in input order): up to k top-ranked documents of its own source that are not positives."""
    if k <= 0:
        raise ValueError(f"negatives.k = {k}: must be positive")
    mined: dict[str, list[str]] = {}
    for source in sorted({p["source"] for p in pairs}):
        collection = [d["id"] for d in documents if d["source"] == source]
        texts = {d["id"]: d["text"] for d in documents if d["source"] == source}
        retriever = make_retriever()
        retriever.index([texts[i] for i in collection])
        source_pairs = [p for p in pairs if p["source"] == source]
        longest = max(len(p["positive_ids"]) for p in source_pairs)
        hits = retriever.search([p["query"] for p in source_pairs], k + longest)
        for pair, row in zip(source_pairs, hits, strict=True):
            positives = set(pair["positive_ids"])
            mined[pair["query_id"]] = [collection[i] for i, _ in row if collection[i] not in positives][:k]
    return [{"query_id": p["query_id"], "negative_ids": mined[p["query_id"]]} for p in pairs]

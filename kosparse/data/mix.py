"""Training data for a variant: real pairs plus accepted synthetic pairs at a synthetic : real ratio.

Every generator gives training pairs. doc2query and paraphrase pair a generated
query with a collection document. query2doc and llm_negative pair a real
training query with a generated passage: as its positive (query2doc; the real
positive stays a positive, so it is never mined as a negative) or as its hard
negative (llm_negative). A generated passage is not a collection document: it
travels in its pair's `texts` under a `generated-` id, and the training stage
looks it up there.
"""

from __future__ import annotations

import hashlib
import random

from kosparse.errors import KosparseError

TRAINABLE_KINDS = ("doc2query", "paraphrase", "query2doc", "llm_negative")
GENERATED_TEXT = {"query2doc": "document", "llm_negative": "negative"}  # kind -> field holding its passage


def synthetic_training_pairs(rows: list[dict]) -> list[dict]:
    """Accepted synthetic rows as training pairs, with ids stable under reordering."""
    pairs = []
    for row in rows:
        kind = row["kind"]
        if kind not in TRAINABLE_KINDS:
            continue
        key = f"{kind}\t{row['doc_id']}\t{row['query']}"
        field = GENERATED_TEXT.get(kind)
        passage = row[field] if field else None
        if passage is not None:  # one query may get several passages
            key += f"\t{passage}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        pair = {
            "query_id": f"synthetic-{digest}",
            "query": row["query"],
            "positive_ids": [row["doc_id"]],
            "source": row["source"],
            "synthetic": kind,
        }
        if passage is not None:
            text_id = f"generated-{digest}"
            pair["texts"] = {text_id: passage}
            if kind == "query2doc":
                pair["positive_ids"] = [text_id, row["doc_id"]]  # the first positive is the one trained on
        pairs.append(pair)
    return pairs


def with_generated_negatives(pairs: list[dict], mined: list[dict], k: int) -> list[dict]:
    """Mined negative rows (one per pair, same order) with each llm_negative pair's passage put first."""
    rows = []
    for pair, row in zip(pairs, mined, strict=True):
        if pair["synthetic"] == "llm_negative":
            row = {**row, "negative_ids": [*pair["texts"], *row["negative_ids"]][:k]}
        rows.append(row)
    return rows


def generated_texts(pairs: list[dict], documents: dict[str, str]) -> dict[str, str]:
    """The generated passages the pairs carry, by id; an id that is also a collection document is an error."""
    texts = {}
    for pair in pairs:
        for text_id, text in pair.get("texts", {}).items():
            if text_id in documents:
                raise KosparseError(
                    f"pair {pair['query_id']}: generated text id {text_id!r} is also a collection document id"
                )
            texts[text_id] = text
    return texts


def from_sources(pairs: list[dict], sources: list[str] | None, what: str) -> list[dict]:
    """The pairs of the named collections (all of them when `sources` is None)."""
    if sources is None:
        return pairs
    known = {p["source"] for p in pairs}
    if unknown := sorted(set(sources) - known):
        raise KosparseError(f"{what} names {unknown}: no such source among the pairs (have {sorted(known)})")
    return [p for p in pairs if p["source"] in sources]


def mix_pairs(real: list[dict], synthetic: list[dict], ratio: float, seed: int) -> tuple[list[dict], int]:
    """Real pairs then round(ratio × len(real)) synthetic ones (all there are, if fewer); a seeded choice."""
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or ratio < 0:
        raise KosparseError(f"synthetic_ratio = {ratio!r}: must be a number ≥ 0 (0 reproduces v1's data)")
    wanted = round(ratio * len(real))
    chosen = sorted(synthetic, key=lambda p: p["query_id"])
    random.Random(seed).shuffle(chosen)
    return real + chosen[:wanted], wanted

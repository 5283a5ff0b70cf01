"""Training data for a variant: real pairs plus accepted synthetic pairs at a synthetic : real ratio.

Only synthetic pairs whose positive is a collection document (doc2query,
paraphrase) become training pairs; query2doc passages and LLM negatives are
generated text that the training stage cannot yet look up by document id.
"""

from __future__ import annotations

import hashlib
import random

from kosparse.errors import KosparseError

TRAINABLE_KINDS = ("doc2query", "paraphrase")


def synthetic_training_pairs(rows: list[dict]) -> list[dict]:
    """Accepted synthetic rows as training pairs, with ids stable under reordering."""
    pairs = []
    for row in rows:
        if row["kind"] not in TRAINABLE_KINDS:
            continue
        digest = hashlib.sha1(f"{row['kind']}\t{row['doc_id']}\t{row['query']}".encode()).hexdigest()[:16]
        pairs.append({
            "query_id": f"synthetic-{digest}",
            "query": row["query"],
            "positive_ids": [row["doc_id"]],
            "source": row["source"],
            "synthetic": row["kind"],
        })  # fmt: skip
    return pairs


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

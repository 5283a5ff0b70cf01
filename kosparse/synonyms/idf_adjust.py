"""Adjustments of the one idf.json: shared IDF per synonym group, bounded trend boosts.

Both are pure functions from an idf table (decoded token → idf, as the idf
stage writes it) to a new table with the same keys. The query_idf stage
applies them to a trained variant's query side (v1 with the base dictionary,
v2 with the enhanced one): the document encoder is untouched, so a new
dictionary or a new day's trends re-weights queries without retraining, and
evaluation and export both read the adjusted table.

Only terms that are one vocabulary token change: a multi-token term's pieces
(`##러닝`) are shared with other words, and changing them would move those too.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

from kosparse.errors import KosparseError

RULES = {"max": max, "mean": statistics.fmean, "min": min}


def term_keys(tok, term: str) -> list[str]:
    """The idf.json keys (decoded tokens) a term tokenises into, without special tokens."""
    ids = tok(term, add_special_tokens=False)["input_ids"]
    return [tok.decode([i]) for i in ids]


def single_keys(tok, terms: Iterable[str], idf: dict[str, float]) -> dict[str, str]:
    """term → its key, for the terms that are exactly one token present in `idf`."""
    found = {}
    for term in terms:
        keys = term_keys(tok, term)
        if len(keys) == 1 and keys[0] in idf:
            found[term] = keys[0]
    return found


def shared_idf(idf: dict[str, float], groups: Sequence[Sequence[str]], tok, rule: str) -> tuple[dict, dict]:
    """Every single-token term of a group gets one IDF: `rule` (max, mean, min) of their IDFs.

    A key in two groups keeps the value of the group processed last in sorted
    order (deterministic; the stats count such keys).
    """
    if rule not in RULES:
        raise KosparseError(f"synonyms.shared_idf = {rule!r}: choose one of {', '.join(RULES)}")
    table = dict(idf)
    changed, applied, seen, conflicts = 0, 0, set(), 0
    for group in sorted(sorted(g) for g in groups):
        keys = sorted(set(single_keys(tok, group, idf).values()))
        if len(keys) < 2:
            continue
        value = round(RULES[rule]([idf[k] for k in keys]), 6)
        applied += 1
        for key in keys:
            conflicts += key in seen
            seen.add(key)
            changed += table[key] != value
            table[key] = value
    return table, {"groups_applied": applied, "keys_changed": changed, "keys_in_two_groups": conflicts}


def apply_boosts(idf: dict[str, float], boosts: dict[str, float], tok, max_boost: float) -> tuple[dict, dict]:
    """Multiply the IDF of each single-token trend term by its boost, clipped to [1, max_boost]."""
    table = dict(idf)
    keys = single_keys(tok, sorted(boosts), idf)
    for term, key in sorted(keys.items()):
        table[key] = round(idf[key] * min(max_boost, max(1.0, boosts[term])), 6)
    return table, {"terms": len(boosts), "boosted_keys": len(set(keys.values()))}


def query_idf(
    idf: dict[str, float],
    groups: Sequence[Sequence[str]],
    trend_terms: Sequence[dict],
    tok,
    rule: str,
    max_boost: float,
) -> tuple[dict, dict]:
    """Shared IDF per synonym group first, then trend boosts on top (only a trend term's own key is boosted)."""
    shared, shared_stats = shared_idf(idf, groups, tok, rule)
    boosted, boost_stats = apply_boosts(shared, {t["term"]: t["boost"] for t in trend_terms}, tok, max_boost)
    changed = sum(boosted[k] != idf[k] for k in idf)
    return boosted, {"shared_idf": shared_stats, "trend_boosts": boost_stats, "keys_changed": changed}


def set_query_idf(model, idf: dict[str, float], idf_path: str = "idf.json") -> None:
    """Give a trained SparseEncoder's query side these IDF weights; the document side is untouched."""
    import torch
    from sentence_transformers.sparse_encoder.modules import SparseStaticEmbedding

    from kosparse.model.sparse_model import idf_weights

    static = model[0].sub_modules["query"][0]
    if not isinstance(static, SparseStaticEmbedding):
        raise KosparseError(f"expected a SparseStaticEmbedding query side, found {type(static).__name__}")
    static.weight = torch.nn.Parameter(idf_weights(static.tokenizer, idf, idf_path), requires_grad=False)

"""Measuring a synonym dictionary against the gold lexicons (never a source for building one)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from kosparse.synonyms.lexicons import normalize_ko, pair_is_correct


def precision(pairs: Sequence[dict], gold: dict[str, list[str]]) -> dict:
    """Precision on the pairs whose Korean side gold covers, overall and per source."""

    def score(subset: Sequence[dict]) -> dict:
        verdicts = [v for v in (pair_is_correct(p["ko"], p["en"], gold) for p in subset) if v is not None]
        correct = sum(verdicts)
        return {
            "pairs": len(subset),
            "gold_covered": len(verdicts),
            "correct": correct,
            "precision": round(correct / len(verdicts), 4) if verdicts else None,
        }

    sources = sorted({s for p in pairs for s in p["sources"]})
    return {**score(pairs), "per_source": {s: score([p for p in pairs if s in p["sources"]]) for s in sources}}


def recall(pairs: Sequence[dict], gold: dict[str, list[str]], corpus: str) -> dict:
    """Share of gold (ko, en) pairs the dictionary holds; also over the gold pairs whose Korean occurs in `corpus`."""
    by_ko: dict[str, list[str]] = {}
    for p in pairs:
        by_ko.setdefault(normalize_ko(p["ko"]), []).append(p["en"])
    gold_pairs = sorted((ko, en) for ko, ens in gold.items() for en in ens)
    found = [
        (ko, en) for ko, en in gold_pairs if any(pair_is_correct(ko, mine, {ko: [en]}) for mine in by_ko.get(ko, []))
    ]
    in_corpus = [(ko, en) for ko, en in gold_pairs if ko in corpus]
    found_in_corpus = [p for p in found if p[0] in corpus]
    return {
        "gold_pairs": len(gold_pairs),
        "found": len(found),
        "recall": round(len(found) / len(gold_pairs), 4) if gold_pairs else None,
        "gold_pairs_in_corpus": len(in_corpus),
        "found_in_corpus": len(found_in_corpus),
        "recall_in_corpus": round(len(found_in_corpus) / len(in_corpus), 4) if in_corpus else None,
    }


def samples(pairs: Sequence[dict], n: int, seed: int) -> list[dict]:
    chosen = random.Random(seed).sample(list(pairs), min(n, len(pairs)))
    return [
        {"ko": p["ko"], "en": p["en"], "sources": sorted(p["sources"]), "similarity": p["similarity"]}
        for p in sorted(chosen, key=lambda p: (p["ko"], p["en"]))
    ]

"""Pruning at ingest as OpenSearch's sparse_encoding processor does it, and its effect on retrieval."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import SparseRetriever, evaluate_retriever
from kosparse.export.loading import Variant

# The prune types of OpenSearch's sparse_encoding processor and two-phase processor.
PRUNE_TYPES = ("none", "max_ratio", "top_k", "alpha_mass", "abs_value")


def check_prune(setting: dict) -> tuple[str, float]:
    """(prune_type, prune_ratio) with OpenSearch's validity rules."""
    prune_type, ratio = setting.get("type"), setting.get("ratio", 0.0)
    if prune_type not in PRUNE_TYPES:
        raise KosparseError(f"export prune type {prune_type!r}: expected one of {', '.join(PRUNE_TYPES)}")
    valid = {
        "none": True,
        "max_ratio": isinstance(ratio, float) and 0 <= ratio < 1,
        "alpha_mass": isinstance(ratio, float) and 0 <= ratio < 1,
        "top_k": isinstance(ratio, int) and ratio > 0,
        "abs_value": isinstance(ratio, float) and ratio >= 0,
    }[prune_type]
    if not valid:
        rule = {"top_k": "a positive integer", "abs_value": "a float ≥ 0"}.get(prune_type, "a float in [0, 1)")
        raise KosparseError(f"export prune {prune_type} ratio = {ratio!r}: expected {rule}")
    return prune_type, float(ratio)


def prune_label(setting: dict) -> str:
    prune_type, ratio = check_prune(setting)
    if prune_type == "none":
        return "none"
    return f"{prune_type} {int(ratio)}" if prune_type == "top_k" else f"{prune_type} {ratio:g}"


def prune_rows(matrix: sparse.csr_matrix, setting: dict) -> sparse.csr_matrix:
    """Each row pruned like org.opensearch.neuralsearch.util.prune.PruneUtils (weights are all positive)."""
    prune_type, ratio = check_prune(setting)
    if prune_type == "none":
        return matrix.copy()
    matrix = matrix.tocsr()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = matrix.data[start:end]
        if not len(values):
            continue
        if prune_type == "max_ratio":
            kept = values >= ratio * values.max()
        elif prune_type == "abs_value":
            kept = values >= ratio
        else:
            order = np.argsort(-values, kind="stable")
            if prune_type == "top_k":
                top = order[: int(ratio)]
            else:  # alpha_mass: the heaviest tokens while their running sum stays within ratio × total
                top = order[np.cumsum(values[order]) <= ratio * values.sum()]
            kept = np.zeros(len(values), dtype=bool)
            kept[top] = True
        keep[start:end] = kept
    pruned = matrix.copy()
    pruned.data = np.where(keep, pruned.data, 0.0)
    pruned.eliminate_zeros()
    return pruned


def without_special_tokens(matrix: sparse.csr_matrix, special_ids: Sequence[int]) -> sparse.csr_matrix:
    """Document vectors as OpenSearch stores them: special tokens decode to "" and are dropped."""
    keep = np.ones(matrix.shape[1])
    keep[list(special_ids)] = 0.0
    kept = (matrix @ sparse.diags(keep)).tocsr()
    kept.eliminate_zeros()
    return kept


def pruning_table(
    variant: Variant,
    documents: list[dict],
    pairs_by_split: dict[str, list[dict]],
    settings: Sequence[dict],
    top_k: int,
    encoded: dict[str, sparse.csr_matrix],
    text_of: Callable[[dict], str],
) -> list[dict]:
    """nDCG@10 per dataset and split, and mean document active dims, for each prune setting.

    Every setting prunes the same stored vectors (`encoded`: stage encode's
    collections, `encodings.load_encodings`).
    """
    served = {key: without_special_tokens(matrix, variant.special_ids) for key, matrix in encoded.items()}
    rows = []
    for setting in settings:
        pruned = {key: prune_rows(matrix, setting) for key, matrix in served.items()}
        label = prune_label(setting)
        results = evaluate_retriever(
            SparseRetriever(label, variant.encoder, encoded=pruned), documents, pairs_by_split, top_k, text_of
        )
        active = np.concatenate([matrix.getnnz(axis=1) for matrix in pruned.values()])
        rows.append(
            {
                "prune": label,
                "doc_active_dims_mean": round(float(active.mean()), 2),
                "ndcg@10": {f"{d}/{s}": m["ndcg@10"] for d, splits in results.items() for s, m in splits.items()},
            }
        )
    return rows

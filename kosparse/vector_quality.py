"""Sparsity and Korean vector-quality statistics of encoded documents and queries."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

WORD = re.compile(r"^(?:[\uac00-\ud7a3]+|[a-z]+)$")


def sparsity(docs: sparse.csr_matrix, queries: sparse.csr_matrix) -> dict:
    """Active dimensions, FLOPS and all-zero documents.

    FLOPS is the expected number of multiplications per query–document pair,
    sum_j P(query has j) · P(document has j), as in the SPLADE papers.
    """
    doc_dims = np.diff(docs.indptr)
    query_dims = np.diff(queries.indptr)
    p_doc = np.bincount(docs.indices, minlength=docs.shape[1]) / docs.shape[0]
    p_query = np.bincount(queries.indices, minlength=queries.shape[1]) / queries.shape[0]
    return {
        "doc_active_dims_mean": round(float(doc_dims.mean()), 2),
        "doc_active_dims_p50": float(np.percentile(doc_dims, 50)),
        "doc_active_dims_p99": float(np.percentile(doc_dims, 99)),
        "query_active_dims_mean": round(float(query_dims.mean()), 2),
        "flops": round(float(p_doc @ p_query), 4),
        "all_zero_documents": int((doc_dims == 0).sum()),
    }


def token_classes(keys: Sequence[str], kiwi) -> tuple[np.ndarray, np.ndarray]:
    """Per token id: is it a particle/ending (all morphemes J*/E*), is it a Hangul or Latin word."""
    texts = [key[2:] if key.startswith("##") and len(key) > 2 else key for key in keys]
    functional = np.zeros(len(texts), dtype=bool)
    word = np.array([bool(WORD.match(t)) for t in texts])
    candidates = [i for i, t in enumerate(texts) if t and re.match(r"^[\uac00-\ud7a3]+$", t)]
    for i, tokens in zip(candidates, kiwi.tokenize([texts[i] for i in candidates]), strict=True):
        functional[i] = bool(tokens) and all(t.tag[0] in "JE" for t in tokens)
    return functional, word & ~functional


def korean_quality(docs: sparse.csr_matrix, keys: Sequence[str], kiwi, top_n: int = 20) -> dict:
    """Share of total document weight on particles/endings and on word tokens; the heaviest tokens."""
    functional, word = token_classes(keys, kiwi)
    weight = np.asarray(docs.sum(axis=0)).ravel()
    total = float(weight.sum()) or 1.0
    heaviest = np.argsort(-weight, kind="stable")[:top_n]
    return {
        "particle_ending_weight_share": round(float(weight[functional].sum()) / total, 4),
        "word_weight_share": round(float(weight[word].sum()) / total, 4),
        "heaviest_tokens": [
            {
                "token": keys[i],
                "weight_share": round(float(weight[i]) / total, 5),
                "particle_or_ending": bool(functional[i]),
            }
            for i in heaviest
        ],
    }

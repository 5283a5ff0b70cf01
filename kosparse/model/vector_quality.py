"""Sparsity and Korean vector-quality statistics of encoded documents and queries."""

from __future__ import annotations

import copy
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


def functional_tokens(tok, kiwi, texts: Sequence[str]) -> np.ndarray:
    """Per token id: is it mostly a particle or ending where it occurs in `texts`.

    A word piece such as "##을" cannot be tagged out of context, so each
    occurrence is tagged by the Kiwi morphemes it covers: it counts as
    functional when every morpheme under it is J* (particle) or E* (ending).
    A token is functional when most of its occurrences are.
    """
    backend = copy.deepcopy(tok.backend_tokenizer)
    backend.no_truncation()
    occurrences = np.zeros(len(tok), dtype=np.int64)
    functional = np.zeros(len(tok), dtype=np.int64)
    encodings = backend.encode_batch(list(texts), add_special_tokens=False)
    for text, encoding, morphemes in zip(texts, encodings, kiwi.tokenize(list(texts)), strict=True):
        flags = np.full(len(text), -1, dtype=np.int8)  # -1 no morpheme, 0 content, 1 particle/ending
        for m in morphemes:
            flags[m.start : m.start + m.len] = 1 if m.tag[0] in "JE" else 0
        for token_id, (start, end) in zip(encoding.ids, encoding.offsets, strict=True):
            covered = flags[start:end]
            covered = covered[covered >= 0]
            occurrences[token_id] += 1
            functional[token_id] += bool(covered.size) and bool(covered.all())
    return functional * 2 > occurrences


def token_classes(keys: Sequence[str], functional: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per token id: particle/ending, and Hangul-or-Latin word (not particle/ending)."""
    texts = [key[2:] if key.startswith("##") and len(key) > 2 else key for key in keys]
    word = np.array([bool(WORD.match(t)) for t in texts])
    return functional, word & ~functional


def korean_quality(docs: sparse.csr_matrix, keys: Sequence[str], functional: np.ndarray, top_n: int = 20) -> dict:
    """Share of total document weight on particles/endings and on word tokens; the heaviest tokens."""
    functional, word = token_classes(keys, functional)
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

"""Inverse document frequency per vocabulary token, keyed as OpenSearch looks it up."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import numpy as np
from tqdm import tqdm
from transformers import PreTrainedTokenizerFast


def document_frequencies(tok: PreTrainedTokenizerFast, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """Number of documents containing each token id (whole documents, no truncation).

    Uses the Rust tokenizer's batch encoder (multi-threaded) and counts unique
    (document, token) pairs with numpy instead of a Python loop per token.
    """
    backend = copy.deepcopy(tok.backend_tokenizer)
    backend.no_truncation()
    backend.no_padding()
    vocab_size = backend.get_vocab_size(with_added_tokens=True)
    df = np.zeros(vocab_size, dtype=np.int64)
    for start in tqdm(range(0, len(texts), batch_size), desc="document frequencies", unit="batch"):
        encodings = backend.encode_batch(list(texts[start : start + batch_size]), add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(encodings), dtype=np.int64), lengths)
        unique_pairs = np.unique(rows * vocab_size + ids)
        df += np.bincount(unique_pairs % vocab_size, minlength=vocab_size)
    return df


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5)).

    The BM25 (Lucene) form OpenSearch's inference-free recipe uses: always
    positive, and a token never seen gets the largest weight, ln(1 + 2N + 1).
    """
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


def decoded_keys(tok: PreTrainedTokenizerFast, ids: Iterable[int]) -> dict[int, str]:
    """The string OpenSearch's SPARSE_TOKENIZE looks up for each id: decode([id])."""
    backend = tok.backend_tokenizer
    return {i: backend.decode([i], skip_special_tokens=False) for i in ids}


def idf_table(tok: PreTrainedTokenizerFast, idf: np.ndarray) -> tuple[dict[str, float], list[dict]]:
    """Map decoded token → idf for every non-special token.

    When two ids decode to the same string, OpenSearch can only hold one weight
    for it: the lowest id keeps the key (deterministic), the others are
    reported as collisions.
    """
    special = set(tok.all_special_ids)
    keys = decoded_keys(tok, (i for i in range(len(idf)) if i not in special))
    table: dict[str, float] = {}
    owner: dict[str, int] = {}
    collisions = []
    for token_id in sorted(keys):
        key = keys[token_id]
        if key in owner:
            collisions.append({"key": key, "kept_id": owner[key], "dropped_id": token_id})
            continue
        owner[key] = token_id
        table[key] = round(float(idf[token_id]), 6)
    return table, collisions

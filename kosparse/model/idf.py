"""Inverse document frequency per vocabulary token, keyed as OpenSearch looks it up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from tqdm import tqdm
from transformers import PreTrainedTokenizerFast

from kosparse.model.tokenizer import document_token_ids, weighable_token_ids


def document_frequencies(tok: PreTrainedTokenizerFast, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """Number of documents containing each token id, within the encoder's window (`document_token_ids`)."""
    vocab_size = tok.backend_tokenizer.get_vocab_size(with_added_tokens=True)
    df = np.zeros(vocab_size, dtype=np.int64)
    ids = tqdm(document_token_ids(tok, texts, batch_size), total=len(texts), desc="document frequencies", unit="doc")
    for doc_ids in ids:
        df[np.unique(np.asarray(doc_ids, dtype=np.int64))] += 1
    return df


def document_stats(tok: PreTrainedTokenizerFast, texts: Sequence[str], kiwi, batch_size: int = 1024) -> dict:
    """What the document side counts: its window, the tokens it never weighs, and BM25's avgdl.

    Besides special tokens and punctuation, a document never weighs tokens that
    are mostly particles or endings in the corpus (`functional_tokens`, the
    same test that measures a model's Korean quality): like Kiwi BM25, the
    floor and the anchored encoder score content. `avgdl` is the mean number
    of weighable tokens per document within the window.
    """
    from kosparse.model.vector_quality import functional_tokens

    functional = [int(i) for i in np.flatnonzero(functional_tokens(tok, kiwi, texts))]
    weighable = frozenset(weighable_token_ids(tok, functional))
    window = tok.backend_tokenizer.truncation["max_length"]
    body = window - tok.backend_tokenizer.num_special_tokens_to_add(False)
    total, truncated = 0, 0
    for ids in document_token_ids(tok, texts, batch_size):
        total += sum(i in weighable for i in ids)
        truncated += len(ids) >= body
    return {
        "window": window,
        "documents": len(texts),
        "avgdl": total / max(1, len(texts)),
        "truncated": truncated,
        "functional_token_ids": functional,
    }


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

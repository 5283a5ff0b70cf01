"""Retrievers share one small interface so BM25 and the sparse models meet the same harness."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

import bm25s
import numpy as np
from scipy import sparse
from tqdm.auto import tqdm

from kosparse.errors import KosparseError
from kosparse.evaluation.metrics import mean_metrics, ndcg_at_k

Hits = list[tuple[int, float]]


class Retriever(Protocol):
    name: str

    def index(self, texts: Sequence[str]) -> None: ...

    def search(self, queries: Sequence[str], k: int) -> list[Hits]: ...


class BM25Retriever:
    """bm25s over the tokens an analyzer gives (whitespace words, Kiwi morphemes, …)."""

    def __init__(
        self,
        name: str,
        analyzer: Callable[[Sequence[str]], list[list[str]]],
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        query_analyzer: Callable[[Sequence[str]], list[list[str]]] | None = None,
    ):
        self.name = name
        self.analyzer = analyzer
        self.query_analyzer = query_analyzer or analyzer
        self.model = bm25s.BM25(k1=k1, b=b, method=method)

    def index(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self.model.index(self.analyzer(texts), show_progress=False)

    def search(self, queries: Sequence[str], k: int) -> list[Hits]:
        k = min(k, self.size)
        docs, scores = self.model.retrieve(self.query_analyzer(queries), k=k, show_progress=False)
        # A zero score means no query token matched: not a retrieved document.
        return [
            [(int(d), float(s)) for d, s in zip(row_d, row_s, strict=True) if s > 0]
            for row_d, row_s in zip(docs, scores, strict=True)
        ]


def evaluate_retriever(
    retriever: Retriever,
    documents: list[dict],
    pairs_by_split: dict[str, list[dict]],
    top_k: int,
    text_of: Callable[[dict], str] = lambda d: d["text"],
    per_query: dict | None = None,
) -> dict:
    """Metrics per dataset (source) and split; each dataset is searched against its own collection.

    With `per_query` (a dict) it also receives {dataset: {split: {query_id: nDCG@10}}}: what a paired
    significance test between two retrievers needs.
    """
    results: dict[str, dict] = {}
    datasets = sorted({p["source"] for pairs in pairs_by_split.values() for p in pairs})
    for dataset in datasets:
        collection = [d for d in documents if d["source"] == dataset]
        doc_ids = [d["id"] for d in collection]
        retriever.index([text_of(d) for d in collection])
        for split, pairs in pairs_by_split.items():
            pairs = [p for p in pairs if p["source"] == dataset]
            if not pairs:
                continue
            hits = retriever.search([p["query"] for p in pairs], top_k)
            runs = [([doc_ids[i] for i, _ in row], set(p["positive_ids"])) for row, p in zip(hits, pairs, strict=True)]
            results.setdefault(dataset, {})[split] = mean_metrics(runs)
            if per_query is not None:
                per_query.setdefault(dataset, {})[split] = {
                    p["query_id"]: round(ndcg_at_k(ranked, relevant, 10), 6)
                    for p, (ranked, relevant) in zip(pairs, runs, strict=True)
                }
    return results


def ranked_ids(
    retriever: Retriever, documents: list[dict], queries: list[dict], k: int, text_of: Callable[[dict], str]
) -> list[list[str]]:
    """Each query's top-k document ids, `documents` being one collection."""
    retriever.index([text_of(d) for d in documents])
    return [[documents[i]["id"] for i, _ in row] for row in retriever.search([q["query"] for q in queries], k)]


def collection_key(texts: Sequence[str]) -> str:
    """One collection's texts, in order, as a digest: the key of its stored encoding."""
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()


def document_text(index_title: bool) -> Callable[[dict], str]:
    """What the index holds of a document (`evaluate.index_title`): every stage that searches uses the same."""
    return (lambda d: f"{d['title']} {d['text']}") if index_title else (lambda d: d["text"])


def to_csr(tensor) -> sparse.csr_matrix:
    """A torch sparse COO batch (rows × vocabulary) as a scipy CSR matrix."""
    tensor = tensor.coalesce()
    rows, cols = tensor.indices().cpu().numpy()  # encoder output stays on its device (a GPU): copy it here
    return sparse.csr_matrix((tensor.values().float().cpu().numpy(), (rows, cols)), shape=tuple(tensor.shape))


def document_matrix(model, texts: Sequence[str], batch_size: int) -> sparse.csr_matrix:
    """A SparseEncoder's document vectors as one CSR matrix (rows in `texts` order), encoded a batch per call.

    One `encode_document` call over every text keeps a torch sparse tensor per
    document and stacks them: 13 GB for the 8k distilled documents (≈ 18k
    non-zeros each). Batches follow the length order sentence-transformers
    itself uses (longest first), so padding and vectors stay the same.
    """
    order = np.argsort([-len(t) for t in texts])
    parts = [
        to_csr(
            model.encode_document(
                [texts[i] for i in order[start : start + batch_size]],
                batch_size=batch_size,
                convert_to_sparse_tensor=True,
                show_progress_bar=False,
            )
        )
        for start in tqdm(range(0, len(texts), batch_size), desc="documents", unit="batch")
    ]
    return sparse.vstack(parts, format="csr")[np.argsort(order)]


class SparseRetriever:
    """A SparseEncoder's documents and queries as sparse vectors, scored by dot product.

    Each collection is encoded once: `encoded` maps a collection's key
    (`collection_key`) to its document matrix. Given a stage
    `encode` output it is read only, and a collection missing from it is an
    error (the stored vectors are what the stage must score); without it the
    retriever encodes and remembers. `expand` (matrix, texts → matrix) edits
    the vectors after lookup (document-side synonym expansion). Every matrix
    used is kept (`doc_matrices`, `query_matrices`), so sparsity and
    vector-quality statistics come from the same vectors as the metrics.
    """

    def __init__(self, name: str, model, batch_size: int = 32, encoded: dict | None = None, expand=None):
        self.name, self.model, self.batch_size, self.expand = name, model, batch_size, expand
        self.stored = encoded is not None
        self.encoded = encoded if encoded is not None else {}
        self.doc_matrices: list[sparse.csr_matrix] = []
        self.query_matrices: list[sparse.csr_matrix] = []

    def index(self, texts: Sequence[str]) -> None:
        key = collection_key(texts)
        if key not in self.encoded:
            if self.stored:
                raise KosparseError(
                    f"{self.name}: no stored encoding of this collection ({len(texts)} documents, "
                    f"first {texts[0][:40]!r}); re-run the encode stage with the same collection and settings"
                )
            self.encoded[key] = document_matrix(self.model, texts, self.batch_size)
        self.docs = self.expand(self.encoded[key], texts) if self.expand else self.encoded[key]
        self.doc_matrices.append(self.docs)

    def search(self, queries: Sequence[str], k: int) -> list[Hits]:
        encoded = to_csr(self.model.encode_query(list(queries), batch_size=256, convert_to_sparse_tensor=True))
        self.query_matrices.append(encoded)
        scores = (encoded @ self.docs.T).toarray()
        return [top_k_hits(row, k) for row in scores]


def top_k_hits(scores: np.ndarray, k: int) -> Hits:
    """Highest positive scores, ties broken by lower document index."""
    k = min(k, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k]
    order = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in order if scores[i] > 0]

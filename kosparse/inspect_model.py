"""Look inside a trained variant: heaviest tokens of a vector, and which tokens make a document match a query."""

from __future__ import annotations

from collections.abc import Sequence

from scipy import sparse

from kosparse.evaluation.retrieval import Hits, top_k_hits


def heaviest(row: sparse.csr_matrix, keys: Sequence[str], k: int) -> list[tuple[str, float]]:
    """The k largest weights of a 1 × vocabulary row, as (token, weight), heaviest first."""
    row = row.tocsr()
    order = sorted(range(row.nnz), key=lambda j: (-row.data[j], row.indices[j]))[:k]
    return [(keys[row.indices[j]], float(row.data[j])) for j in order]


def matched_tokens(
    query: sparse.csr_matrix, document: sparse.csr_matrix, keys: Sequence[str], k: int
) -> list[tuple[str, float, float, float]]:
    """Tokens both vectors weigh, as (token, query weight, document weight, contribution to the dot product)."""
    products = query.multiply(document).tocsr()
    q, d = query.toarray()[0], document.toarray()[0]
    order = sorted(range(products.nnz), key=lambda j: (-products.data[j], products.indices[j]))[:k]
    return [(keys[i], float(q[i]), float(d[i]), float(products.data[j])) for j in order for i in [products.indices[j]]]


def search(query: sparse.csr_matrix, documents: sparse.csr_matrix, k: int) -> Hits:
    """Top-k documents by dot product (positive scores only)."""
    return top_k_hits((query @ documents.T).toarray()[0], k)

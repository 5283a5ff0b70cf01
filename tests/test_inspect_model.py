import numpy as np
import pytest
from scipy import sparse

from kosparse.inspect_model import heaviest, matched_tokens, search

KEYS = ["[CLS]", "세종", "문자", "##을", "만든", "."]


def row(*weights: float) -> sparse.csr_matrix:
    return sparse.csr_matrix(np.array([weights], dtype=np.float32))


def test_heaviest_tokens_come_first_with_their_weights():
    assert heaviest(row(0.0, 2.5, 0.5, 3.0, 0.0, 1.0), KEYS, 3) == [("##을", 3.0), ("세종", 2.5), (".", 1.0)]


def test_matched_tokens_show_each_contribution_to_the_score():
    query, document = row(0.0, 7.0, 5.0, 0.0, 4.0, 0.0), row(1.0, 0.5, 0.0, 2.0, 1.5, 1.0)
    matches = matched_tokens(query, document, KEYS, 10)
    assert [(t, q, d) for t, q, d, _ in matches] == [("만든", 4.0, 1.5), ("세종", 7.0, 0.5)]
    assert sum(c for *_, c in matches) == pytest.approx(float((query @ document.T).toarray()[0, 0]))


def test_search_ranks_by_dot_product_and_drops_documents_that_share_no_token():
    documents = sparse.vstack([row(0, 0, 1, 0, 0, 0), row(0, 2, 0, 0, 0, 0), row(0, 0, 0, 0, 0, 9)]).tocsr()
    assert search(row(0, 1, 1, 0, 0, 0), documents, 3) == [(1, 2.0), (0, 1.0)]

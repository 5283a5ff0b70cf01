"""Mixed Korean–English queries and document-side synonym expansion.

OpenSearch's inference-free query side can only tokenise, so a query cannot
expand itself: the dictionary acts on documents. A document gains, for every
dictionary term in its text, that term's counterparts in the other language
(BM25: appended words; sparse vectors: the counterpart tokens at α × the
term's weight).

The code-switched test set swaps one term of a real test query for its
translation from the gold lexicons (an evaluation set, so gold is allowed
here): a Korean noun with a gold English translation that also occurs in the
positive document becomes English, or an English word with a gold Korean
translation becomes Korean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from kosparse.idf_adjust import term_keys
from kosparse.retrieval import document_matrix, to_csr, top_k_hits

NOUN_TAGS = frozenset({"NNG", "NNP"})


# ---------------------------------------------------------------- test set


def codeswitch_queries(
    pairs: Sequence[dict], positives: dict[str, str], kiwi, ko_en: dict[str, list[str]], en_ko: dict[str, list[str]]
) -> list[dict]:
    """One switched query per test query that has a switchable term; the rest are left out.

    Korean→English first: among the query's Kiwi nouns with a gold translation
    that occur in the positive document's text, the longest (then the first)
    becomes its first gold translation. Otherwise English→Korean the same way.
    """
    rows = []
    for pair, tokens in zip(pairs, kiwi.tokenize([p["query"] for p in pairs]), strict=True):
        positive = " ".join(positives[i] for i in pair["positive_ids"]).lower()
        options = []
        for t in tokens:
            if t.tag in NOUN_TAGS and t.form in ko_en and len(t.form) >= 2 and t.form in positive:
                options.append((0, -len(t.form), t.start, t, ko_en[t.form][0], "ko_to_en"))
            elif t.tag == "SL" and t.form.lower() in en_ko and t.form.lower() in positive:
                options.append((1, -len(t.form), t.start, t, en_ko[t.form.lower()][0], "en_to_ko"))
        if not options:
            continue
        *_, token, replacement, direction = min(options, key=lambda o: o[:3])
        query = pair["query"]
        switched = query[: token.start] + replacement + query[token.start + token.len :]
        rows.append(
            {**pair, "query": switched, "original_query": query, "direction": direction,
             "replaced": [query[token.start : token.start + token.len], replacement]}
        )  # fmt: skip
    return rows


# ---------------------------------------------------------------- finding dictionary terms in text


class TermFinder:
    """Dictionary terms occurring in a text: Korean as substrings (particles attach), English as whole words."""

    def __init__(self, terms: Sequence[str]):
        korean = sorted((t for t in terms if re.search("[\uac00-\ud7a3]", t)), key=lambda t: (-len(t), t))
        english = sorted((t for t in terms if not re.search("[\uac00-\ud7a3]", t)), key=lambda t: (-len(t), t))
        self.korean = re.compile("|".join(map(re.escape, korean))) if korean else None
        self.english = (
            re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, english)) + r")(?![a-z0-9])") if english else None
        )

    def __call__(self, text: str) -> list[str]:
        found = set()
        if self.korean:
            found.update(self.korean.findall(text))
        if self.english:
            found.update(self.english.findall(text.lower()))
        return sorted(found)


def expand_text(text: str, finder: TermFinder, counterparts: dict[str, list[str]]) -> str:
    """The text followed by the counterparts of its dictionary terms that it does not already contain."""
    present = set(finder(text))
    extra = sorted({c for term in present for c in counterparts[term]} - present)
    return f"{text} {' '.join(extra)}" if extra else text


# ---------------------------------------------------------------- sparse vectors


def expand_vectors(
    docs: sparse.csr_matrix,
    texts: Sequence[str],
    finder: TermFinder,
    counterparts: dict[str, list[str]],
    token_ids: dict[str, list[int]],
    alpha: float,
) -> sparse.csr_matrix:
    """Each document's counterpart tokens raised to at least α × the mean weight of its term's tokens.

    A term counts as present when it occurs in the document's text (the vector
    alone cannot say: SPLADE spreads weight over tokens absent from the text).
    Weights only go up, so expansion never removes a match.
    """
    cells: dict[tuple[int, int], float] = {}
    for row, text in enumerate(texts):
        for term in finder(text):
            ids = token_ids.get(term)
            if not ids:
                continue
            weight = alpha * float(np.mean([docs[row, i] for i in ids]))
            for partner in counterparts[term]:
                for i in token_ids.get(partner, []):
                    cells[(row, i)] = max(cells.get((row, i), 0.0), weight)
    if not cells:
        return docs.copy()
    (rows, cols), values = zip(*cells.keys(), strict=True), list(cells.values())
    raised = sparse.csr_matrix((values, (rows, cols)), shape=docs.shape, dtype=docs.dtype)
    return docs.maximum(raised).tocsr()


def token_ids_of(tok, terms: Sequence[str]) -> dict[str, list[int]]:
    vocab = tok.get_vocab()
    return {t: [vocab[k] for k in term_keys(tok, t) if k in vocab] for t in terms}


class EncodedSparseRetriever:
    """A sparse model's retriever whose document matrices are encoded once and optionally expanded.

    `encoded` is shared between instances, so 'with' and 'without' expansion
    score the same vectors and the documents are encoded once.
    """

    def __init__(self, name: str, model, batch_size: int, encoded: dict, expand=None):
        self.name, self.model, self.batch_size, self.encoded, self.expand = name, model, batch_size, encoded, expand

    def index(self, texts: Sequence[str]) -> None:
        key = (len(texts), texts[0], texts[-1])
        if key not in self.encoded:
            self.encoded[key] = document_matrix(self.model, texts, self.batch_size)
        self.docs = self.expand(self.encoded[key], texts) if self.expand else self.encoded[key]

    def search(self, queries: Sequence[str], k: int) -> list:
        encoded = to_csr(self.model.encode_query(list(queries), batch_size=256, convert_to_sparse_tensor=True))
        scores = (encoded @ self.docs.T).toarray()
        return [top_k_hits(row, k) for row in scores]

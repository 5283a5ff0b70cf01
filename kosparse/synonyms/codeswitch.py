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
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from kosparse.evaluation.retrieval import BM25Retriever, SparseRetriever, evaluate_retriever
from kosparse.synonyms.idf_adjust import term_keys
from kosparse.synonyms.lexicons import merged

NOUN_TAGS = frozenset({"NNG", "NNP"})


# ---------------------------------------------------------------- test set


def gold_translations(gold: dict) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(Korean → English, English → Korean) from the gold lexicons, tech terms first, then MUSE."""
    ko_en = merged(gold, ("tech", "muse"))
    en_ko: dict[str, list[str]] = {}
    for ko, ens in sorted(ko_en.items()):
        for en in ens:
            en_ko.setdefault(en, []).append(ko)
    return ko_en, en_ko


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


# ---------------------------------------------------------------- the evaluation


def codeswitch_results(
    documents: list[dict],
    switched: list[dict],
    dictionaries: dict[str, dict[str, list[str]]],
    sparse_models: Sequence[tuple[str, object, dict]],
    kiwi,
    cfg: dict,
    alpha: float,
    text_of: Callable[[dict], str] = lambda d: d["text"],
) -> dict:
    """nDCG@10 etc. of BM25 (Kiwi) and each sparse model, without and with each dictionary.

    `sparse_models`: (label, SparseEncoder, its stored encodings). Each run
    searches the switched queries (split `codeswitch`) and, for reference,
    the original ones (split `original`).
    """
    finders = {name: TermFinder(sorted(table)) for name, table in dictionaries.items()}
    expanded = {
        name: {d["id"]: expand_text(d["text"], finders[name], table) for d in documents}
        for name, table in dictionaries.items()
    }
    splits = {"codeswitch": switched, "original": [{**r, "query": r["original_query"]} for r in switched]}
    bm25, top_k = cfg["bm25"], cfg["top_k"]
    results = {"bm25_kiwi": evaluate_retriever(BM25Retriever("bm25_kiwi", kiwi, **bm25), documents, splits, top_k)}
    for name in dictionaries:
        results[f"bm25_kiwi+{name}"] = evaluate_retriever(
            BM25Retriever(f"bm25_kiwi+{name}", kiwi, **bm25), documents, splits, top_k,
            lambda d, name=name: expanded[name][d["id"]],
        )  # fmt: skip
    for label, model, encoded in sparse_models:
        results[label] = evaluate_retriever(
            SparseRetriever(label, model, encoded=encoded), documents, splits, top_k, text_of
        )
        for name, table in dictionaries.items():
            ids = token_ids_of(model.tokenizer, sorted(table))

            def expand(docs, texts, name=name, table=table, ids=ids):
                return expand_vectors(docs, texts, finders[name], table, ids, alpha)

            retriever = SparseRetriever(f"{label}+{name}", model, encoded=encoded, expand=expand)
            results[f"{label}+{name}"] = evaluate_retriever(retriever, documents, splits, top_k, text_of)
    return results

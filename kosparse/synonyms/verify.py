"""Verification and discovery of synonym pairs from LLM translations: which requests, which answers to keep.

verify: the LLM translates the Korean term of a base pair in its corpus
context; the pair is kept when the translation matches the pair's English by
normalised string, or by embedding cosine ≥ `verify.min_similarity`.
discover: for frequent corpus terms without a pair the LLM proposes up to three
equivalents; one is kept when its cross-lingual cosine with the term is
≥ `discover.min_similarity` (the embedding half of the same check: there is
no candidate to compare a string with). Curated pairs are written and reviewed
by hand for this project and pass as `trusted`.

Every rejection is counted under its reason: an LLM error (`empty`,
`invalid_json`, `schema`, `truncated`, …; each term of that request counts
it), `mismatch` / `low_similarity`, `not_a_term`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kosparse.llm.base import Messages
from kosparse.synonyms import prompts as sp
from kosparse.synonyms.dictionary import clean_en, clean_ko, is_en_term, is_ko_term, normalize_en, similarity


@dataclass
class Request:
    template: sp.Template
    terms: list[str]
    messages: Messages
    schema: dict


def batches(items: Sequence, size: int) -> list[list]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def plan(
    verify_terms: Sequence[str],
    contexts: dict[str, str],
    discover_ko: Sequence[str],
    discover_en: Sequence[str],
    batch_size: int,
) -> list[Request]:
    """The LLM requests in a fixed order (verify, discover Korean, discover English)."""
    requests = []
    for group in batches(sorted(verify_terms), batch_size):
        messages = sp.verify_messages([(t, contexts.get(t, "")) for t in group])
        requests.append(Request(sp.VERIFY, group, messages, sp.VERIFY.schema(len(group))))
    for template, terms in ((sp.DISCOVER_KO, discover_ko), (sp.DISCOVER_EN, discover_en)):
        for group in batches(list(terms), batch_size):
            requests.append(
                Request(template, group, sp.discover_messages(template, group), template.schema(len(group)))
            )
    return requests


def answers_by_term(request: Request, record: dict) -> dict[str, list[str] | str]:
    """Each requested term's answer from a cached reply record, by position; {} without a schema-valid reply."""
    if record["data"] is None:
        return {}
    return dict(zip(request.terms, record["data"][request.template.answer], strict=True))


def matches(answer: str, candidate: str, cosine: float, min_similarity: float) -> str | None:
    """'string' or 'embedding' when `answer` agrees with `candidate`, else None."""
    if normalize_en(answer) == normalize_en(candidate):
        return "string"
    return "embedding" if cosine >= min_similarity else None


def tally(reasons: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(reasons).items()))


def clean_equivalent(text: str, korean: bool) -> str | None:
    """A proposed equivalent as a dictionary term, or None when it is not one (a sentence, mixed script)."""
    term = clean_ko(text) if korean else clean_en(text)
    ok = is_ko_term(term) if korean else is_en_term(term) and len(term.split()) <= 4
    return term if ok else None


def verified_pairs(
    to_verify: Sequence[dict], translations: dict[str, str | None], vectors: dict, min_similarity: float
) -> tuple[list[dict], list[str]]:
    """(a candidate per source of each base pair the LLM's translation confirms, each pair's outcome)."""
    candidates, reasons = [], []
    for pair in to_verify:
        if pair["ko"] not in translations:
            reasons.append("not_verified")
            continue
        answer = translations[pair["ko"]]
        if not answer:
            reasons.append("no_answer")
            continue
        cosine = similarity(vectors, answer, pair["en"]) if answer in vectors else 0.0
        how = matches(answer, pair["en"], cosine, min_similarity)
        reasons.append("accepted" if how else "mismatch")
        if how:
            for source in pair["sources"]:
                candidates.append(
                    {"ko": pair["ko"], "en": pair["en"], "source": source, "similarity": pair["similarity"],
                     "verified": how, "llm_answer": answer, **pair["sources"][source]}
                )  # fmt: skip
    return candidates, reasons


def discovered_pairs(
    proposals: dict[tuple[str, str], list[str | None]], vectors: dict, min_similarity: float
) -> tuple[list[dict], list[str]]:
    """(a candidate per proposed equivalent that is a term close to its source term, each proposal's outcome)."""
    candidates, reasons = [], []
    for (name, term), values in sorted(proposals.items()):
        for value in values:
            if value is None:
                reasons.append("not_a_term")
                continue
            ko, en = (term, value) if name == sp.DISCOVER_KO.name else (value, term)
            cosine = similarity(vectors, ko, en)
            if cosine < min_similarity:
                reasons.append("low_similarity")
                continue
            reasons.append("accepted")
            candidates.append({"ko": ko, "en": en, "source": f"llm_{name}", "similarity": cosine,
                               "verified": "embedding"})  # fmt: skip
    return candidates, reasons

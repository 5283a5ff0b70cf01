"""Synthetic training data: which LLM requests to make, and which answers to keep.

Four generators (params `synthesize.<name>`):
- doc2query: queries for sampled documents (InPars: the generator sees documents only);
- paraphrase: rewrites of real training queries, paired with their positives;
- query2doc: a generated passage answering a real training query;
- llm_negative: a generated passage on the query's topic that does not answer it.

Filters are fit for Korean and each rejection is counted under its rule, in this
order: llm (no schema-valid answer), hangul, script (Chinese or Japanese
characters its source lacks), length, near_copy, duplicate, round_trip. There
is no word-overlap rule: Korean particles glue onto words, so whitespace-word
overlap rejects good Korean queries by construction.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from kosparse.data.text import han_or_kana_absent_from, has_hangul, normalize_text
from kosparse.llm import prompts
from kosparse.llm.base import Messages

RULES = ("llm", "hangul", "script", "length", "near_copy", "duplicate", "round_trip")


@dataclass
class Task:
    """One LLM request and what its answer will be about."""

    kind: str
    item: dict  # the source document (doc2query) or training pair (others)
    messages: Messages
    schema: dict
    expected: int  # candidates one answer should give


@dataclass
class Candidate:
    kind: str
    query: str
    source: str  # dataset the pair belongs to (its collection for the round trip)
    doc_id: str  # the positive document in the collection (for query2doc and llm_negative: the real query's)
    text: str  # the generated text the text rules look at (query, or passage)
    reference: str  # what `text` must not copy (source passage, original query, positive passage)
    task_index: int
    position: int
    extra: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)


def dedup_key(text: str) -> str:
    """Case, spacing and punctuation do not make a query new."""
    return "".join(ch for ch in normalize_text(text).lower() if ch.isalnum())


def copy_ratio(text: str, reference: str) -> float:
    """Share of `text` covered by its longest verbatim run inside `reference`."""
    if not text:
        return 0.0
    match = SequenceMatcher(None, text, reference, autojunk=False).find_longest_match()
    return match.size / len(text)


def plan_tasks(documents: list[dict], train_pairs: list[dict], cfg: dict, seed: int) -> list[Task]:
    """The LLM requests, in a fixed order that does not depend on what is cached."""
    by_id = {d["id"]: d for d in documents}
    tasks: list[Task] = []
    gen = cfg["doc2query"]
    if gen["enabled"]:
        pool = sorted((d for d in documents if d["source"] in gen["sources"]), key=lambda d: d["id"])
        random.Random(seed).shuffle(pool)  # a prefix: a larger num_docs keeps (and reuses) the smaller plan
        for doc in pool[: gen["num_docs"]]:
            text = doc["text"][: cfg["max_doc_chars"]]
            schema = prompts.DOC2QUERY.schema(gen["per_doc"], cfg["query_chars"][1])
            tasks.append(
                Task("doc2query", doc, prompts.doc2query_messages(text, gen["per_doc"]), schema, gen["per_doc"])
            )
    pairs = sorted(train_pairs, key=lambda p: (p["source"], p["query_id"]))
    for name, build in [
        ("paraphrase", lambda q, n: prompts.paraphrase_messages(q, n)),
        ("query2doc", lambda q, n: prompts.query2doc_messages(q)),
        ("llm_negative", lambda q, n: prompts.llm_negative_messages(q)),
    ]:
        gen = cfg[name]
        if not gen["enabled"]:
            continue
        per = gen.get("per_query", 1)
        limit = cfg["query_chars"][1] if name == "paraphrase" else cfg["passage_chars"][1]
        schema = prompts.TEMPLATES[name].schema(per, limit)
        eligible = [p for p in pairs if p["source"] in gen["sources"]]
        random.Random(f"{seed}:{name}").shuffle(eligible)
        for pair in eligible[: gen["num_queries"]]:
            item = {**pair, "positive_text": by_id[pair["positive_ids"][0]]["text"]}
            tasks.append(Task(name, item, build(pair["query"], per), schema, per))
    return tasks


def expand(task_index: int, task: Task, data: dict) -> list[Candidate]:
    """A schema-valid answer as candidates, one per generated text."""
    item, kind = task.item, task.kind
    field_name = prompts.TEMPLATES[kind].field
    texts = data[field_name] if isinstance(data[field_name], list) else [data[field_name]]
    out = []
    for position, raw in enumerate(texts):
        text = normalize_text(raw)
        if kind == "doc2query":
            out.append(Candidate(kind, text, item["source"], item["id"], text, item["text"], task_index, position))
        elif kind == "paraphrase":
            positive = item["positive_ids"][0]
            extra = {"original_query": item["query"]}
            out.append(
                Candidate(kind, text, item["source"], positive, text, item["query"], task_index, position, extra)
            )
        else:  # query2doc, llm_negative: a passage for the real query, kept beside its real positive
            positive = item["positive_ids"][0]
            out.append(
                Candidate(
                    kind, item["query"], item["source"], positive, text, item["positive_text"], task_index, position
                )
            )
    return out


def text_rules(
    candidates: Sequence[Candidate], cfg: dict, seen: set[str]
) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
    """hangul, script, length, near_copy and duplicate, in that order; `seen` holds real queries' keys."""
    kept, rejected = [], []
    for cand in candidates:
        is_passage = cand.kind in ("query2doc", "llm_negative")
        low, high = cfg["passage_chars"] if is_passage else cfg["query_chars"]
        ratio = copy_ratio(cand.text, cand.reference)
        cand.scores["copy_ratio"] = round(ratio, 3)
        key = dedup_key(cand.text)
        if not has_hangul(cand.text):
            rule = "hangul"
        elif han_or_kana_absent_from(cand.text, cand.reference):
            rule = "script"
        elif not low <= len(cand.text) <= high:
            rule = "length"
        elif ratio >= cfg["near_copy_ratio"] and len(cand.text) >= cfg["near_copy_min_chars"]:
            rule = "near_copy"
        elif cand.kind == "paraphrase" and key == dedup_key(cand.reference):
            rule = "near_copy"
        elif key in seen:
            rule = "duplicate"
        else:
            seen.add(key)
            kept.append(cand)
            continue
        rejected.append((cand, rule))
    return kept, rejected


def round_trip(
    candidates: Sequence[Candidate],
    documents: list[dict],
    k: int,
    make_retriever: Callable[[], object],
) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
    """Keep a candidate when its target is in the BM25 top-k for its query.

    The target is the source document (doc2query, paraphrase), searched in the
    collection alone, or the generated passage itself, indexed beside the
    collection with the other generated passages (query2doc; llm_negative,
    where this checks the negative is on the query's topic). Keeping the two
    indexes apart means generated passages never change a query's verdict.
    """
    kept, rejected = [], []
    passage_kinds = ("query2doc", "llm_negative")
    for source in sorted({c.source for c in candidates}):
        collection = [d for d in documents if d["source"] == source]
        position = {d["id"]: i for i, d in enumerate(collection)}
        for with_passages in (False, True):
            group = [c for c in candidates if c.source == source and (c.kind in passage_kinds) == with_passages]
            if not group:
                continue
            texts = [d["text"] for d in collection]
            targets = {}
            for c in group:
                if with_passages:
                    targets[id(c)] = len(texts)
                    texts.append(c.text)
                else:
                    targets[id(c)] = position[c.doc_id]
            retriever = make_retriever()
            retriever.index(texts)
            hits = retriever.search([c.query for c in group], k)
            for cand, row in zip(group, hits, strict=True):
                ranks = [rank for rank, (doc, _) in enumerate(row, 1) if doc == targets[id(cand)]]
                cand.scores["bm25_rank"] = ranks[0] if ranks else None
                (kept.append(cand) if ranks else rejected.append((cand, "round_trip")))
    order = lambda c: (c.task_index, c.position)  # noqa: E731 - plan order, independent of source grouping
    return sorted(kept, key=order), sorted(rejected, key=lambda r: order(r[0]))


def summarise(tasks: list[Task], records: list[dict], accepted: list[Candidate], rejected: list[tuple]) -> dict:
    """Requested, generated, accepted and rejected per rule, for each generator.

    `llm` counts the texts an answer should have held but did not (no schema-valid
    answer); `llm_errors` says why, per request.
    """
    report = {}
    for kind in sorted({t.kind for t in tasks}):
        requested = sum(t.expected for t in tasks if t.kind == kind)
        ok = sum(c.kind == kind for c in accepted)
        rules = Counter(rule for cand, rule in rejected if cand.kind == kind)
        generated = ok + sum(rules.values())
        errors = Counter(
            r["error"] for t, r in zip(tasks, records, strict=True) if t.kind == kind and r["data"] is None
        )
        report[kind] = {
            "requested": requested,
            "generated": generated,
            "accepted": ok,
            "acceptance_rate": round(ok / requested, 4) if requested else None,
            "rejected": {rule: rules.get(rule, 0) for rule in RULES} | {"llm": requested - generated},
            "llm_errors": dict(sorted(errors.items())),
        }
    return report


def pair_record(cand: Candidate, model: str, template_version: str) -> dict:
    record = {
        "kind": cand.kind,
        "query": cand.query,
        "source": cand.source,
        "doc_id": cand.doc_id,
        "model": model,
        "template_version": template_version,
        "scores": cand.scores,
        **cand.extra,
    }
    if cand.kind == "query2doc":
        record["document"] = cand.text
    if cand.kind == "llm_negative":
        record["negative"] = cand.text
    return record

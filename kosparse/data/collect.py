"""Turn loaded source records into one document collection and split query pairs.

Documents are deduplicated by normalised text *within* a source (each source's
test queries are searched against that source's own collection), and pairs that
pointed at a dropped duplicate are remapped to the kept document id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kosparse.data.text import normalize_text

SPLITS = ("train", "validation", "test")


def split_for_index(index: int, modulus: int, test_remainder: int, validation_remainder: int | None) -> str:
    """Leak-free split rule: whole articles (or query ids) go to one split by index modulo."""
    remainder = index % modulus
    if remainder == test_remainder:
        return "test"
    if validation_remainder is not None and remainder == validation_remainder:
        return "validation"
    return "train"


@dataclass
class Collection:
    min_doc_chars: int
    min_query_chars: int
    documents: list[dict] = field(default_factory=list)
    pairs: dict[str, list[dict]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    stats: dict[str, dict] = field(default_factory=dict)
    _by_text: dict[tuple[str, str], str] = field(default_factory=dict)

    def _source_stats(self, source: str) -> dict:
        return self.stats.setdefault(
            source,
            {
                "documents_read": 0,
                "documents_kept": 0,
                "documents_dropped": Counter(),
                "queries_read": 0,
                "queries_dropped": Counter(),
                "pairs": Counter(),
            },
        )

    def add_document(self, source: str, doc_id: str, text: str, title: str = "", date: str | None = None) -> str | None:
        """Add a document; return the id to point pairs at (the kept duplicate), or None if dropped."""
        stats = self._source_stats(source)
        stats["documents_read"] += 1
        text = normalize_text(text)
        if len(text) < self.min_doc_chars:
            stats["documents_dropped"]["empty" if not text else "too_short"] += 1
            return None
        key = (source, text)
        if key in self._by_text:
            stats["documents_dropped"]["duplicate"] += 1
            return self._by_text[key]
        self._by_text[key] = doc_id
        doc = {"id": doc_id, "text": text, "title": normalize_text(title), "source": source}
        if date:
            doc["date"] = date
        self.documents.append(doc)
        stats["documents_kept"] += 1
        return doc_id

    def add_pair(
        self, source: str, split: str, query_id: str, query: str, positive_ids: list[str | None], **extra
    ) -> None:
        stats = self._source_stats(source)
        stats["queries_read"] += 1
        query = normalize_text(query)
        kept = sorted({p for p in positive_ids if p is not None})
        if len(query) < self.min_query_chars:
            stats["queries_dropped"]["empty" if not query else "too_short"] += 1
            return
        if not kept:
            stats["queries_dropped"]["no_positive_document"] += 1
            return
        self.pairs[split].append(
            {"query_id": query_id, "query": query, "positive_ids": kept, "source": source, **extra}
        )
        stats["pairs"][split] += 1

    def metrics(self) -> dict:
        out = {}
        for source, s in sorted(self.stats.items()):
            out[source] = {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in s.items()}
            out[source]["pairs"] = {split: s["pairs"].get(split, 0) for split in SPLITS}
        out["total"] = {"documents": len(self.documents), **{f"pairs_{s}": len(p) for s, p in self.pairs.items()}}
        return out


def add_qa_source(col: Collection, source: str, articles: list[dict], split_cfg: dict, extra: dict) -> None:
    """SQuAD-style source: paragraph → document, question → query, split by article index."""
    col._source_stats(source)["articles"] = len(articles)
    split_counts: Counter = Counter()
    for a, article in enumerate(articles):
        split = split_for_index(
            a, split_cfg["modulus"], split_cfg["test_remainder"], split_cfg.get("validation_remainder")
        )
        split_counts[split] += 1
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id = col.add_document(source, f"{source}-{a:05d}-{p:03d}", paragraph["context"], article["title"])
            for qa in paragraph["qas"]:
                col.add_pair(source, split, f"{source}-{qa['id']}", qa["question"], [doc_id], **extra)
    col._source_stats(source)["articles_per_split"] = {s: split_counts.get(s, 0) for s in SPLITS}


def add_query_passages_source(col: Collection, source: str, records: list[dict], split_cfg: dict, extra: dict) -> None:
    """Query + positive passages source: passages are numbered by first appearance, split by query id."""
    passage_ids: dict[str, str] = {}
    for record in records:
        positives = []
        for passage in record["positive"]:
            key = normalize_text(passage)
            if key not in passage_ids:
                passage_ids[key] = col.add_document(source, f"{source}-{len(passage_ids):06d}", passage)
            else:
                col._source_stats(source)["documents_read"] += 1
                col._source_stats(source)["documents_dropped"]["duplicate"] += 1
            positives.append(passage_ids[key])
        split = split_for_index(
            record["id"], split_cfg["modulus"], split_cfg["test_remainder"], split_cfg.get("validation_remainder")
        )
        col.add_pair(source, split, f"{source}-{record['id']}", record["query"], positives, **extra)


def add_docs_source(col: Collection, source: str, records: list[dict], max_docs: int | None) -> None:
    for record in records[:max_docs] if max_docs else records:
        col.add_document(
            source, f"{source}-{record['id']}", record["text"], record.get("title", ""), record.get("date")
        )


def check_no_leak(pairs: dict[str, list[dict]], documents: list[dict]) -> dict[str, int]:
    """Count test/validation positives shared with training pairs of the same source.

    Articles are split whole, so this is 0 unless two articles hold the same
    paragraph text; reported rather than hidden.
    """
    train_docs = defaultdict(set)
    for pair in pairs["train"]:
        train_docs[pair["source"]].update(pair["positive_ids"])
    return {
        split: sum(1 for pair in pairs[split] if train_docs[pair["source"]] & set(pair["positive_ids"]))
        for split in ("validation", "test")
    }

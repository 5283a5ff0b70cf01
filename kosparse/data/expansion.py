"""Document expansion at index time (docTTTTTquery): a document's generated queries appended to its text.

The served model and the query side stay as they are; only what gets indexed
changes, so in OpenSearch this is an ingest step (append the queries to the
text field before the `sparse_encoding` processor), not a new model.
"""

from __future__ import annotations


def expanded_documents(documents: list[dict], synthetic: list[dict], kinds: list[str]) -> list[dict]:
    """Each document with the accepted synthetic queries of `kinds` that name it, in file order, appended."""
    queries: dict[str, list[str]] = {}
    for row in synthetic:
        if row["kind"] in kinds:
            queries.setdefault(row["doc_id"], []).append(row["query"])
    return [{**d, "text": "\n".join([d["text"], *queries[d["id"]]])} if d["id"] in queries else d for d in documents]

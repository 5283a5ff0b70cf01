"""Distillation from a dense teacher: teacher scores for the training triples, and the loss that uses them.

The teacher (EmbeddingGemma by default) scores the (query, positive,
negative_1..n) rows the trainer draws from (all of them, or a seeded subset of
`distill.max_triples`), once, in its own stage; training then reads the scores
as labels and uses only the scored rows. Cosine scores are multiplied by
`distill.score_scale` so that their margins are on the scale of the student's
dot products (IDF × log-saturated weights, tens of points), which both losses
compare against.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from sentence_transformers.sparse_encoder.losses import SparseDistillKLDivLoss, SparseMarginMSELoss

from kosparse.errors import KosparseError

LOSSES = ("margin_mse", "kl")


def check_distill_config(cfg: dict) -> None:
    """Reject impossible settings before the teacher or the student is loaded."""
    if cfg["loss"] not in LOSSES:
        raise KosparseError(f"distill.loss = {cfg['loss']!r}: must be one of {', '.join(LOSSES)}")
    for key in ("score_scale", "kl_temperature"):
        value = cfg[key]
        if not isinstance(value, float) or value <= 0:
            raise KosparseError(f"distill.{key} = {value!r}: must be a positive float (write 2.0e1, not 20)")
    for key in ("batch_size", "max_length", "max_triples"):
        value = cfg[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise KosparseError(f"distill.{key} = {value!r}: must be a positive integer")


def sample_triples(triples: Sequence[dict], max_triples: int, seed: int) -> list[dict]:
    """A seeded subset, in query-id order: on CPU the teacher cannot score every triple (≈ 0.45 s per document)."""
    if len(triples) <= max_triples:
        return sorted(triples, key=lambda t: t["query_id"])
    return sorted(random.Random(seed).sample(list(triples), max_triples), key=lambda t: t["query_id"])


def teacher_scores(model, triples: Sequence[dict], doc_text: dict[str, str], batch_size: int) -> list[dict]:
    """Cosine of the teacher's query and document embeddings for [positive, negative_1..n] of every triple.

    Each distinct query and document is encoded once, with the teacher's own
    query / document prompts; rows come back sorted by query id.
    """
    queries = sorted({t["query"] for t in triples})
    doc_ids = sorted({d for t in triples for d in (t["positive_id"], *t["negative_ids"])})
    query_vectors = _encode(model.encode_query, queries, batch_size)
    doc_vectors = _encode(model.encode_document, [doc_text[d] for d in doc_ids], batch_size)
    query_row = {q: i for i, q in enumerate(queries)}
    doc_row = {d: i for i, d in enumerate(doc_ids)}
    rows = []
    for t in sorted(triples, key=lambda t: t["query_id"]):
        candidates = [t["positive_id"], *t["negative_ids"]]
        scores = doc_vectors[[doc_row[d] for d in candidates]] @ query_vectors[query_row[t["query"]]]
        rows.append(
            {
                "query_id": t["query_id"],
                "positive_id": t["positive_id"],
                "negative_ids": t["negative_ids"],
                "scores": [round(float(s), 5) for s in scores],  # rounded: byte-identical across runs
            }
        )
    return rows


def _encode(encode, texts: list[str], batch_size: int) -> np.ndarray:
    # Longest first: the first batch shows the peak memory, and similar lengths pad little.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    vectors = encode(
        [texts[i] for i in order],
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=len(texts) > batch_size,
    )
    out = np.empty_like(vectors)
    out[order] = vectors
    return out.astype(np.float32)


def teacher_labels(teacher_rows: Sequence[dict], negatives: dict[str, list[str]], negatives_per_query: int) -> dict:
    """query id → teacher scores, checked against the negatives training will use (a stale score file fails here)."""
    labels = {}
    for row in teacher_rows:
        used = negatives.get(row["query_id"], [])[:negatives_per_query]
        if row["negative_ids"] != used:
            raise KosparseError(
                f"teacher scores for {row['query_id']} cover negatives {row['negative_ids']}, "
                f"but training uses {used}: the teacher-score file is stale; re-run it (dvc repro teacher_scores)"
            )
        labels[row["query_id"]] = row["scores"]
    return labels


def distill_loss(model, cfg: dict):
    """The inner loss SpladeLoss wraps: MarginMSE on teacher margins, or KL between softmaxed score lists."""
    if cfg["loss"] == "margin_mse":
        return SparseMarginMSELoss(model)
    temperature = cfg["kl_temperature"]
    return SparseDistillKLDivLoss(model, student_temperature=temperature, teacher_temperature=temperature)

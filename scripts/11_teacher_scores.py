"""Stage 11: score v1's training triples with a dense teacher (EmbeddingGemma), once, for distillation.

    python -m scripts.11_teacher_scores --pairs data/collect/pairs_train.jsonl \
        --negatives data/negatives/train.jsonl --out data/teacher/v1.jsonl
"""

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from kosparse.cli import run
from kosparse.io import load_params, read_jsonl, write_json, write_jsonl
from kosparse.model.distill import check_distill_config, sample_triples, teacher_scores
from kosparse.model.training import training_triples
from kosparse.models import load_sentence_transformer

log = logging.getLogger("11_teacher_scores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--pairs", default="data/collect/pairs_train.jsonl")
    parser.add_argument("--negatives", default="data/negatives/train.jsonl")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out", default="data/teacher/v1.jsonl")
    parser.add_argument("--metrics", default="metrics/teacher.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg = params["distill"]
    check_distill_config(cfg)

    # 1. The triples training draws from (same pairs, same first n mined negatives), a seeded subset of them.
    doc_text = {d["id"]: d["text"] for d in read_jsonl(Path(args.collect_dir) / "documents.jsonl")}
    negatives = {row["query_id"]: row["negative_ids"] for row in read_jsonl(args.negatives)}
    triples = training_triples(read_jsonl(args.pairs), negatives, params["train"]["negatives_per_query"])
    triples = sample_triples(triples, cfg["max_triples"], params["seed"])
    log.info("%d triples to score with %s", len(triples), cfg["teacher"])

    # 2. The teacher encodes each distinct query and document once; cosine per candidate.
    start = time.perf_counter()
    teacher = load_sentence_transformer(cfg["teacher"], "distill.teacher")
    teacher.max_seq_length = cfg["max_length"]
    rows = teacher_scores(teacher, triples, doc_text, cfg["batch_size"])
    seconds = time.perf_counter() - start
    write_jsonl(args.out, rows)

    # 3. How much the teacher agrees with the labels: a teacher that ranks mined negatives above
    #    the positives would teach the student the wrong order.
    scores = np.array([r["scores"] for r in rows])
    margins = scores[:, :1] - scores[:, 1:]
    write_json(args.metrics, {
        "triples": len(rows),
        "teacher": cfg["teacher"],
        "positive_above_every_negative": round(float((margins > 0).all(axis=1).mean()), 4),
        "mean_margin": round(float(margins.mean()), 4),
        "margin_std": round(float(margins.std()), 4),
    })  # fmt: skip
    log.info("scored %d triples in %.1f s; mean teacher margin %.3f", len(rows), seconds, margins.mean())


if __name__ == "__main__":
    run(main)

"""Stage 12: train an inference-free sparse encoder variant (v1: real pairs; v2 adds synthetic pairs).

    python -m scripts.12_train v1 --pairs data/collect/pairs_train.jsonl \
        --negatives data/negatives/train.jsonl --out models/v1

With --teacher (stage train_distill: v1's data) the dense teacher's scores are
the labels and params `distill.loss` replaces the in-batch ranking loss.

Data-parallel on several GPUs (or CPU processes, gloo):

    torchrun --nproc_per_node 2 -m scripts.12_train v1 ...
"""

import argparse
import logging
import os
import shutil
from contextlib import nullcontext
from pathlib import Path

import torch
from dvclive import Live
from transformers import set_seed

from kosparse.cli import run
from kosparse.data.mix import generated_texts
from kosparse.device import is_main_process
from kosparse.io import atomic_path, load_params, read_json, read_jsonl, write_json
from kosparse.model.distill import check_distill_config, distill_loss, teacher_labels
from kosparse.model.sparse_model import build_model, document_modules, save_encoder
from kosparse.model.training import check_train_config, probe_documents, retrieval_evaluator, train, training_examples

log = logging.getLogger("12_train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--pairs", default="data/collect/pairs_train.jsonl")
    parser.add_argument("--negatives", default="data/negatives/train.jsonl")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--base", default="models/base")
    parser.add_argument("--idf", default="data/idf/idf.json")
    parser.add_argument("--document-stats", default="data/idf/document_stats.json", help="stage idf: avgdl, …")
    parser.add_argument("--teacher", default=None, help="teacher scores (stage teacher_scores): distil instead")
    parser.add_argument("--out", default=None, help="model folder (default models/<variant>)")
    parser.add_argument("--curves", default=None, help="DVCLive folder (default metrics/train_<variant>)")
    parser.add_argument("--metrics", default=None, help="summary JSON (default metrics/train_<variant>.json)")
    args = parser.parse_args()
    out = args.out or f"models/{args.variant}"
    curves = args.curves or f"metrics/train_{args.variant}"
    summary_path = args.metrics or f"metrics/train_{args.variant}.json"
    params = load_params(args.params)
    cfg, seed = params["train"], params["seed"]

    # 1. Check every input before any training starts.
    check_train_config(cfg)
    distill = params["distill"] if args.teacher else None
    if distill:
        check_distill_config(distill)
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    doc_text = {d["id"]: d["text"] for d in documents}
    pairs = read_jsonl(args.pairs)
    doc_text |= generated_texts(pairs, doc_text)  # query2doc / llm_negative passages (stage mix)
    negatives = {row["query_id"]: row["negative_ids"] for row in read_jsonl(args.negatives)}
    labels = teacher_labels(read_jsonl(args.teacher), negatives, cfg["negatives_per_query"]) if distill else None
    scale = distill["score_scale"] if distill else 1.0
    dataset = training_examples(pairs, negatives, doc_text, cfg["negatives_per_query"], labels, scale)
    validation = read_jsonl(collect / "pairs_validation.jsonl")
    if cfg["threads"]:  # floating-point sums depend on how work splits across threads
        torch.set_num_threads(cfg["threads"])
    set_seed(seed)
    stats = read_json(args.document_stats)
    model = build_model(args.base, args.idf, cfg["max_length"], cfg["anchor"], params["evaluate"]["bm25"], stats)
    ranking_loss = distill_loss(model, distill) if distill else None
    examples = {source: len(rows) for source, rows in dataset.items()}
    log.info("%s: training examples %s, %d validation queries", args.variant, examples, len(validation))

    # 2. Train with validation by retrieval; curves to DVCLive; the guard watches fixed probe documents.
    #    Under torchrun every rank trains its share of each batch; rank 0 alone writes anything.
    main = is_main_process()
    evaluator = retrieval_evaluator(validation, documents, "validation", cfg["eval_batch_size"])
    probe = probe_documents(documents, cfg["probe_documents"], seed)
    checkpoints = Path(out).parent / f".{Path(out).name}.checkpoints"  # one path for every rank under torchrun
    try:
        with Live(dir=curves, save_dvc_exp=False, dvcyaml=False) if main else nullcontext() as live:
            summary = train(model, dataset, evaluator, cfg, str(checkpoints), seed, probe, live, ranking_loss)
    finally:
        if main:  # the best checkpoint is in memory now; a crash leaves nothing behind either
            shutil.rmtree(checkpoints, ignore_errors=True)
    if not main:
        return

    # 3. Save the best checkpoint as a SparseEncoder folder, with the idf.json it was trained with,
    #    reading the whole window at serving time (train.max_length only bounds training memory).
    document_modules(model)[0].max_seq_length = params["tokenizer"]["max_length"]
    with atomic_path(out, is_dir=True) as tmp:
        save_encoder(model, tmp)
        shutil.copyfile(args.idf, tmp / "idf.json")
    # Wall-clock time goes to the log, not to the summary: export depends on that file.
    log.info("%s: trained in %.1f s", args.variant, summary.pop("train_seconds"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    loss = f"{distill['loss']} from {distill['teacher']}" if distill else "SparseMultipleNegativesRankingLoss"
    summary.update(
        variant=args.variant,
        examples=examples,
        recipe={"loss": loss, "anchor": cfg["anchor"], "examples_seen": summary["steps"] * cfg["batch_size"] * world},
    )
    write_json(summary_path, summary)
    log.info(
        "%s: best validation nDCG@10 %.4f at step %s",
        args.variant,
        summary["best_validation_ndcg@10"],
        summary["best_checkpoint_step"],
    )


if __name__ == "__main__":
    run(main)

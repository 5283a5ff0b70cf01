"""Stage 08: mine hard negatives for the training pairs with BM25 over Kiwi morphemes.

    python -m scripts.08_hard_negatives --collect-dir data/collect \
        --out data/negatives/train.jsonl --metrics metrics/negatives.json
"""

import argparse
import logging
import time
from pathlib import Path

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.data.negatives import mine_hard_negatives
from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import BM25Retriever
from kosparse.io import load_params, read_jsonl, write_json, write_jsonl

log = logging.getLogger("08_hard_negatives")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out", default="data/negatives/train.jsonl")
    parser.add_argument("--metrics", default="metrics/negatives.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, bm25 = params["negatives"], params["evaluate"]["bm25"]
    if not isinstance(cfg["k"], int) or cfg["k"] <= 0:
        raise KosparseError(f"negatives.k = {cfg['k']!r}: must be a positive integer")

    # 1. Training pairs and the collection they point into.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    pairs = read_jsonl(collect / "pairs_train.jsonl")

    # 2. BM25 (bm25s over Kiwi morphemes) top-k per query, each against its own source.
    start = time.perf_counter()
    analyzer = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])
    mined = mine_hard_negatives(
        lambda: BM25Retriever("bm25_kiwi", analyzer, bm25["k1"], bm25["b"], bm25["method"]), documents, pairs, cfg["k"]
    )
    seconds = time.perf_counter() - start
    write_jsonl(args.out, mined)

    counts = [len(m["negative_ids"]) for m in mined]
    write_json(args.metrics, {
        "queries": len(mined),
        "k": cfg["k"],
        "mean_negatives": round(sum(counts) / len(counts), 3),
        "queries_short_of_k": sum(c < cfg["k"] for c in counts),
    })  # fmt: skip
    log.info("mined %d negatives for %d queries in %.1f s", sum(counts), len(mined), seconds)


if __name__ == "__main__":
    run(main)

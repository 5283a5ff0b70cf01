"""Stage 08: evaluate retrievers on the real held-out queries of every dataset.

    python -m scripts.08_evaluate bm25 --collect-dir data/collect --out metrics/bm25.json

Each dataset's test (and validation) queries are searched against that
dataset's whole collection; metrics land as
{retriever: {dataset: {split: {ndcg@10, mrr@10, recall@10, recall@100, queries}}}}.
"""

import argparse
import logging
import time
from pathlib import Path

from kosparse.analyzers import KiwiAnalyzer, whitespace_tokens
from kosparse.cli import run
from kosparse.io import load_params, read_jsonl, write_json
from kosparse.retrieval import BM25Retriever, evaluate_retriever

log = logging.getLogger("08_evaluate")

EVAL_SPLITS = ("validation", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("retriever", choices=["bm25"])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out", default="metrics/bm25.json")
    args = parser.parse_args()
    cfg = load_params(args.params)["evaluate"]

    # 1. The collection and the real held-out queries.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    pairs = {split: read_jsonl(collect / f"pairs_{split}.jsonl") for split in EVAL_SPLITS}
    text_of = (lambda d: f"{d['title']} {d['text']}") if cfg["index_title"] else (lambda d: d["text"])

    # 2. BM25 over whitespace words and over Kiwi content morphemes.
    bm25 = cfg["bm25"]
    retrievers = [
        BM25Retriever("bm25_whitespace", whitespace_tokens, bm25["k1"], bm25["b"], bm25["method"]),
        BM25Retriever("bm25_kiwi", KiwiAnalyzer(cfg["kiwi_keep_tags"]), bm25["k1"], bm25["b"], bm25["method"]),
    ]

    # 3. Same harness for every retriever.
    results = {}
    for retriever in retrievers:
        start = time.perf_counter()
        results[retriever.name] = evaluate_retriever(retriever, documents, pairs, cfg["top_k"], text_of)
        log.info(
            "%s (%.1f s): %s",
            retriever.name,
            time.perf_counter() - start,
            {d: s["test"]["ndcg@10"] for d, s in results[retriever.name].items()},
        )
    write_json(args.out, results)


if __name__ == "__main__":
    run(main)

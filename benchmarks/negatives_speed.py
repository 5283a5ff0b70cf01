"""Benchmark: hard-negative mining with bm25s vs rank_bm25 on the same Kiwi tokens.

Target (encoder v1 issue): bm25s at least 100× faster. rank_bm25 scores every
document in Python per query, so it runs on a sample of queries and its time
is scaled to all of them. Needs `make repro` (data/collect) first.

    python -m benchmarks.negatives_speed [--sample 200]
"""

import argparse
import time
from pathlib import Path

import bm25s
import numpy as np
from rank_bm25 import BM25Okapi

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.io import load_params, read_jsonl

TARGET_SPEEDUP = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--sample", type=int, default=200, help="queries timed with rank_bm25")
    args = parser.parse_args()
    params = load_params()
    k = params["negatives"]["k"] + 1
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    pairs = read_jsonl(collect / "pairs_train.jsonl")
    analyzer = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])

    fast_seconds, slow_seconds_scaled, queries_total = 0.0, 0.0, 0
    for source in sorted({p["source"] for p in pairs}):
        corpus = analyzer([d["text"] for d in documents if d["source"] == source])
        queries = analyzer([p["query"] for p in pairs if p["source"] == source])
        queries_total += len(queries)

        start = time.perf_counter()
        model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        model.index(corpus, show_progress=False)
        model.retrieve(queries, k=k, show_progress=False)
        fast_seconds += time.perf_counter() - start

        sample = queries[: args.sample]
        start = time.perf_counter()
        slow = BM25Okapi(corpus, k1=1.5, b=0.75)
        for query in sample:
            np.argpartition(-slow.get_scores(query), k)[:k]
        slow_seconds_scaled += (time.perf_counter() - start) * len(queries) / len(sample)

    speedup = slow_seconds_scaled / fast_seconds
    verdict = "PASS" if speedup >= TARGET_SPEEDUP else "FAIL"
    print(
        f"negatives_speed: {queries_total:,} queries; bm25s {fast_seconds:.2f} s, "
        f"rank_bm25 ≈ {slow_seconds_scaled:.0f} s (scaled from {args.sample} queries per source); "
        f"speedup {speedup:,.0f}× (target ≥ {TARGET_SPEEDUP:.0f}×): {verdict}"
    )


if __name__ == "__main__":
    run(main)

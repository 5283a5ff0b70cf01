"""Benchmark: IDF over 100k documents (real documents repeated) with the pipeline's tokenizer.

Target (issue: pipeline foundation): ≤ 30 s on 2 cores. Needs `make repro` first.

    python -m benchmarks.idf_speed [--docs 100000]
"""

import argparse
import time

from kosparse.cli import run
from kosparse.io import read_jsonl
from kosparse.model.idf import bm25_idf, document_frequencies, idf_table
from kosparse.model.tokenizer import load_tokenizer

TARGET_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--tokenizer-dir", default="data/tokenizer")
    args = parser.parse_args()

    real = [doc["text"] for doc in read_jsonl(args.documents)]
    texts = (real * (args.docs // len(real) + 1))[: args.docs]
    tok = load_tokenizer(args.tokenizer_dir)

    start = time.perf_counter()
    df = document_frequencies(tok, texts)
    idf_table(tok, bm25_idf(df, len(texts)))
    seconds = time.perf_counter() - start
    chars = sum(map(len, texts))
    verdict = "PASS" if seconds <= TARGET_SECONDS else "FAIL"
    print(
        f"idf_speed: {len(texts):,} documents ({chars / 1e6:.1f}M chars) in {seconds:.1f} s "
        f"({len(texts) / seconds:,.0f} docs/s); target ≤ {TARGET_SECONDS:.0f} s: {verdict}"
    )


if __name__ == "__main__":
    run(main)

"""Benchmark: a trained sparse model's encoding speed against its floors.

- documents: SparseEncoder.encode_document vs the bare masked-LM forward pass on
  the same batches — target ≥ 90% of the bare throughput;
- queries: encode_query (tokenise + IDF lookup) vs the Kiwi analysis BM25 needs
  for the same queries — target ≤ 1.1× its cost.

    python -m benchmarks.encoder_speed [--model models/v1] [--docs 256]
"""

import argparse
import time
from pathlib import Path

import torch

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.io import load_params, read_jsonl
from kosparse.model.sparse_model import load_encoder


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/v1")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--docs", type=int, default=256)
    args = parser.parse_args()
    params = load_params()
    batch = params["evaluate"]["batch_size"]
    model = load_encoder(args.model)
    collect = Path(args.collect_dir)
    texts = [d["text"] for d in read_jsonl(collect / "documents.jsonl")][: args.docs]
    queries = [p["query"] for p in read_jsonl(collect / "pairs_test.jsonl")]

    # Documents: the bare forward pass on pre-tokenised batches vs the full encode (tokenise, forward, pool).
    document_module = model[0].sub_modules["document"][0]
    bert, tok, max_len = document_module.auto_model, model.tokenizer, document_module.max_seq_length
    batches = [tok(texts[i : i + batch], padding=True, truncation=True, max_length=max_len, return_tensors="pt")
               for i in range(0, len(texts), batch)]  # fmt: skip
    with torch.inference_mode():
        bare = best_of(2, lambda: [bert(**b).logits for b in batches])
    full = best_of(2, lambda: model.encode_document(texts, batch_size=batch, convert_to_sparse_tensor=True))
    doc_ratio = bare / full

    # Queries: IDF lookup vs the Kiwi analysis BM25 does for the same queries.
    kiwi = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])
    kiwi(queries[:10])  # load the Kiwi model outside the timing
    kiwi_seconds = best_of(3, lambda: kiwi(queries))
    query_seconds = best_of(3, lambda: model.encode_query(queries, batch_size=256, convert_to_sparse_tensor=True))
    query_ratio = query_seconds / kiwi_seconds

    print(
        f"encoder_speed documents: {len(texts)} docs, bare forward {len(texts) / bare:.1f} docs/s, "
        f"encode_document {len(texts) / full:.1f} docs/s → {doc_ratio:.1%} of bare "
        f"(target ≥ 90%): {'PASS' if doc_ratio >= 0.9 else 'FAIL'}"
    )
    print(
        f"encoder_speed queries: {len(queries)} queries, Kiwi {kiwi_seconds * 1e3:.0f} ms, "
        f"encode_query {query_seconds * 1e3:.0f} ms → {query_ratio:.2f}× (target ≤ 1.1×): "
        f"{'PASS' if query_ratio <= 1.1 else 'FAIL'}"
    )


if __name__ == "__main__":
    run(main)
